#pragma once
// The TWN / TTQ baseline versions of the CIFAR models: a ConvFactory that builds each convolution
// as a TernaryConv2d (layers/ternary_conv.h). As in the TTQ paper, the first convolution (3 input
// channels) stays full precision unless compress_first; the final classifier is always full
// precision unless listed in `fc` (e.g. VGG-7's hidden "fc1"): those become TernaryLinear layers.
#include <string>
#include <vector>

#include "layers/ternary_conv.h"
#include "layers/ternary_linear.h"
#include "models/conv_factory.h"

namespace st {

struct TernaryModelOptions {
  bool enabled = false;
  TernaryQuantizerOptions quant;
  bool compress_first = false;
  std::vector<std::string> fc;  // names of fully connected layers to ternarize
};

ConvFactory ternary_conv_factory(const TernaryModelOptions& opt);
LinearFactory ternary_linear_factory(const TernaryModelOptions& opt);

}  // namespace st
