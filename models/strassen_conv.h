#pragma once
// The Strassen versions of the CIFAR models: a ConvFactory that builds every convolution as a
// StrassenConv2d (layers/strassen.h) with r = hidden_ratio × c_out. The 3×3 convolutions get the
// out-patch p and the W_b groups g; 1×1 projection shortcuts get p = 1, g = 1 (§5). The first
// convolution (3 input channels) uses g = 1. compress_first / compress_shortcuts = false keep
// those layers full precision.
//
// ImageNet ResNet-18 (§5) differs in two rules: the out-patch p applies to every convolution,
// the 1×1 shortcuts included (StrassenConvRules::patch_shortcuts), and the classifier is a
// StrassenLinear with r = its output size (1000) when hidden_ratio <= 1, full precision otherwise
// (strassen_fc_factory). g still applies to the 3×3 convolutions only (the stem has 3 inputs).
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

// Architecture-specific rules on top of StrassenModelOptions; the defaults are the CIFAR rules.
struct StrassenConvRules {
  bool patch_shortcuts = false;  // true: 1×1 convolutions get the out-patch p too (ImageNet ResNet-18)
};

ConvFactory strassen_conv_factory(const StrassenModelOptions& opt, const StrassenConvRules& rules = {});

// The ImageNet ResNet-18 classifier rule: a StrassenLinear with r = out_features (hidden batch
// norm on, the mode and quantizer of opt.layer) when opt.hidden_ratio <= 1, else a plain Linear.
LinearFactory strassen_fc_factory(const StrassenModelOptions& opt);

}  // namespace st
