#include "layers/conv2d.h"

#include "core/error.h"
#include "layers/init.h"

namespace st {

Conv2d::Conv2d(const Conv2dLayerOptions& opt, Generator& gen) : opt_(opt) {
  ST_CHECK(opt.in_channels > 0 && opt.out_channels > 0 && opt.groups > 0 && opt.in_channels % opt.groups == 0 &&
               opt.out_channels % opt.groups == 0,
           "Conv2d: channels " << opt.in_channels << " -> " << opt.out_channels << " must be positive and divisible by groups "
                               << opt.groups);
  ST_CHECK(opt.kernel_h > 0 && opt.kernel_w > 0 && opt.stride > 0 && opt.padding >= 0,
           "Conv2d: kernel " << opt.kernel_h << "x" << opt.kernel_w << ", stride " << opt.stride << ", padding "
                             << opt.padding << " out of range");
  Tensor w = Tensor::empty({opt.out_channels, opt.in_channels / opt.groups, opt.kernel_h, opt.kernel_w});
  init::kaiming_normal(w, gen, /*fan_out_mode=*/true);
  weight_ = &register_parameter("weight", w);
  if (opt.bias) bias_ = &register_parameter("bias", Tensor::zeros({opt.out_channels}));
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, *weight_, bias_ ? *bias_ : Tensor(), Conv2dOptions::make(opt_.stride, opt_.padding, opt_.groups));
}

std::string Conv2d::describe() const {
  std::string s = "Conv2d(" + std::to_string(opt_.in_channels) + ", " + std::to_string(opt_.out_channels) + ", kernel " +
                  std::to_string(opt_.kernel_h) + "x" + std::to_string(opt_.kernel_w);
  if (opt_.stride != 1) s += ", stride " + std::to_string(opt_.stride);
  if (opt_.padding) s += ", padding " + std::to_string(opt_.padding);
  if (opt_.groups != 1) s += ", groups " + std::to_string(opt_.groups);
  return s + (opt_.bias ? ", bias)" : ")");
}

LayerCost Conv2d::cost(const std::vector<CallShapes>& calls) const {
  LayerCost c;
  c.type = "Conv2d";
  c.detail = conv2d_cost_detail(opt_);
  c.mults = c.adds = c.adds_nonzero = conv2d_macs(opt_, calls);
  c.add_all_params(*this);
  return c;
}

std::string conv2d_cost_detail(const Conv2dLayerOptions& o) {
  std::string d = std::to_string(o.kernel_h) + "x" + std::to_string(o.kernel_w) + " s" + std::to_string(o.stride) +
                  " " + std::to_string(o.in_channels) + "->" + std::to_string(o.out_channels);
  if (o.groups != 1) d += " g" + std::to_string(o.groups);
  return d;
}

int64_t conv2d_macs(const Conv2dLayerOptions& o, const std::vector<CallShapes>& calls) {
  return output_elements(calls) * (o.in_channels / o.groups) * o.kernel_h * o.kernel_w;
}

}  // namespace st
