#pragma once
// Lstm: a stack of LSTM layers on the fused op (core/ops/lstm.h), with dropout after every layer:
// between layers and on the output (Zaremba et al. 2014; Kim et al. 2016), none on the input.
//   x [T, B, input] (time-major) -> [T, B, hidden]
//   state {h_0, c_0, h_1, c_1, ...}: each [B, hidden], layer 0 first, or empty for zeros;
//   forward() replaces it with the state after the last step, still attached to the graph (as
//   SequenceModel's state: the caller detaches it between blocks).
// Parameters per layer l, named as PyTorch's nn.LSTM: "weight_ih_l<l>" [4H, in_l], "weight_hh_l<l>"
// [4H, H], "bias_ih_l<l>" and "bias_hh_l<l>" [4H] (gates i, f, g, o; in_0 = input, in_l = H),
// initialised as PyTorch: U(±1/sqrt(H)).
// Dropout (in training mode) draws from `gen`, which must outlive the module (a model's generator).
// Not a Layer (it takes and returns a state); it reports each call to the thread's LayerObserver as
// (x, state...) -> (output, state...).
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/module.h"

namespace st {

struct LstmOptions {
  int64_t input = 0, hidden = 0, layers = 1;
  double dropout = 0;          // in [0, 1)
  bool dropout_output = true;  // also after the last layer (false: between layers only)

  // Throws st::Error naming the field for a non-positive size or dropout outside [0, 1).
  void validate() const;
};

class Lstm : public Module {
 public:
  Lstm(const LstmOptions& opt, Generator& init_gen, Generator& dropout_gen);
  // Throws st::Error naming the shapes when x is not [T, B, input], or the state is neither empty
  // nor 2·layers tensors [B, hidden].
  Tensor forward(const Tensor& x, std::vector<Tensor>& state);
  std::string describe() const override;
  const LstmOptions& options() const { return opt_; }

 private:
  struct Weights {
    Tensor *w_ih, *w_hh, *b_ih, *b_hh;
  };
  void check_state(const Tensor& x, const std::vector<Tensor>& state) const;

  LstmOptions opt_;
  std::vector<Weights> layers_;
  Generator* dropout_gen_;
};

}  // namespace st
