#pragma once
// TernaryConv2d: a Conv2d whose weight is ternary in the forward pass (TWN, fixed or TTQ rule,
// layers/ternary_weight.h), with straight-through gradients to the full-precision latent weight:
// the TWN and TTQ baseline networks of strassennets.md §3/§7. Same shapes and parameter names as
// Conv2d ("weight", "bias"), plus the TTQ scales "weight_pos"/"weight_neg", so a full-precision
// checkpoint initialises it.
//   x [N, C_in, H, W] -> [N, C_out, H_out, W_out]; weight [C_out, C_in/groups, kh, kw].
// Inference cost: ternary_baseline_cost (layers/ternary_weight.h) of Conv2d's multiply-accumulates.
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/ternary_weight.h"

namespace st {

class TernaryConv2d : public Layer, public Countable {
 public:
  TernaryConv2d(const Conv2dLayerOptions& opt, const TernaryQuantizerOptions& quant, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
  const Conv2dLayerOptions& options() const { return opt_; }
  const TernaryQuantizerOptions& quantizer() const { return quant_.options(); }
  Tensor& weight() { return *weight_; }

 private:
  Conv2dLayerOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;
  TernaryWeight quant_;
};

}  // namespace st
