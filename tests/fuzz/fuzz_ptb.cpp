// libFuzzer target for the Penn Treebank text reader (data/ptb.h): any bytes either read as a
// corpus whose vocabulary, token ids and spelling table are consistent, or give one st::Error line.
// Anything else (another exception, a crash, a sanitizer report, a broken invariant) is a finding.
//
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     tests/fuzz/fuzz_ptb.cpp data/ptb.cpp core/error.cpp -o fuzz_ptb && ./fuzz_ptb
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "data/ptb.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void check(const st::PtbText& t) {
  const st::PtbVocabulary& v = t.vocab;
  const int64_t w = v.max_word_length;
  require(v.size() >= 2 && v.words[v.unknown_word] == "<unk>");  // the unknown word and '+'
  require(v.end_of_sentence > 0 && v.end_of_sentence < v.size() && v.words[v.end_of_sentence] == "+");
  require(static_cast<int64_t>(v.word_ids.size()) == v.size());
  require(w >= 3 && w <= 65);
  require(v.unknown_char > st::PtbVocabulary::kEnd && v.unknown_char < v.char_size());
  require(static_cast<int64_t>(v.spellings.size()) == v.size() * w);
  require(!t.tokens.empty() && t.tokens.back() == v.end_of_sentence);
  for (int64_t id : t.tokens) require(id >= 0 && id < v.size());
  for (int64_t r = 0; r < v.size(); ++r) {
    const int64_t* row = v.spellings.data() + r * w;
    require(row[0] == st::PtbVocabulary::kStart);
    int64_t k = 1;
    while (k < w && row[k] > st::PtbVocabulary::kEnd) require(row[k++] < v.char_size());
    require(k < w && row[k] == st::PtbVocabulary::kEnd);  // the end symbol is never cut off
    for (++k; k < w; ++k) require(row[k] == st::PtbVocabulary::kPad);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    check(st::read_ptb_text(text, "fuzz.txt"));
  } catch (const st::Error& e) {
    const std::string_view what = e.what();
    require(what.find('\n') == std::string_view::npos && what.find("fuzz.txt") != std::string_view::npos);
  }
  return 0;
}
