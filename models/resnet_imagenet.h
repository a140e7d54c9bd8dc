#pragma once
// ResNet-18 for ImageNet (He, Zhang, Ren, Sun 2016, Table 1), on 224×224 inputs:
//
//   x [N, 3, 224, 224]
//   conv1 7×7 stride 2 padding 3 (3 -> w) + bn1 + ReLU                  [N, w, 112, 112]
//   max pool 3×3 stride 2 padding 1                                      [N, w, 56, 56]
//   stage1: 2 BasicBlocks, w channels                                    [N, w, 56, 56]
//   stage2: 2 BasicBlocks, 2w channels, the first with stride 2          [N, 2w, 28, 28]
//   stage3: 2 BasicBlocks, 4w channels, the first with stride 2          [N, 4w, 14, 14]
//   stage4: 2 BasicBlocks, 8w channels, the first with stride 2          [N, 8w, 7, 7]
//   global average pooling                                               [N, 8w]
//   fc (8w -> num_classes)                                               [N, num_classes]
//
// w = base_width (64). The blocks are those of the CIFAR ResNet (models/resnet_cifar.h) with
// projection shortcuts (1×1 conv stride 2 + batch norm, "option B") where a block changes the
// shape. With w = 64 and 1000 classes the network has 11,689,512 parameters (as torchvision's
// resnet18). Every layer up to the global pool is convolutional, so any input of at least 32×32
// works (the tests use small ones); the model's nominal input is 224×224.
//
// Checkpoint keys: conv1.weight, bn1.*, stage<s>.<b>.conv1.weight, stage<s>.<b>.bn1.*,
// stage<s>.<b>.conv2.weight, stage<s>.<b>.bn2.*, stage<s>.0.shortcut.{conv.weight,bn.*} (s = 2..4),
// fc.weight, fc.bias (fc.w_b, fc.w_c, ... for a Strassen classifier).
//
// `conv` builds every convolution (20 in all: the stem, 16 3×3 convs, 3 shortcuts); `fc` builds the
// classifier (default: Linear with bias). The Strassen version (§5 of strassennets.md) passes
// strassen_conv_factory with patch_shortcuts and strassen_fc_factory (models/strassen_conv.h).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/sequential.h"
#include "models/conv_factory.h"

namespace st {

struct ResNetImageNetOptions {
  int64_t num_classes = 1000;
  int64_t base_width = 64;  // channels of the first stage; stages 2..4 have 2×, 4×, 8×
};

class ResNetImageNet : public Layer {
 public:
  // Throws st::Error for non-positive widths/classes.
  ResNetImageNet(const ResNetImageNetOptions& opt, Generator& gen, const ConvFactory& conv = {},
                 const LinearFactory& fc = {});
  // x: [N, 3, H, W] (H, W >= 32) -> logits [N, num_classes].
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  const ResNetImageNetOptions& options() const { return opt_; }
  Sequential& stage(int i) { return *stages_.at(i - 1); }  // i = 1..4
  Layer& fc() { return *fc_; }

 private:
  ResNetImageNetOptions opt_;
  std::shared_ptr<Layer> conv1_;
  std::shared_ptr<BatchNorm> bn1_;
  std::vector<std::shared_ptr<Sequential>> stages_;
  std::shared_ptr<Layer> fc_;
};

}  // namespace st
