#include "layers/ternary_linear.h"

#include "core/ops/linalg.h"

namespace st {

TernaryLinear::TernaryLinear(const LinearOptions& opt, const TernaryQuantizerOptions& quant, Generator& gen)
    : opt_(opt) {
  Linear plain(opt, gen);  // the same checks and initialisation as Linear
  weight_ = &register_parameter("weight", plain.weight());
  if (opt.bias) bias_ = &register_parameter("bias", *plain.bias());
  quant_ = TernaryWeight(*this, "weight", quant);
}

Tensor TernaryLinear::forward(const Tensor& x) {
  return linear(x, quant_.quantize(*weight_), bias_ ? *bias_ : Tensor());
}

std::string TernaryLinear::describe() const {
  return "TernaryLinear(" + std::to_string(opt_.in_features) + ", " + std::to_string(opt_.out_features) + ", " +
         ternary_rule_name(quant_.options().rule) + ")";
}

LayerCost TernaryLinear::cost(const std::vector<CallShapes>& calls) const {
  LayerCost c = ternary_baseline_cost(*this, quant_.options().rule, linear_macs(opt_, calls), output_elements(calls));
  c.type = "TernaryLinear";
  c.detail = linear_cost_detail(opt_) + " " + ternary_rule_name(quant_.options().rule);
  return c;
}

}  // namespace st
