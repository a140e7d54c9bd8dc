#include "layers/conv_batch_norm.h"

#include "core/autograd.h"
#include "layers/conv2d.h"

namespace st {

Tensor conv_then_batch_norm(Layer& conv, BatchNorm& bn, const Tensor& x, const Tensor& residual) {
  auto* c = dynamic_cast<Conv2d*>(&conv);
  if (!c || bn.is_training() || grad_enabled() || Layer::observed())
    return residual.defined() ? bn.forward_add(conv(x), residual) : bn(conv(x));
  const Conv2dLayerOptions& o = c->options();
  const BatchNormLayerOptions& b = bn.options();
  return conv2d_batch_norm_eval(x, c->weight(), c->bias() ? *c->bias() : Tensor(),
                                bn.weight() ? *bn.weight() : Tensor(), bn.bias() ? *bn.bias() : Tensor(),
                                bn.running_mean(), bn.running_var(), b.eps, b.relu,
                                Conv2dOptions::make(o.stride, o.padding, o.groups), residual);
}

}  // namespace st
