#include "models/resnet_imagenet.h"

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/pool.h"
#include "layers/conv_batch_norm.h"
#include "models/resnet_cifar.h"

namespace st {

ResNetImageNet::ResNetImageNet(const ResNetImageNetOptions& opt, Generator& gen, const ConvFactory& conv,
                               const LinearFactory& fc)
    : opt_(opt) {
  ST_CHECK(opt.base_width > 0, "ResNetImageNet: base_width " << opt.base_width << " must be positive");
  ST_CHECK(opt.num_classes > 0, "ResNetImageNet: num_classes " << opt.num_classes << " must be positive");
  const int64_t w = opt.base_width;
  conv1_ = register_module("conv1", make_conv(conv, "conv1", conv_options(3, w, 7, 2), gen));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm>(BatchNormLayerOptions{w}.with_relu()));
  int64_t in = w;
  for (int s = 0; s < 4; ++s) {
    const int64_t out = w << s;
    const std::string stage_name = "stage" + std::to_string(s + 1);
    auto stage = register_module(stage_name, std::make_shared<Sequential>());
    for (int b = 0; b < 2; ++b) {
      stage->add(std::make_shared<BasicBlock>(in, out, (s > 0 && b == 0) ? 2 : 1, 'B', gen,
                                              prefixed(conv, stage_name + "." + std::to_string(b))));
      in = out;
    }
    stages_.push_back(stage);
  }
  fc_ = register_module("fc", make_linear(fc, "fc", LinearOptions{in, opt.num_classes, true}, gen));
}

Tensor ResNetImageNet::forward(const Tensor& x) {
  ST_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= 32 && x.size(3) >= 32,
           "ResNetImageNet: input " << shape_str(x.shape()) << " is not an image batch [N, 3, H, W] with H, W >= 32");
  Tensor h = conv_then_batch_norm(*conv1_, *bn1_, x);  // bn1 applies the ReLU
  h = max_pool2d(h, Pool2dOptions::make(3, 2, 1));
  for (auto& stage : stages_) h = (*stage)(h);
  return (*fc_)(global_avg_pool2d(h));
}

std::string ResNetImageNet::describe() const {
  return "ResNetImageNet(depth 18, width " + std::to_string(opt_.base_width) + ", classes " +
         std::to_string(opt_.num_classes) + ")";
}

}  // namespace st
