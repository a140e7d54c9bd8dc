#include "models/resnet_cifar.h"

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/pool.h"
#include "core/ops/shape_ops.h"
#include "layers/conv_batch_norm.h"

namespace st {

// ---- option A shortcut

ZeroPadShortcut::ZeroPadShortcut(int64_t in_channels, int64_t out_channels, int64_t stride)
    : in_(in_channels), out_(out_channels), stride_(stride) {
  ST_CHECK(in_channels > 0 && out_channels >= in_channels && stride >= 1,
           "ZeroPadShortcut: channels " << in_channels << " -> " << out_channels << " (must not shrink), stride "
                                        << stride);
}

Tensor ZeroPadShortcut::forward(const Tensor& x) {
  ST_CHECK(x.dim() == 4 && x.size(1) == in_,
           "ZeroPadShortcut(" << in_ << " -> " << out_ << "): input " << shape_str(x.shape()) << " is not [N, " << in_
                              << ", H, W]");
  if (stride_ == 1 && out_ == in_) return x;
  const int64_t before = (out_ - in_) / 2, after = out_ - in_ - before;
  return subsample_pad_channels(x, stride_, before, after);
}

std::string ZeroPadShortcut::describe() const {
  return "ZeroPadShortcut(" + std::to_string(in_) + ", " + std::to_string(out_) + ", stride " + std::to_string(stride_) +
         ")";
}

// ---- option B shortcut

ProjectionShortcut::ProjectionShortcut(int64_t in_channels, int64_t out_channels, int64_t stride, Generator& gen,
                                       const ConvFactory& conv) {
  conv_ = register_module("conv", make_conv(conv, "conv", conv_options(in_channels, out_channels, 1, stride), gen));
  bn_ = register_module("bn", std::make_shared<BatchNorm>(BatchNormLayerOptions{out_channels}));
}

Tensor ProjectionShortcut::forward(const Tensor& x) { return conv_then_batch_norm(*conv_, *bn_, x); }

std::string ProjectionShortcut::describe() const {
  return "ProjectionShortcut(" + conv_->describe() + ", " + bn_->describe() + ")";
}

// ---- basic block

BasicBlock::BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, char shortcut, Generator& gen,
                       const ConvFactory& conv)
    : in_(in_channels), out_(out_channels), stride_(stride) {
  ST_CHECK(shortcut == 'A' || shortcut == 'B', "BasicBlock: shortcut '" << shortcut << "' is not 'A' or 'B'");
  conv1_ = register_module("conv1", make_conv(conv, "conv1", conv_options(in_channels, out_channels, 3, stride), gen));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm>(BatchNormLayerOptions{out_channels}.with_relu()));
  conv2_ = register_module("conv2", make_conv(conv, "conv2", conv_options(out_channels, out_channels, 3, 1), gen));
  // bn2 joins the block: relu(bn2(conv2(h)) + shortcut(x)) in one fused op.
  bn2_ = register_module("bn2", std::make_shared<BatchNorm>(BatchNormLayerOptions{out_channels}.with_relu()));
  if (stride != 1 || in_channels != out_channels) {
    if (shortcut == 'A')
      shortcut_ = register_module("shortcut", std::make_shared<ZeroPadShortcut>(in_channels, out_channels, stride));
    else
      shortcut_ = register_module(
          "shortcut", std::make_shared<ProjectionShortcut>(in_channels, out_channels, stride, gen, prefixed(conv, "shortcut")));
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor h = conv_then_batch_norm(*conv1_, *bn1_, x);  // bn1 applies the ReLU
  return conv_then_batch_norm(*conv2_, *bn2_, h, shortcut_ ? (*shortcut_)(x) : x);  // + shortcut, then the ReLU
}

std::string BasicBlock::describe() const {
  return "BasicBlock(" + std::to_string(in_) + ", " + std::to_string(out_) +
         (stride_ != 1 ? ", stride " + std::to_string(stride_) : "") +
         (shortcut_ ? ", " + shortcut_->describe() : "") + ")";
}

// ---- the network

ResNetCifar::ResNetCifar(const ResNetCifarOptions& opt, Generator& gen, const ConvFactory& conv,
                         const LinearFactory& fc)
    : opt_(opt) {
  ST_CHECK(opt.depth >= 8 && (opt.depth - 2) % 6 == 0,
           "ResNetCifar: depth " << opt.depth << " is not of the form 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...)");
  ST_CHECK(opt.shortcut == 'A' || opt.shortcut == 'B',
           "ResNetCifar: shortcut '" << opt.shortcut << "' is not 'A' (zero-padding) or 'B' (projection)");
  ST_CHECK(opt.base_width > 0, "ResNetCifar: base_width " << opt.base_width << " must be positive");
  ST_CHECK(opt.num_classes > 0, "ResNetCifar: num_classes " << opt.num_classes << " must be positive");
  n_ = (opt.depth - 2) / 6;
  const int64_t w = opt.base_width;
  conv1_ = register_module("conv1", make_conv(conv, "conv1", conv_options(3, w, 3, 1), gen));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm>(BatchNormLayerOptions{w}.with_relu()));
  int64_t in = w;
  for (int s = 0; s < 3; ++s) {
    const int64_t out = w << s;
    const std::string stage_name = "stage" + std::to_string(s + 1);
    auto stage = register_module(stage_name, std::make_shared<Sequential>());
    for (int64_t b = 0; b < n_; ++b) {
      stage->add(std::make_shared<BasicBlock>(in, out, (s > 0 && b == 0) ? 2 : 1, opt.shortcut, gen,
                                              prefixed(conv, stage_name + "." + std::to_string(b))));
      in = out;
    }
    stages_.push_back(stage);
  }
  fc_ = register_module("fc", make_linear(fc, "fc", LinearOptions{in, opt.num_classes, true}, gen));
}

Tensor ResNetCifar::forward(const Tensor& x) {
  ST_CHECK(x.dim() == 4 && x.size(1) == 3,
           "ResNetCifar: input " << shape_str(x.shape()) << " is not an image batch [N, 3, H, W]");
  Tensor h = conv_then_batch_norm(*conv1_, *bn1_, x);  // bn1 applies the ReLU
  for (auto& stage : stages_) h = (*stage)(h);
  return (*fc_)(global_avg_pool2d(h));
}

std::string ResNetCifar::describe() const {
  return "ResNetCifar(depth " + std::to_string(opt_.depth) + ", shortcut " + std::string(1, opt_.shortcut) +
         ", width " + std::to_string(opt_.base_width) + ", classes " + std::to_string(opt_.num_classes) + ")";
}

}  // namespace st
