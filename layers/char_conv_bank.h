#pragma once
// CharConvBank: the character CNN of Kim, Jernite, Sontag and Rush (2016). For each width w_i of
// the options, filters_i convolutions of width w_i over a word's character embeddings, without
// padding, then tanh and the max over positions; the maxima of every width, concatenated.
//   x [N, L, E]: N words of L characters (the spelling, padded) with E-dimensional embeddings
//   -> [N, F], F = sum_i filters_i: columns [F_0 + ... + F_{i-1}, + F_i) come from width w_i
// Every width must be at most L. Parameters per width, "width<w>.weight" [filters_i, w, E] and
// "width<w>.bias" [filters_i] (conv_max_over_time's layout: weight[f, k, e] meets character t + k,
// feature e), initialised as PyTorch's Conv1d: U(±1/sqrt(w·E)).
// The max is taken before the tanh: tanh is increasing, so max_t tanh(z_t) = tanh(max_t z_t),
// and the op (core/ops/temporal_conv.h) never stores the responses at all positions.
//
// Inference cost (layers/countable.h): one multiply-accumulate per weight tap and position,
//   mults = adds = N · sum_i filters_i · (L − w_i + 1) · w_i · E
// (the bias and tanh not counted, as for Conv2d); weights and biases at 32 bits.
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/countable.h"
#include "layers/layer.h"

namespace st {

struct CharConvBankOptions {
  int64_t embedding = 15;                                    // E
  std::vector<int64_t> widths{1, 2, 3, 4, 5, 6, 7};          // distinct, each >= 1
  std::vector<int64_t> filters{50, 100, 150, 200, 200, 200, 200};  // per width, each >= 1

  int64_t total_filters() const;  // F
  // Throws st::Error naming the field: E < 1, no widths, widths and filters of different
  // lengths, a width < 1 or repeated, a filter count < 1.
  void validate() const;
};

class CharConvBank : public Layer, public Countable {
 public:
  CharConvBank(const CharConvBankOptions& opt, Generator& gen);
  // Throws st::Error naming the shapes when x is not [N, L, E] or a width exceeds L.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
  const CharConvBankOptions& options() const { return opt_; }
  Tensor& weight(size_t i) { return *weights_.at(i); }
  Tensor& bias(size_t i) { return *biases_.at(i); }

 private:
  CharConvBankOptions opt_;
  std::vector<Tensor*> weights_, biases_;  // per width, in the options' order
};

}  // namespace st
