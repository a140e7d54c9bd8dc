#pragma once
// Penn Treebank reader: Mikolov's word-level files (ptb.train.txt, ptb.valid.txt, ptb.test.txt;
// one sentence per line, words separated by spaces) as token ids for TokenStreamLoader
// (data/token_streams.h), with the word and character vocabularies and the spelling table a
// character-aware model embeds (Kim, Jernite, Sontag, Rush 2016). The conventions are those of
// Kim's reference code (yoonkim/lstm-char-cnn, util/BatchLoaderUnk.lua, with main.lua's tokens).
//
// Text. A file is lines split at '\n'; the last line counts without a trailing newline. Words are
// the runs of non-whitespace bytes (whitespace: space, \t, \r, \v, \f, as Lua's %s, so a Windows
// "\r\n" leaves no "\r" word). The end-of-sentence word (Kim's "+") is appended to every line, a
// blank one included. The word "<unk>" is the unknown word. Text is UTF-8: a character is one code
// point (a multi-byte sequence is one character); a leading byte-order mark is skipped.
//
// Word ids (one vocabulary over the three splits, read in the order train, valid, test):
//   0                    the unknown word "<unk>", whether or not it occurs
//   1, 2, ...            every other word in the order it is first seen, the end-of-sentence word
//                        included (on PTB: after the 24 other words of the first training line, so
//                        id 25)
// Kim's code assigns the same ids, 1-based (its idx2word starts with the unknown word).
//
// Character ids (one vocabulary over the three splits):
//   0 kPad   padding after the end-of-word symbol (Kim's ' ')
//   1 kStart start-of-word symbol (Kim's '{')
//   2 kEnd   end-of-word symbol (Kim's '}')
//   3, ...   every character in the order it is first seen in the token stream, and the unknown
//            word's own symbol (Kim's '|') where the first "<unk>" token is (after all characters
//            when no line has one). On PTB: 51 in all (3 symbols, the unknown-word symbol and 47
//            characters, '+' among them).
// The symbols are ids, not characters of the text: a '{', '}' or '|' in a word gets its own id, and
// "<unk>" inside a longer word is plain text (Kim's code deletes '{' and '}', and rewrites every
// "<unk>" to the text character '|' before it splits words; PTB has none of '{', '}', '|', and
// "<unk>" only as a word). The end-of-sentence word is spelled with its text characters ('+').
//
// Spelling table spellings [vocabulary size, max_word_length], row-major, character ids: row w is
// kStart, the characters of word w, kEnd, then kPad to the end, where
//   max_word_length = min(options.max_word_length, longest word in characters + 2)   (21 on PTB).
// A longer word keeps its first max_word_length − 2 characters and its kEnd. (Kim's code means
// the same but its fix-up runs after the copy, so its truncated rows end without '}'; on PTB no
// word is truncated.) Two long words sharing the kept prefix have the same row but their own ids.
//
// Bad input is one st::Error line naming the file and, where there is one, the line:
// a missing file or directory, an empty file (no bytes, or no word in any line), a control byte
// other than the whitespace above (NUL, other binary bytes), invalid UTF-8 (a stray continuation
// byte, a truncated, overlong or surrogate sequence, a code point above U+10FFFF), and a word that
// is the end-of-sentence word itself ("+" in the text would be confused with the appended one).
//
// Batching. TokenStreamLoader cuts a split into B streams of L = (N − 1) / B tokens with the true
// next token as every target. Kim's loader instead truncates train and valid to a multiple of
// B·T, cuts that into B rows of N' / B tokens and wraps the very last target to the split's first
// token; the test split it serves whole as one stream (B copies of it), the last target wrapped too.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace st {

struct PtbOptions {
  std::string unknown_word = "<unk>";    // the token of the unknown word (word id 0)
  std::string end_of_sentence = "+";     // appended to every line; "" appends nothing (Kim's -EOS '')
  int64_t max_word_length = 65;          // cap on the spelling length (Kim's -max_word_l), >= 3

  // Throws st::Error on an empty unknown word, a word containing whitespace or control bytes, an
  // end-of-sentence word equal to the unknown word, or max_word_length < 3.
  void validate() const;
};

struct PtbVocabulary {
  static constexpr int64_t kPad = 0, kStart = 1, kEnd = 2;

  std::vector<std::string> words;                       // [size()] word id -> word, UTF-8
  std::unordered_map<std::string, int64_t> word_ids;    // word -> id
  std::vector<std::string> chars;                       // [char_size()] char id -> character (UTF-8)
                                                        // or symbol: " ", "{", "}", "|" (display only)
  std::unordered_map<std::string, int64_t> char_ids;    // text character (UTF-8) -> id; no symbols
  int64_t unknown_word = 0;
  int64_t end_of_sentence = -1;                         // its word id; -1 with options.end_of_sentence ""
  int64_t unknown_char = -1;                            // the unknown word's character symbol
  int64_t max_word_length = 0;                          // W
  std::vector<int64_t> spellings;                       // [size(), W] character ids

  int64_t size() const { return static_cast<int64_t>(words.size()); }
  int64_t char_size() const { return static_cast<int64_t>(chars.size()); }
  // The id of `word`, or unknown_word when it is not in the vocabulary.
  int64_t word_id(const std::string& word) const;
  // Row `id` of the spelling table (W ids). Throws st::Error when id is outside [0, size()).
  std::vector<int64_t> spelling(int64_t id) const;
  // Row `id` read back as text, symbols included, e.g. "{cat}" (padding left out).
  std::string spelled(int64_t id) const;
};

// The three splits of a corpus over one vocabulary; each split is the token ids of its file, a
// line's words followed by its end-of-sentence token, ready for TokenStreamLoader.
struct PtbCorpus {
  PtbVocabulary vocab;
  std::shared_ptr<const std::vector<int64_t>> train, valid, test;
};

// Reads <dir>/ptb.{train,valid,test}.txt (Mikolov's names) or, when those are absent,
// <dir>/{train,valid,test}.txt (Kim's). Throws st::Error naming the directory when it or a split
// is missing, and as read_ptb_files on bad files.
PtbCorpus read_ptb(const std::string& dir, const PtbOptions& options = {});

// Reads the three files, train first (the vocabulary order). Throws st::Error as described above.
PtbCorpus read_ptb_files(const std::string& train, const std::string& valid, const std::string& test,
                         const PtbOptions& options = {});

// One text in memory, with a vocabulary of its own: what the tests and the fuzz target read. `name`
// stands for the file in error messages. Throws st::Error as read_ptb_files.
struct PtbText {
  PtbVocabulary vocab;
  std::vector<int64_t> tokens;
};
PtbText read_ptb_text(std::string_view text, const std::string& name, const PtbOptions& options = {});

}  // namespace st
