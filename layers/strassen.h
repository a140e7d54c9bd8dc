#pragma once
// StrassenNets layers (../shared/docs/strassennets.md §2): a matrix product replaced by a 2-layer
// sum-product network whose hidden width r is the multiplication budget.
//
// StrassenConv2d, for an original conv c_in -> c_out, kernel k, stride s, padding q:
//   h = conv2d(x, W_b)          r channels, kernel K = (p-1)s + k, stride p·s, groups g,
//                               padding q + e with e = ceil((H mod p·s) / 2) per axis
//   h = BN(h)                   over the r hidden channels, γ fixed to 1, β learned (eps 1e-3)
//   h = ã ⊙ h                   per channel; ã starts at 1 and is clipped to [0, 100] before
//                               every forward
//   y = conv_transpose2d(h, W_c) r -> c_out, kernel p, stride p, then cropped to the original
//                               layer's output size (starting at e / s) + optional bias
//   W_b: [r, c_in/g, K, K]   W_c: [r, c_out, p, p]   ã: [r]
//
// StrassenLinear, in -> out:  y = W_c (ã ⊙ BN(W_b x)) + b,  W_b: [r, in], W_c: [out, r]
// (the hidden BN is optional).
//
// Modes (switchable at run time, as in the reference code):
//   Dense (0)          the original layer with its own full-precision weight ("weight")
//   SpnFloat (1)       SPN, W_b and W_c full precision
//   SpnTernary (2)     W_b and W_c ternary (straight-through gradients to the latent weights)
//   TernaryB (3)       only W_b ternary       TernaryC (4)   only W_c ternary
//   TernaryFrozen (5)  W_b and W_c ternary and fixed: only ã, the hidden BN and the bias train
// The ternary rule (TWN, fixed, TTQ) is StrassenOptions::quant (layers/ternary_weight.h).
// Every mode's parameters are registered, so one model definition (and one checkpoint layout)
// serves the full-precision, baseline and Strassen runs.
#include <memory>
#include <string>

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/layer.h"
#include "layers/ternary_weight.h"

namespace st {

enum class StrassenMode { Dense = 0, SpnFloat = 1, SpnTernary = 2, TernaryB = 3, TernaryC = 4, TernaryFrozen = 5 };

const char* strassen_mode_name(StrassenMode mode);

struct StrassenOptions {
  int64_t hidden = 0;      // r
  int64_t out_patch = 1;   // p (conv only)
  int64_t groups = 1;      // g of the W_b convolution (conv only)
  bool hidden_bn = true;   // batch norm over the hidden units (always on for convs)
  real bn_eps = real(1e-3);
  real bn_momentum = real(0.1);  // PyTorch convention (the reference's MXNet momentum 0.9)
  TernaryQuantizerOptions quant;  // rule for W_b and W_c (TWN, fixed, TTQ with scales per matrix)
  StrassenMode mode = StrassenMode::SpnFloat;
};

class StrassenConv2d : public Layer {
 public:
  StrassenConv2d(const Conv2dLayerOptions& original, const StrassenOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  void set_mode(StrassenMode mode) { opt_.mode = mode; }
  StrassenMode mode() const { return opt_.mode; }
  const Conv2dLayerOptions& original() const { return orig_; }  // the convolution it replaces
  const StrassenOptions& options() const { return opt_; }
  // Hidden size and crop offset for an input extent (see the header comment).
  struct Geometry {
    int64_t kernel, stride, pad, crop, out;  // W_b kernel/stride/padding, crop start, original output extent
  };
  Geometry geometry(int64_t in_extent) const;
  // Export form (see fold_ternary_scales): W_b, W_c replaced by their {−1, 0, 1} codes, W_c's
  // scale multiplied into ã and W_b's moved into the hidden BN's running statistics, so that the
  // evaluation-mode forward is unchanged.
  void fold_ternary_scales();

 private:
  Conv2dLayerOptions orig_;
  StrassenOptions opt_;
  Tensor* weight_ = nullptr;  // Dense mode: [c_out, c_in/groups, k, k]
  Tensor* bias_ = nullptr;
  Tensor* w_b_ = nullptr;
  Tensor* w_c_ = nullptr;
  Tensor* a_hat_ = nullptr;
  TernaryWeight q_b_, q_c_;
  std::shared_ptr<BatchNorm> bn_;
};

class StrassenLinear : public Layer {
 public:
  StrassenLinear(int64_t in_features, int64_t out_features, bool bias, const StrassenOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  void set_mode(StrassenMode mode) { opt_.mode = mode; }
  StrassenMode mode() const { return opt_.mode; }
  void fold_ternary_scales();  // as StrassenConv2d's (W_b's scale into ã too without hidden BN)
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool has_bias() const { return bias_ != nullptr; }
  const StrassenOptions& options() const { return opt_; }

 private:
  int64_t in_, out_;
  StrassenOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;
  Tensor* w_b_ = nullptr;
  Tensor* w_c_ = nullptr;
  Tensor* a_hat_ = nullptr;
  TernaryWeight q_b_, q_c_;
  std::shared_ptr<BatchNorm> bn_;  // null without hidden BN
};

// Folds the ternary scales of every Strassen layer in `model` (all must be in a ternary mode for
// both matrices — spn_ternary or ternary_frozen — with the TWN rule or the fixed rule with step 1,
// whose quantizers map {−1, 0, 1} codes to themselves): afterwards W_b and W_c hold exactly
// {−1, 0, 1} and the model computes the same evaluation-mode outputs. Throws naming the layer
// otherwise (TTQ's two scales per matrix cannot be folded into ã). Returns the layers folded.
int64_t fold_ternary_scales(Module& model);

// Switches every Strassen layer in `model` (recursively) to `mode`; returns how many it found.
int64_t set_strassen_mode(Module& model, StrassenMode mode);
// "dense", "spn_fp", "spn_ternary", "ternary_b", "ternary_c", "ternary_frozen"; throws naming an
// unknown name.
StrassenMode parse_strassen_mode(const std::string& name);

}  // namespace st
