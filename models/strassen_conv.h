#pragma once
// The Strassen versions of the CIFAR models: a ConvFactory that builds every convolution as a
// StrassenConv2d (layers/strassen.h) with r = hidden_ratio × c_out. The 3×3 convolutions get the
// out-patch p and the W_b groups g; 1×1 projection shortcuts get p = 1, g = 1 (§5). The first
// convolution (3 input channels) uses g = 1. compress_first / compress_shortcuts = false keep
// those layers full precision.
#include "layers/strassen.h"
#include "models/conv_factory.h"

namespace st {

struct StrassenModelOptions {
  bool enabled = false;
  double hidden_ratio = 1.0;  // r / c_out
  int64_t out_patch = 1;
  int64_t groups = 1;
  bool compress_first = true;
  bool compress_shortcuts = true;
  StrassenOptions layer;      // mode, quantizer, BN settings (hidden, out_patch, groups are set per layer)
};

ConvFactory strassen_conv_factory(const StrassenModelOptions& opt);

}  // namespace st
