#pragma once
// TernaryLinear: a Linear whose weight is ternary in the forward pass (TWN, fixed or TTQ rule,
// layers/ternary_weight.h) with straight-through gradients to the latent weight; the fully
// connected layers of the TWN/TTQ baselines. Parameter names as Linear ("weight", "bias") plus
// the TTQ scales "weight_pos"/"weight_neg".  x: [..., in] -> [..., out]; weight [out, in].
// Inference cost: ternary_baseline_cost (layers/ternary_weight.h) of Linear's multiply-accumulates.
#include <string>
#include <vector>

#include "layers/linear.h"
#include "layers/ternary_weight.h"

namespace st {

class TernaryLinear : public Layer, public Countable {
 public:
  TernaryLinear(const LinearOptions& opt, const TernaryQuantizerOptions& quant, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
  const LinearOptions& options() const { return opt_; }
  const TernaryQuantizerOptions& quantizer() const { return quant_.options(); }
  Tensor& weight() { return *weight_; }

 private:
  LinearOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;
  TernaryWeight quant_;
};

}  // namespace st
