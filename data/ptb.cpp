#include "data/ptb.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.h"

namespace st {

namespace {

bool is_space(unsigned char b) { return b == ' ' || b == '\t' || b == '\r' || b == '\v' || b == '\f'; }

// A control byte that is neither whitespace nor the line end: the mark of a binary file.
bool is_control(unsigned char b) { return (b < 0x20 && !is_space(b) && b != '\n') || b == 0x7F; }

// Length of the well-formed UTF-8 sequence starting at s[i] (1 to 4), or 0 when it is not one:
// a stray continuation byte, a lead byte C0, C1 or F5..FF, a sequence cut short, an overlong
// form, a surrogate (U+D800..U+DFFF) or a code point above U+10FFFF (RFC 3629's table).
int utf8_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  int n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return n;
}

std::string hex_bytes(std::string_view s, size_t i, size_t count) {
  std::string out;
  char buf[8];
  for (size_t k = i; k < std::min(s.size(), i + count); ++k) {
    std::snprintf(buf, sizeof buf, "%s%02x", out.empty() ? "" : " ", static_cast<unsigned char>(s[k]));
    out += buf;
  }
  return out;
}

// A word of the options (the unknown word, the end-of-sentence word) must read as one text word.
void check_option_word(const std::string& word, const char* key) {
  for (size_t i = 0; i < word.size();) {
    const auto b = static_cast<unsigned char>(word[i]);
    ST_CHECK(!is_space(b) && b != '\n' && !is_control(b),
             "ptb: options." << key << " '" << word << "' holds whitespace or a control byte");
    const int n = utf8_length(word, i);
    ST_CHECK(n > 0, "ptb: options." << key << " is not valid UTF-8 (bytes " << hex_bytes(word, i, 4) << ")");
    i += n;
  }
}

// Builds the vocabularies over texts added in order. letters_[w] holds the character ids of word w
// (no symbols), set when the word is first seen; the spelling table is made at the end, when the
// longest word is known.
class Builder {
 public:
  explicit Builder(const PtbOptions& options) : options_(options) {
    options_.validate();
    v_.chars = {" ", "{", "}"};  // kPad, kStart, kEnd (Kim's symbols, for display)
    v_.words.push_back(options_.unknown_word);
    v_.word_ids[options_.unknown_word] = v_.unknown_word;
    letters_.emplace_back();  // the unknown word's symbol comes with its first token
  }

  std::vector<int64_t> add_text(std::string_view text, const std::string& name) {
    ST_CHECK(!text.empty(), "ptb: '" << name << "' is empty");
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // byte-order mark
    std::vector<int64_t> tokens;
    int64_t words = 0, line_number = 0;
    size_t start = 0;
    while (start < text.size()) {
      ++line_number;
      const size_t nl = text.find('\n', start);
      const std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      start = nl == std::string_view::npos ? text.size() : nl + 1;
      size_t i = 0;
      while (i < line.size()) {
        const auto b = static_cast<unsigned char>(line[i]);
        if (is_space(b)) {
          ++i;
          continue;
        }
        const size_t word_start = i;
        while (i < line.size() && !is_space(static_cast<unsigned char>(line[i]))) {
          const auto c = static_cast<unsigned char>(line[i]);
          if (is_control(c)) {
            char code[8];
            std::snprintf(code, sizeof code, "0x%02x", c);
            ST_THROW("ptb: " << name << ":" << line_number << ": control byte " << code << " at byte " << i + 1
                             << " of the line (a binary file?)");
          }
          const int n = utf8_length(line, i);
          ST_CHECK(n > 0, "ptb: " << name << ":" << line_number << ": invalid UTF-8 at byte " << i + 1
                                  << " of the line (bytes " << hex_bytes(line, i, 4) << ")");
          i += n;
        }
        const std::string_view word = line.substr(word_start, i - word_start);
        ST_CHECK(word != options_.end_of_sentence,
                 "ptb: " << name << ":" << line_number << ": the word '" << word
                         << "' is the end-of-sentence word appended to every line (choose another "
                            "PtbOptions::end_of_sentence)");
        tokens.push_back(add_word(word));
        ++words;
      }
      if (!options_.end_of_sentence.empty()) tokens.push_back(add_word(options_.end_of_sentence));
    }
    ST_CHECK(words > 0, "ptb: '" << name << "' has no words in its " << line_number << " line(s)");
    return tokens;
  }

  PtbVocabulary finish() {
    if (v_.unknown_char < 0) new_symbol();
    letters_[v_.unknown_word] = {v_.unknown_char};
    size_t longest = 0;
    for (const auto& l : letters_) longest = std::max(longest, l.size());
    const int64_t width = std::min<int64_t>(options_.max_word_length, static_cast<int64_t>(longest) + 2);
    v_.max_word_length = width;
    v_.spellings.assign(v_.words.size() * width, PtbVocabulary::kPad);
    for (size_t w = 0; w < letters_.size(); ++w) {
      int64_t* row = v_.spellings.data() + w * width;
      const int64_t kept = std::min<int64_t>(static_cast<int64_t>(letters_[w].size()), width - 2);
      row[0] = PtbVocabulary::kStart;
      std::copy(letters_[w].begin(), letters_[w].begin() + kept, row + 1);
      row[kept + 1] = PtbVocabulary::kEnd;
    }
    return std::move(v_);
  }

 private:
  int64_t add_word(std::string_view word) {
    auto [it, inserted] = v_.word_ids.emplace(std::string(word), v_.size());
    if (inserted) {
      v_.words.emplace_back(word);
      letters_.push_back(char_ids_of(word));
      if (word == options_.end_of_sentence) v_.end_of_sentence = it->second;
    } else if (it->second == v_.unknown_word && v_.unknown_char < 0) {
      new_symbol();  // the first "<unk>": its symbol takes the next character id, as in Kim's code
    }
    return it->second;
  }

  void new_symbol() {
    v_.unknown_char = v_.char_size();
    v_.chars.push_back("|");
  }

  // `word` is valid UTF-8 here (checked by add_text or PtbOptions::validate).
  std::vector<int64_t> char_ids_of(std::string_view word) {
    std::vector<int64_t> ids;
    for (size_t i = 0; i < word.size();) {
      const int n = utf8_length(word, i);
      std::string c(word.substr(i, n));
      auto [it, inserted] = v_.char_ids.emplace(c, v_.char_size());
      if (inserted) v_.chars.push_back(std::move(c));
      ids.push_back(it->second);
      i += n;
    }
    return ids;
  }

  PtbOptions options_;
  PtbVocabulary v_;
  std::vector<std::vector<int64_t>> letters_;  // [size()] character ids of each word
};

std::string read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  ST_CHECK(fs::exists(path, ec), "ptb: cannot open '" << path << "': no such file");
  ST_CHECK(fs::is_regular_file(path, ec), "ptb: '" << path << "' is not a regular file");
  std::ifstream in(path, std::ios::binary);
  ST_CHECK(in, "ptb: cannot open '" << path << "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ST_CHECK(!in.bad(), "ptb: read error in '" << path << "'");
  return text;
}

}  // namespace

void PtbOptions::validate() const {
  ST_CHECK(!unknown_word.empty(), "ptb: options.unknown_word must not be empty");
  check_option_word(unknown_word, "unknown_word");
  check_option_word(end_of_sentence, "end_of_sentence");
  ST_CHECK(end_of_sentence != unknown_word,
           "ptb: options.end_of_sentence and options.unknown_word are both '" << unknown_word << "'");
  ST_CHECK(max_word_length >= 3, "ptb: options.max_word_length must be >= 3 (start, one character, end), got "
                                     << max_word_length);
}

int64_t PtbVocabulary::word_id(const std::string& word) const {
  const auto it = word_ids.find(word);
  return it == word_ids.end() ? unknown_word : it->second;
}

std::vector<int64_t> PtbVocabulary::spelling(int64_t id) const {
  ST_CHECK(id >= 0 && id < size(), "ptb: word id " << id << " outside [0, " << size() << ")");
  const auto row = spellings.begin() + id * max_word_length;
  return std::vector<int64_t>(row, row + max_word_length);
}

std::string PtbVocabulary::spelled(int64_t id) const {
  std::string out;
  for (int64_t c : spelling(id))
    if (c != kPad) out += chars[c];
  return out;
}

PtbText read_ptb_text(std::string_view text, const std::string& name, const PtbOptions& options) {
  Builder builder(options);
  PtbText out;
  out.tokens = builder.add_text(text, name);
  out.vocab = builder.finish();
  return out;
}

PtbCorpus read_ptb_files(const std::string& train, const std::string& valid, const std::string& test,
                         const PtbOptions& options) {
  Builder builder(options);
  PtbCorpus corpus;
  corpus.train = std::make_shared<const std::vector<int64_t>>(builder.add_text(read_file(train), train));
  corpus.valid = std::make_shared<const std::vector<int64_t>>(builder.add_text(read_file(valid), valid));
  corpus.test = std::make_shared<const std::vector<int64_t>>(builder.add_text(read_file(test), test));
  corpus.vocab = builder.finish();
  return corpus;
}

PtbCorpus read_ptb(const std::string& dir, const PtbOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  ST_CHECK(fs::is_directory(dir, ec), "ptb: data directory '" << dir << "' does not exist");
  auto split = [&](const std::string& name) {
    for (const std::string& file : {"ptb." + name + ".txt", name + ".txt"}) {
      const fs::path p = fs::path(dir) / file;
      if (fs::exists(p, ec)) return p.string();
    }
    ST_THROW("ptb: no ptb." << name << ".txt or " << name << ".txt in '" << dir << "'");
  };
  const std::string train = split("train"), valid = split("valid"), test = split("test");
  return read_ptb_files(train, valid, test, options);
}

}  // namespace st
