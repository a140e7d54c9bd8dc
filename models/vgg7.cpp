#include "models/vgg7.h"

#include <cmath>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/pool.h"
#include "core/ops/shape_ops.h"
#include "layers/conv_batch_norm.h"

namespace st {

Vgg7::Vgg7(const Vgg7Options& opt, Generator& gen, const ConvFactory& conv, const LinearFactory& fc) : opt_(opt) {
  ST_CHECK(opt.num_classes > 0, "Vgg7: num_classes " << opt.num_classes << " must be positive");
  for (int64_t base : {128, 256, 512, 1024}) {
    const int64_t c = std::llround(base * opt.width);
    ST_CHECK(c > 0, "Vgg7: width multiplier " << opt.width << " makes the " << base << "-wide layer empty");
    widths_.push_back(c);
  }
  int64_t in = 3;
  for (int i = 0; i < 6; ++i) {
    const int64_t out = widths_[i / 2];
    const std::string k = std::to_string(i + 1);
    convs_.push_back(register_module("conv" + k, make_conv(conv, "conv" + k, conv_options(in, out, 3, 1), gen)));
    bns_.push_back(register_module("bn" + k, std::make_shared<BatchNorm>(BatchNormLayerOptions{out}.with_relu())));
    in = out;
  }
  fc1_ = register_module("fc1", make_linear(fc, "fc1", LinearOptions{in * 4 * 4, widths_[3], false}, gen));
  bns_.push_back(register_module("bn7", std::make_shared<BatchNorm>(BatchNormLayerOptions{widths_[3]}.with_relu())));
  fc2_ = register_module("fc2", make_linear(fc, "fc2", LinearOptions{widths_[3], opt.num_classes, true}, gen));
}

Tensor Vgg7::forward(const Tensor& x) {
  ST_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == 32 && x.size(3) == 32,
           "Vgg7: input " << shape_str(x.shape()) << " is not a CIFAR batch [N, 3, 32, 32]");
  Tensor h = x;
  for (int i = 0; i < 6; ++i) {
    h = conv_then_batch_norm(*convs_[i], *bns_[i], h);  // the batch norms apply the ReLU
    if (i % 2 == 1) h = max_pool2d(h, Pool2dOptions::make(2, 2));
  }
  h = (*bns_[6])((*fc1_)(flatten(h, 1)));
  return (*fc2_)(h);
}

std::string Vgg7::describe() const {
  return "Vgg7(widths " + std::to_string(widths_[0]) + "/" + std::to_string(widths_[1]) + "/" +
         std::to_string(widths_[2]) + "/" + std::to_string(widths_[3]) + ", classes " +
         std::to_string(opt_.num_classes) + ")";
}

}  // namespace st
