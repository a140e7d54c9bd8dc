#pragma once
// Highway: one layer of a highway network (Srivastava, Greff, Schmidhuber 2015), as Kim et al.
// (2016) put between the character CNN and the LSTM:
//   y = t ⊙ ReLU(W_H x + b_H) + (1 − t) ⊙ x,   t = σ(W_T x + b_T)
//   x [..., size] -> [..., size]
// Submodules "hidden" (W_H, b_H) and "gate" (W_T, b_T), Linear(size, size) each, initialised as
// Linear; then b_T is set to transform_bias (−2: the gate starts mostly closed, so the layer
// starts near the identity and carries x through). Kim's code has a fixed −2 added to a learned
// b_T; a learned b_T that starts at −2 is the same function with the same gradients.
// Stack layers in a Sequential for a deeper network.
#include <cstdint>
#include <memory>
#include <string>

#include "core/rng.h"
#include "layers/layer.h"
#include "layers/linear.h"

namespace st {

struct HighwayOptions {
  int64_t size = 0;
  double transform_bias = -2;
};

class Highway : public Layer {
 public:
  // Throws st::Error for a non-positive size.
  Highway(const HighwayOptions& opt, Generator& gen);
  // Throws st::Error (from linear) when the last axis of x is not `size`.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Linear& hidden() { return *hidden_; }
  Linear& gate() { return *gate_; }
  const HighwayOptions& options() const { return opt_; }
  // Adds transform_bias to b_T: after every parameter has been drawn afresh (a model's own
  // initialisation), this puts the gate's bias back at transform_bias plus that draw, as Kim's code
  // has it.
  void shift_gate_bias();

 private:
  HighwayOptions opt_;
  std::shared_ptr<Linear> hidden_, gate_;
};

}  // namespace st
