#pragma once
// WordLstmLm: the word-level LSTM language model of Zaremba, Sutskever and Vinyals (2014):
//   embedding [V, E] -> dropout -> L LSTM layers of H units (dropout between layers) -> dropout
//   -> linear decoder [V, H] + bias,
// every parameter drawn uniform in ±init_range. "medium": E = H = 650, L = 2, dropout 0.5.
// A SequenceModel (layers/sequence_model.h): state = {h_1, c_1, ..., h_L, c_L}, each [rows, H].
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/sequence_model.h"

namespace st {

struct WordLmOptions {
  int64_t vocabulary = 10000;  // V
  int64_t embedding = 650;     // E
  int64_t hidden = 650;        // H
  int64_t layers = 2;          // L
  double dropout = 0.5;
  double init_range = 0.05;

  // Throws st::Error naming the field for a non-positive size or dropout outside [0, 1).
  void validate() const;
};

class WordLstmLm : public SequenceModel {
 public:
  WordLstmLm(const WordLmOptions& options, Generator& gen);
  Tensor forward(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps, std::vector<Tensor>& state) override;
  int64_t vocabulary() const override { return options_.vocabulary; }
  Generator& dropout_generator() override { return dropout_gen_; }
  std::string describe() const override;
  const WordLmOptions& options() const { return options_; }

 private:
  WordLmOptions options_;
  Tensor* embedding_ = nullptr;
  struct LstmWeights {
    Tensor *w_ih, *w_hh, *b_ih, *b_hh;
  };
  std::vector<LstmWeights> lstm_;
  Tensor* decoder_w_ = nullptr;
  Tensor* decoder_b_ = nullptr;
  Generator dropout_gen_;
};

}  // namespace st
