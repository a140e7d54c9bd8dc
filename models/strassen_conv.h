#pragma once
// The Strassen versions of the CIFAR models: a ConvFactory that builds every convolution as a
// StrassenConv2d (layers/strassen.h) with r = hidden_ratio × c_out. The 3×3 convolutions get the
// out-patch p and the W_b groups g; 1×1 projection shortcuts get p = 1, g = 1 (§5). The first
// convolution (3 input channels) uses g = 1. compress_first / compress_shortcuts = false keep
// those layers full precision.
//
// Per stage or per layer: `ratios` maps dotted module-name prefixes ("stage3", "stage2.0.conv1")
// to their own r / c_out (the longest matching prefix wins over hidden_ratio); `uncompressed`
// lists prefixes that stay full precision ("conv1", "stage1"). A prefix matches a name equal to it
// or starting with it and a dot. With compress_fc the fully connected layers (the classifier;
// VGG-7's hidden FC too) become StrassenLinear layers with r = ratio × out_features and hidden BN
// (strassen_linear_factory); by default they stay full precision, as in the reference ResNet-20.
//
// ImageNet ResNet-18 (§5) differs in two rules: the out-patch p applies to every convolution,
// the 1×1 shortcuts included (StrassenConvRules::patch_shortcuts), and the classifier is a
// StrassenLinear with r = its output size (1000) when hidden_ratio <= 1, full precision otherwise
// (strassen_fc_factory). g still applies to the 3×3 convolutions only (the stem has 3 inputs).
#include <string>
#include <utility>
#include <vector>

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
  bool compress_fc = false;
  std::vector<std::pair<std::string, double>> ratios;  // name prefix -> r / c_out
  std::vector<std::string> uncompressed;               // name prefixes kept full precision
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

// The compress_fc rule of the CIFAR models: StrassenLinear with r = ratio(name) × out_features
// for layers not listed in `uncompressed`; a plain Linear without compress_fc.
LinearFactory strassen_linear_factory(const StrassenModelOptions& opt);

// The r / c_out a layer gets (the longest matching `ratios` prefix, else hidden_ratio) and whether
// it is listed as uncompressed.
double strassen_ratio_for(const StrassenModelOptions& opt, const std::string& name);
bool strassen_uncompressed(const StrassenModelOptions& opt, const std::string& name);

}  // namespace st
