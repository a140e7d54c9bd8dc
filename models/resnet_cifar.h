#pragma once
// ResNet for CIFAR (He, Zhang, Ren, Sun 2016, §4.2): depth 6n + 2.
//
//   x [N, 3, H, W]
//   conv1 3×3 (3 -> w) + bn1 + ReLU                                      [N, w, H, W]
//   stage1: n BasicBlocks, w channels                                    [N, w, H, W]
//   stage2: n BasicBlocks, 2w channels, the first with stride 2          [N, 2w, H/2, W/2]
//   stage3: n BasicBlocks, 4w channels, the first with stride 2          [N, 4w, H/4, W/4]
//   global average pooling                                               [N, 4w]
//   fc (4w -> num_classes)                                               [N, num_classes]
//
// w = base_width (16 in the paper). Where a block changes the shape (the first block of stages 2
// and 3), the shortcut is
//   'A': zero-padding identity (the paper's CIFAR choice): x[:, :, ::2, ::2] with zero channels
//        added, half before and half after the input's channels (as the widely used PyTorch
//        reimplementation pads planes/4 on each side); no parameters;
//   'B': projection: 1×1 conv with stride 2 + batch norm (the StrassenNets reference code).
// Every other shortcut is the identity.
//
// Checkpoint keys: conv1.weight, bn1.{weight,bias,running_mean,running_var},
// stage<s>.<b>.conv1.weight, stage<s>.<b>.bn1.*, stage<s>.<b>.conv2.weight, stage<s>.<b>.bn2.*,
// stage<s>.<b>.shortcut.conv.weight and .shortcut.bn.* (option B), fc.weight, fc.bias.
//
// Initialisation: convs Kaiming normal with fan_out (Conv2d's default), batch norm γ = 1, β = 0,
// fc as PyTorch's Linear (U(±1/sqrt(fan_in)) for weight and bias).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "models/conv_factory.h"

namespace st {

struct ResNetCifarOptions {
  int64_t depth = 20;        // 6n + 2 with n >= 1: 8, 14, 20, 32, 44, 56, 110, ...
  int64_t num_classes = 10;
  char shortcut = 'A';       // 'A' zero-padding identity, 'B' 1×1 conv + BN projection
  int64_t base_width = 16;   // channels of the first stage; stages 2 and 3 have 2× and 4×
};

// Option A shortcut: x [N, C_in, H, W] -> [N, C_out, ceil(H/s), ceil(W/s)], the spatial
// subsample x[:, :, ::s, ::s] with (C_out - C_in)/2 zero channels before and the rest after.
// Requires C_out >= C_in. The gradient flows to the subsampled elements only.
class ZeroPadShortcut : public Layer {
 public:
  ZeroPadShortcut(int64_t in_channels, int64_t out_channels, int64_t stride);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t in_, out_, stride_;
};

// Option B shortcut: conv (1×1, stride s, no bias) then batch norm; submodules "conv" and "bn".
class ProjectionShortcut : public Layer {
 public:
  ProjectionShortcut(int64_t in_channels, int64_t out_channels, int64_t stride, Generator& gen,
                     const ConvFactory& conv = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  std::shared_ptr<Layer> conv_;
  std::shared_ptr<BatchNorm> bn_;
};

// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); conv1 carries the stride. The shortcut is
// null (identity) when stride is 1 and the channels do not change.
class BasicBlock : public Layer {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, char shortcut, Generator& gen,
             const ConvFactory& conv = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Layer* shortcut() { return shortcut_.get(); }

 private:
  int64_t in_, out_, stride_;
  std::shared_ptr<Layer> conv1_, conv2_;
  std::shared_ptr<BatchNorm> bn1_, bn2_;
  std::shared_ptr<Layer> shortcut_;  // null: identity
};

class ResNetCifar : public Layer {
 public:
  // Throws st::Error for a depth that is not 6n + 2, a shortcut other than 'A'/'B', or
  // non-positive widths/classes. `conv` builds every convolution (default: Conv2d).
  ResNetCifar(const ResNetCifarOptions& opt, Generator& gen, const ConvFactory& conv = {},
              const LinearFactory& fc = {});
  // x: [N, 3, H, W] -> logits [N, num_classes].
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  const ResNetCifarOptions& options() const { return opt_; }
  int64_t blocks_per_stage() const { return n_; }
  Sequential& stage(int i) { return *stages_.at(i - 1); }  // i = 1, 2, 3
  Layer& fc() { return *fc_; }  // a Linear, or a StrassenLinear with model.strassen.compress_fc

 private:
  ResNetCifarOptions opt_;
  int64_t n_;
  std::shared_ptr<Layer> conv1_;
  std::shared_ptr<BatchNorm> bn1_;
  std::vector<std::shared_ptr<Sequential>> stages_;
  std::shared_ptr<Layer> fc_;
};

}  // namespace st
