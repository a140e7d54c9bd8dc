#pragma once
// CharLm: the character-aware language model of Kim, Jernite, Sontag and Rush (AAAI 2016), the
// network StrassenNets compresses in its Penn Treebank table (strassennets.md §5). Per token:
//   its spelling [L] (from the table given at construction) -> character embedding [L, E]
//   -> CharConvBank [F] (conv widths w_i with filters_i maps, tanh, max over positions)
//   -> highway layers [F] -> LSTM layers of H units, dropout after each -> decoder [V] (Linear)
// as yoonkim/lstm-char-cnn (model/LSTMTDNN.lua with -use_words 0): no dropout before the first
// LSTM layer, the padding character embedded as zeros. Every parameter is drawn uniform in
// ±init_range, then each highway gate bias is shifted by transform_bias (Kim's AddConstant(−2)
// after a uniform bias) and the padding character's row is zeroed.
//   "large" (default): E 15, widths 1..7 with 50,100,150,200,200,200,200 maps (F 1100),
//                      2 highway layers, 2×650 LSTM: 19,373,165 parameters on PTB (V 10,000,
//                      51 characters); Kim et al. report 19 M.
//   "small":           E 15, widths 1..6 with 25·w maps (F 525), 1 highway layer, 2×300 LSTM:
//                      5,312,515 parameters on PTB; Kim et al. report 5 M.
// A SequenceModel (layers/sequence_model.h): state = {h_1, c_1, h_2, c_2}, each [rows, H].
// Parameters: "char_embedding.weight" [C, E], "cnn.width<w>.{weight,bias}", "highway.<i>.{hidden,
// gate}.{weight,bias}", "lstm.{weight,bias}_{ih,hh}_l<l>", "decoder.{weight,bias}".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/char_conv_bank.h"
#include "layers/embedding.h"
#include "layers/highway.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "layers/sequence_model.h"
#include "layers/sequential.h"

namespace st {

// The spelling of every word of a vocabulary, in character ids: data/ptb.h's PtbVocabulary
// (words = size(), length = max_word_length, characters = char_size(), padding = kPad, ids =
// spellings). Row w is word w's characters, padded to `length`.
struct Spellings {
  int64_t words = 0;          // V
  int64_t length = 0;         // L
  int64_t characters = 0;     // C: ids are in [0, C)
  int64_t padding = 0;        // the padding character, embedded as zeros; -1 for none
  std::vector<int64_t> ids;   // [V, L], row-major

  // Throws st::Error naming the value: non-positive sizes, ids.size() != V·L, an id outside
  // [0, C) (with its word and position), a padding id outside [-1, C).
  void validate() const;
};

struct CharLmOptions {
  int64_t char_embedding = 15;                                     // E
  std::vector<int64_t> widths{1, 2, 3, 4, 5, 6, 7};                // w_i
  std::vector<int64_t> filters{50, 100, 150, 200, 200, 200, 200};  // filters_i
  int64_t highway_layers = 2;                                      // >= 0
  int64_t hidden = 650;                                            // H
  int64_t layers = 2;                                              // LSTM layers
  double dropout = 0.5;
  double init_range = 0.05;
  double transform_bias = -2;

  static CharLmOptions large() { return {}; }
  static CharLmOptions small();
  // "large" or "small"; throws st::Error naming an unknown preset.
  static CharLmOptions preset(const std::string& name);

  // Throws st::Error naming the field: the CharConvBank rules (CharConvBankOptions::validate),
  // negative highway_layers, non-positive hidden or layers, dropout outside [0, 1),
  // non-positive init_range.
  void validate() const;
};

class CharLm : public SequenceModel {
 public:
  // Throws st::Error for invalid options or spellings, and when the widest convolution is longer
  // than the spellings (a width above L).
  CharLm(const CharLmOptions& options, const Spellings& spellings, Generator& gen);
  // tokens [rows, steps] word ids in [0, V) (st::Error naming a bad one and its position).
  Tensor forward(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps, std::vector<Tensor>& state) override;
  int64_t vocabulary() const override { return spellings_.words; }
  Generator& dropout_generator() override { return dropout_gen_; }
  std::string describe() const override;
  const CharLmOptions& options() const { return options_; }
  const Spellings& spellings() const { return spellings_; }

 private:
  // The spellings of `tokens` [rows, steps] in time-major order: [steps · rows, L] character ids.
  std::vector<int64_t> spell_time_major(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps) const;
  void init_parameters(Generator& gen);

  CharLmOptions options_;
  Spellings spellings_;
  Generator dropout_gen_;
  std::shared_ptr<Embedding> char_embedding_;
  std::shared_ptr<CharConvBank> cnn_;
  std::shared_ptr<Sequential> highway_;
  std::vector<std::shared_ptr<Highway>> highways_;  // the layers of highway_
  std::shared_ptr<Lstm> lstm_;
  std::shared_ptr<Linear> decoder_;
};

}  // namespace st
