// Penn Treebank reader (data/ptb.h): vocabularies, spellings and every bad input on small files
// the tests write; the counts on the real files when they are present (STRASSEN_PTB_DIR, or
// ../shared/data/ptb beside the source tree, passed in as ST_PTB_DIR).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/ptb.h"
#include "data/token_streams.h"

using namespace st;
namespace fs = std::filesystem;
using Ids = std::vector<int64_t>;

namespace {

fs::path temp_dir(const char* name) {
  fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

// A corpus directory with Mikolov's file names.
fs::path corpus_dir(const char* name, const std::string& train, const std::string& valid, const std::string& test) {
  fs::path d = temp_dir(name);
  write(d / "ptb.train.txt", train);
  write(d / "ptb.valid.txt", valid);
  write(d / "ptb.test.txt", test);
  return d;
}

// The error read_ptb_text throws on `text`, "" when none.
std::string error_of(const std::string& text, const PtbOptions& options = {}) {
  try {
    read_ptb_text(text, "t.txt", options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string ptb_dir() {
  if (const char* env = std::getenv("STRASSEN_PTB_DIR"); env && *env) return env;
#ifdef ST_PTB_DIR
  return ST_PTB_DIR;
#else
  return "";
#endif
}

}  // namespace

TEST_CASE("ptb word ids: unknown word 0, then first seen over train, valid, test", "[data][ptb]") {
  const fs::path d = corpus_dir("st_ptb_ids", " the cat <unk> \n a cat \n", " the dog \n", " a bird\n");
  const PtbCorpus c = read_ptb(d.string());
  const PtbVocabulary& v = c.vocab;
  // 0 <unk>, 1 the, 2 cat, 3 + (end of the first line), 4 a, 5 dog, 6 bird
  CHECK(v.words == std::vector<std::string>{"<unk>", "the", "cat", "+", "a", "dog", "bird"});
  CHECK(v.unknown_word == 0);
  CHECK(v.end_of_sentence == 3);
  CHECK(*c.train == Ids{1, 2, 0, 3, 4, 2, 3});
  CHECK(*c.valid == Ids{1, 5, 3});
  CHECK(*c.test == Ids{4, 6, 3});
  CHECK(v.word_id("dog") == 5);
  CHECK(v.word_id("zebra") == v.unknown_word);
  CHECK(v.word_ids.size() == v.words.size());
}

TEST_CASE("ptb characters: symbols 0..2, then first seen, <unk> with its own symbol", "[data][ptb]") {
  const PtbText t = read_ptb_text("ab <unk> b|\nba\n", "t.txt");
  const PtbVocabulary& v = t.vocab;
  // 0 pad, 1 start, 2 end, 3 a, 4 b, 5 the <unk> symbol (where the first <unk> is), 6 the text '|',
  // 7 '+' (the end-of-sentence word's character)
  CHECK(v.chars == std::vector<std::string>{" ", "{", "}", "a", "b", "|", "|", "+"});
  CHECK(v.unknown_char == 5);
  CHECK(v.char_ids.at("|") == 6);
  CHECK(v.char_ids.count("{") == 0);  // symbols are not text characters
  // Longest word: "ab" / "b|" / "ba" (2 characters) -> W = 4.
  REQUIRE(v.max_word_length == 4);
  CHECK(v.spelling(v.unknown_word) == Ids{1, 5, 2, 0});
  CHECK(v.spelling(v.word_id("ab")) == Ids{1, 3, 4, 2});
  CHECK(v.spelling(v.word_id("b|")) == Ids{1, 4, 6, 2});
  CHECK(v.spelling(v.end_of_sentence) == Ids{1, 7, 2, 0});
  CHECK(v.spelled(v.word_id("ba")) == "{ba}");
  CHECK(v.spelled(v.unknown_word) == "{|}");
  CHECK(v.spellings.size() == static_cast<size_t>(v.size() * v.max_word_length));
  CHECK_THROWS_WITH(v.spelling(v.size()), Catch::Contains("outside"));

  // No <unk> token anywhere: the symbol comes after every character.
  const PtbText u = read_ptb_text("xy\n", "u.txt");
  CHECK(u.vocab.unknown_char == 6);  // x 3, y 4, + 5
  CHECK(u.vocab.spelled(0) == "{|}");
}

TEST_CASE("ptb lines: every line ends in the end-of-sentence word", "[data][ptb]") {
  const Ids with_newline = read_ptb_text("a b\nc\n", "t.txt").tokens;
  CHECK(with_newline == Ids{1, 2, 3, 4, 3});
  // No trailing newline: the last line still counts, with its end token.
  CHECK(read_ptb_text("a b\nc", "t.txt").tokens == with_newline);
  // Windows line ends: no "\r" word, the same tokens.
  const PtbText crlf = read_ptb_text("a b\r\nc\r\n", "t.txt");
  CHECK(crlf.tokens == with_newline);
  CHECK(crlf.vocab.word_ids.count("\r") == 0);
  CHECK(crlf.vocab.char_ids.count("\r") == 0);
  // A blank line is a line: it gives an end token alone (as Kim's code), and tabs separate words.
  CHECK(read_ptb_text("a\t b\n\nc\n", "t.txt").tokens == Ids{1, 2, 3, 3, 4, 3});
  // A byte-order mark is not a character.
  CHECK(read_ptb_text("\xEF\xBB\xBF" "a\n", "t.txt").vocab.words == std::vector<std::string>{"<unk>", "a", "+"});
  // Without an end-of-sentence word nothing is appended.
  PtbOptions none;
  none.end_of_sentence = "";
  const PtbText n = read_ptb_text("a b\nc\n", "t.txt", none);
  CHECK(n.tokens == Ids{1, 2, 3});
  CHECK(n.vocab.end_of_sentence == -1);
}

TEST_CASE("ptb UTF-8: a multi-byte sequence is one character", "[data][ptb]") {
  const PtbText t = read_ptb_text("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80\n", "t.txt");
  const PtbVocabulary& v = t.vocab;
  // "café" is 4 characters: W = 6.
  REQUIRE(v.max_word_length == 6);
  const int64_t e = v.char_ids.at("\xC3\xA9");
  CHECK(v.spelling(v.word_id("caf\xC3\xA9")) == Ids{1, v.char_ids.at("c"), v.char_ids.at("a"), v.char_ids.at("f"), e, 2});
  CHECK(v.spelling(v.word_id("\xE6\x97\xA5\xE6\x9C\xAC")) ==
        Ids{1, v.char_ids.at("\xE6\x97\xA5"), v.char_ids.at("\xE6\x9C\xAC"), 2, 0, 0});
  CHECK(v.spelling(v.word_id("\xF0\x9F\x98\x80")) == Ids{1, v.char_ids.at("\xF0\x9F\x98\x80"), 2, 0, 0, 0});
  CHECK(v.chars[e] == "\xC3\xA9");
}

TEST_CASE("ptb invalid UTF-8 is an error naming the file and the line", "[data][ptb]") {
  for (const std::string& bad : {std::string("\x80"),              // stray continuation byte
                                std::string("\xC3"),              // cut short by the line end
                                std::string("\xC3(x"),            // cut short by an ASCII byte
                                std::string("\xC0\xAF"),          // overlong '/'
                                std::string("\xE0\x80\xAF"),      // overlong, 3 bytes
                                std::string("\xED\xA0\x80"),      // surrogate U+D800
                                std::string("\xF4\x90\x80\x80"),  // above U+10FFFF
                                std::string("\xF5\x80\x80\x80"), std::string("\xFF")}) {
    const std::string msg = error_of("good line\nok w" + bad + "\nrd\n");
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains("t.txt:2:") && Catch::Contains("invalid UTF-8") && Catch::Contains("byte 5"));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("ptb binary bytes are an error naming the file and the line", "[data][ptb]") {
  for (const char c : {'\0', '\x01', '\x08', '\x1b', '\x7f'}) {
    const std::string msg = error_of(std::string("a\nb\nab") + c + "cd\n");
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains("t.txt:3:") && Catch::Contains("control byte") && Catch::Contains("byte 3"));
  }
  // Random bytes of a binary file stop at the first bad one.
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>((i * 37) % 256));
  CHECK_THAT(error_of(binary), Catch::Contains("t.txt:1:"));
}

TEST_CASE("ptb a 5,000-character word is cut to the cap, its end symbol kept", "[data][ptb]") {
  const std::string long_word(5000, 'x');
  const PtbText t = read_ptb_text("a " + long_word + " b\n", "t.txt");
  const PtbVocabulary& v = t.vocab;
  REQUIRE(v.max_word_length == 65);  // min(65, 5000 + 2)
  const Ids row = v.spelling(v.word_id(long_word));
  CHECK(row.front() == PtbVocabulary::kStart);
  CHECK(row.back() == PtbVocabulary::kEnd);
  CHECK(std::count(row.begin(), row.end(), v.char_ids.at("x")) == 63);
  CHECK(v.spelling(v.word_id("a")) == [&] {
    Ids r(65, PtbVocabulary::kPad);
    r[0] = 1, r[1] = v.char_ids.at("a"), r[2] = 2;
    return r;
  }());
  CHECK(t.tokens == Ids{1, 2, 3, 4});
  // A smaller cap cuts the same way.
  PtbOptions o;
  o.max_word_length = 4;
  const PtbText s = read_ptb_text("abcdef ab\n", "t.txt", o);
  CHECK(s.vocab.spelled(1) == "{ab}");
  CHECK(s.vocab.spelled(2) == "{ab}");
}

TEST_CASE("ptb missing, empty and wordless files are errors naming the file", "[data][ptb]") {
  const fs::path d = temp_dir("st_ptb_bad_files");
  const std::string ok = write(d / "ok.txt", " a b \n");
  const std::string empty = write(d / "empty.txt", "");
  const std::string blank = write(d / "blank.txt", "\n \n\r\n");
  CHECK_THROWS_WITH(read_ptb_files(ok, (d / "missing.txt").string(), ok),
                    Catch::Contains("missing.txt") && Catch::Contains("no such file"));
  CHECK_THROWS_WITH(read_ptb_files(ok, ok, empty), Catch::Contains("empty.txt") && Catch::Contains("empty"));
  CHECK_THROWS_WITH(read_ptb_files(blank, ok, ok), Catch::Contains("blank.txt") && Catch::Contains("no words"));
  CHECK_THROWS_WITH(read_ptb_files(ok, d.string(), ok), Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(read_ptb((d / "nope").string()), Catch::Contains("nope") && Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(read_ptb(d.string()), Catch::Contains("ptb.train.txt or train.txt"));
  // Kim's names are found too; the bad line of a later split is named with its file.
  write(d / "train.txt", " a b \n");
  write(d / "valid.txt", " a \n");
  write(d / "test.txt", " b \n c\x01 \n");
  CHECK_THROWS_WITH(read_ptb(d.string()), Catch::Contains("test.txt:2:"));
  write(d / "test.txt", " b \n");
  CHECK(read_ptb(d.string()).vocab.size() == 4);
}

TEST_CASE("ptb the end-of-sentence word in the text and bad options are errors", "[data][ptb]") {
  CHECK_THAT(error_of("a b\nc + d\n"), Catch::Contains("t.txt:2:") && Catch::Contains("end-of-sentence"));
  CHECK(error_of("a+b\n").empty());  // '+' inside a word is a character like any other
  PtbOptions o;
  o.end_of_sentence = "<eos>";
  CHECK(read_ptb_text("a + b\n", "t.txt", o).vocab.words == std::vector<std::string>{"<unk>", "a", "+", "b", "<eos>"});
  o.end_of_sentence = "<unk>";
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("both"));
  o.end_of_sentence = "a b";
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("whitespace"));
  o = PtbOptions{};
  o.unknown_word = "";
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("unknown_word"));
  o = PtbOptions{};
  o.max_word_length = 2;
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("max_word_length"));
}

TEST_CASE("ptb a split feeds TokenStreamLoader", "[data][ptb]") {
  // 100 lines of 6 words + the end token: N = 700 tokens; B = 4, T = 10: L = 699 / 4 = 174.
  std::string text;
  for (int i = 0; i < 100; ++i) text += " w" + std::to_string(i % 7) + " x y z w u\n";
  const fs::path d = corpus_dir("st_ptb_streams", text, " x y \n", " z \n");
  const PtbCorpus c = read_ptb(d.string());
  REQUIRE(c.train->size() == 700);
  TokenStreamOptions o;
  o.streams = 4;
  o.steps = 10;
  TokenStreamLoader loader(c.train, o);
  CHECK(loader.stream_length() == 174);
  CHECK(loader.batches_per_epoch() == 18);  // 17 blocks of 10 steps and one of 4
  const Batch b = loader.make_batch(0, 0);
  CHECK(b.tokens[0] == (*c.train)[0]);
  CHECK(b.targets[0] == (*c.train)[1]);
  CHECK(b.tokens[1 * 10] == (*c.train)[174]);  // stream 1 starts at L
}

TEST_CASE("ptb real files: Kim's counts and the B = 20, T = 35 blocks", "[data][ptb][real]") {
  const std::string dir = ptb_dir();
  if (dir.empty() || !fs::exists(fs::path(dir) / "ptb.train.txt")) {
    WARN("Penn Treebank files not found in '" << dir
                                              << "' (set STRASSEN_PTB_DIR to the folder of ptb.train.txt): skipped");
    return;
  }
  const PtbCorpus c = read_ptb(dir);
  const PtbVocabulary& v = c.vocab;
  CHECK(v.size() == 10000);             // 9,999 words of train (with <unk> and N) + the end token
  CHECK(c.train->size() == 929589);     // 887,521 words + 42,068 end tokens
  CHECK(c.valid->size() == 73760);
  CHECK(c.test->size() == 82430);
  CHECK(v.char_size() == 51);           // pad, start, end, the <unk> symbol and 47 characters
  CHECK(v.max_word_length == 21);
  CHECK(std::count(c.train->begin(), c.train->end(), v.end_of_sentence) == 42068);
  // The first training line: " aer banknote berlitz ... wachter " (24 words), then '+'.
  CHECK(v.words[1] == "aer");
  CHECK(v.end_of_sentence == 25);
  CHECK(v.words[25] == "+");
  CHECK(v.words[0] == "<unk>");
  CHECK(v.spelled(0) == "{|}");
  CHECK(v.spelled(v.word_id("banknote")) == "{banknote}");
  CHECK(v.unknown_char == 29);  // after "aer ... wachter", '+', "pierre", "N", ..., as in Kim's code
  // Valid and test bring no new word: the vocabulary is train's.
  const PtbText train_only = read_ptb_text(
      [&] {
        std::ifstream in(fs::path(dir) / "ptb.train.txt", std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      }(),
      "ptb.train.txt");
  CHECK(train_only.vocab.words == v.words);

  // TokenStreamLoader's rule: L = (929,589 − 1) / 20 = 46,479 tokens per stream, 1,327 blocks of
  // 35 steps and one of 34 (1,327 with drop_last). Kim's loader also gives 1,327 blocks, cutting the
  // corpus to 1,327 · 700 = 928,900 tokens (46,445 per stream).
  TokenStreamOptions o;
  o.streams = 20;
  o.steps = 35;
  TokenStreamLoader loader(c.train, o);
  CHECK(loader.stream_length() == 46479);
  CHECK(loader.batches_per_epoch() == 1328);
  CHECK(loader.make_batch(0, 1327).steps == 34);
  o.drop_last = true;
  CHECK(TokenStreamLoader(c.train, o).batches_per_epoch() == 1327);
  CHECK(TokenStreamLoader(c.valid, o).batches_per_epoch() == 105);
}
