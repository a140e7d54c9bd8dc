#include "layers/ternary_conv.h"

#include "core/error.h"
#include "layers/init.h"

namespace st {

TernaryConv2d::TernaryConv2d(const Conv2dLayerOptions& opt, const TernaryQuantizerOptions& quant, Generator& gen)
    : opt_(opt) {
  // The same checks and initialisation as Conv2d: build one and take its tensors.
  Conv2d plain(opt, gen);
  weight_ = &register_parameter("weight", plain.weight());
  if (opt.bias) bias_ = &register_parameter("bias", *plain.bias());
  quant_ = TernaryWeight(*this, "weight", quant);
}

Tensor TernaryConv2d::forward(const Tensor& x) {
  return conv2d(x, quant_.quantize(*weight_), bias_ ? *bias_ : Tensor(),
                Conv2dOptions::make(opt_.stride, opt_.padding, opt_.groups));
}

std::string TernaryConv2d::describe() const {
  return "TernaryConv2d(" + std::to_string(opt_.in_channels) + ", " + std::to_string(opt_.out_channels) + ", kernel " +
         std::to_string(opt_.kernel_h) + "x" + std::to_string(opt_.kernel_w) + ", stride " + std::to_string(opt_.stride) +
         ", " + ternary_rule_name(quant_.options().rule) + ")";
}

LayerCost TernaryConv2d::cost(const std::vector<CallShapes>& calls) const {
  LayerCost c = ternary_baseline_cost(*this, quant_.options().rule, conv2d_macs(opt_, calls), output_elements(calls));
  c.type = "TernaryConv2d";
  c.detail = conv2d_cost_detail(opt_) + " " + ternary_rule_name(quant_.options().rule);
  return c;
}

}  // namespace st
