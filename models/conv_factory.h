#pragma once
// ConvFactory: how a model builds each of its convolutions. The default makes a plain Conv2d;
// the Strassen versions of the models pass a factory that returns a sum-product network for the
// same Conv2dLayerOptions (e.g. p = 1 for the 1×1 projection shortcuts). The returned layer must
// map [N, in_channels, H, W] to [N, out_channels, H_out, W_out] exactly as the Conv2d would.
#include <functional>
#include <memory>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/layer.h"
#include "layers/linear.h"

namespace st {

using ConvFactory = std::function<std::shared_ptr<Layer>(const Conv2dLayerOptions&, Generator&)>;

// `factory` if set, a plain Conv2d otherwise.
inline std::shared_ptr<Layer> make_conv(const ConvFactory& factory, const Conv2dLayerOptions& opt, Generator& gen) {
  if (factory) return factory(opt, gen);
  return std::make_shared<Conv2d>(opt, gen);
}

// LinearFactory: the same hook for a fully connected layer (the Strassen ImageNet ResNet-18 builds
// its classifier as a StrassenLinear). The returned layer must map [N, in] to [N, out].
using LinearFactory = std::function<std::shared_ptr<Layer>(const LinearOptions&, Generator&)>;

// `factory` if set, a plain Linear otherwise.
inline std::shared_ptr<Layer> make_linear(const LinearFactory& factory, const LinearOptions& opt, Generator& gen) {
  if (factory) return factory(opt, gen);
  return std::make_shared<Linear>(opt, gen);
}

// Options of a k×k convolution without bias (a batch norm follows), padding k/2.
inline Conv2dLayerOptions conv_options(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  Conv2dLayerOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel_h = o.kernel_w = kernel;
  o.stride = stride;
  o.padding = kernel / 2;
  o.bias = false;
  return o;
}

}  // namespace st
