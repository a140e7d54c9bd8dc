#pragma once
// VGG-7 for CIFAR-10 (the StrassenNets / TTQ variant), on 32×32 inputs:
//
//   x [N, 3, 32, 32]
//   conv1, conv2: 3×3, 128 channels; maxpool 2            [N, 128, 16, 16]
//   conv3, conv4: 3×3, 256 channels; maxpool 2            [N, 256, 8, 8]
//   conv5, conv6: 3×3, 512 channels; maxpool 2            [N, 512, 4, 4]
//   flatten; fc1 (512·4·4 -> 1024)                        [N, 1024]
//   fc2 (1024 -> num_classes)                             [N, num_classes]
//
// Every conv and fc1 is followed by batch norm (bn1..bn6 after the convs, bn7 after fc1) and ReLU;
// they have no bias (the batch norm's β replaces it); convs use padding 1. fc2 has a bias.
// Widths are 128, 256, 512, 1024 times `width`, rounded (a small `width` gives a tiny network
// for tests).
//
// Checkpoint keys: conv<i>.weight, bn<i>.{weight,bias,running_mean,running_var} (i = 1..6),
// fc1.weight, bn7.*, fc2.weight, fc2.bias.
// Initialisation: convs Kaiming normal (fan_out), BN γ = 1, β = 0, fc as PyTorch's Linear.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/linear.h"
#include "models/conv_factory.h"

namespace st {

struct Vgg7Options {
  int64_t num_classes = 10;
  double width = 1.0;  // multiplier of every hidden width
};

class Vgg7 : public Layer {
 public:
  // Throws st::Error when num_classes or a scaled width is not positive. `conv` builds every
  // convolution (default: Conv2d).
  Vgg7(const Vgg7Options& opt, Generator& gen, const ConvFactory& conv = {}, const LinearFactory& fc = {});
  // x: [N, 3, 32, 32] -> logits [N, num_classes].
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  const Vgg7Options& options() const { return opt_; }
  // The four hidden widths after scaling: conv stages 1-3 and fc1.
  const std::vector<int64_t>& widths() const { return widths_; }

 private:
  Vgg7Options opt_;
  std::vector<int64_t> widths_;
  std::vector<std::shared_ptr<Layer>> convs_;    // 6
  std::vector<std::shared_ptr<BatchNorm>> bns_;  // 7 (the last after fc1)
  std::shared_ptr<Layer> fc1_, fc2_;  // Linear, or a Strassen layer from the factory
};

}  // namespace st
