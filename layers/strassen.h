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
// Modes (layers/strassen_layer.h), switchable at run time as in the reference code: dense (the
// original layer with its own full-precision "weight"), spn_fp, spn_ternary, ternary_b,
// ternary_c, ternary_frozen.
// The ternary rule (TWN, fixed, TTQ) is StrassenOptions::quant (layers/ternary_weight.h).
// Every mode's parameters are registered, so one model definition (and one checkpoint layout)
// serves the full-precision, baseline and Strassen runs.
//
// Inference cost (StrassenLayer::cost; N = batch; every SPN mode counted as deployed, W_b and W_c
// ternary; docs/counting.md):
//   StrassenConv2d  mults = N·H_hid·W_hid·r + N·H_out·W_out·c_out
//                   adds  = N·H_hid·W_hid·r·(c_in/g)·K² + N·H_out·W_out·c_out·r
//                   H_hid×W_hid: output of the W_b convolution (geometry()). One multiplication per
//                   hidden unit (ã, the hidden batch norm and the W_b scale folded into one
//                   factor), one per output (the output scale or the batch norm that follows: a
//                   ternary W_c cannot absorb it); W_b and W_c are dense ternary matrices, each
//                   entry one addition (zeros included).
//   StrassenLinear  mults = rows·(r + out), adds = rows·(r·in + out·r), rows = N for [N, in]
//   adds_nonzero: the same additions with the zero entries of W_b, W_c skipped (the pattern of
//   ternary_matrices()). Parameters: W_b, W_c at 2 bits per entry; ã, the hidden BN's β, the bias
//   and TTQ scales at 32; the dense "weight" unused. In dense mode the layer costs what the layer
//   it replaces costs (Conv2d, Linear), with "weight" and the bias used and the rest unused.
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/layer.h"
#include "layers/strassen_layer.h"
#include "layers/ternary_weight.h"

namespace st {

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

class StrassenConv2d : public Layer, public StrassenLayer {
 public:
  StrassenConv2d(const Conv2dLayerOptions& original, const StrassenOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  void set_mode(StrassenMode mode) override { opt_.mode = mode; }
  StrassenMode mode() const override { return opt_.mode; }
  const Conv2dLayerOptions& original() const { return orig_; }  // the convolution it replaces
  const StrassenOptions& options() const { return opt_; }
  // Hidden size and crop offset for an input extent (see the header comment).
  struct Geometry {
    int64_t kernel, stride, pad, crop, out;  // W_b kernel/stride/padding, crop start, original output extent
  };
  Geometry geometry(int64_t in_extent) const;
  // Export form (StrassenLayer): W_b, W_c replaced by their {−1, 0, 1} codes, W_c's scale
  // multiplied into ã and W_b's moved into the hidden BN's running statistics, so that the
  // evaluation-mode forward is unchanged.
  void fold_ternary_scales() override;
  // "w_b" [r, c_in/g, K, K] and "w_c" [r, c_out, p, p].
  std::vector<TernaryMatrix> ternary_matrices() const override;
  // Calls: x [N, c_in, H, W] -> [N, c_out, H_out, W_out].
  LayerCost cost(const std::vector<CallShapes>& calls) const override;

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

class StrassenLinear : public Layer, public StrassenLayer {
 public:
  StrassenLinear(int64_t in_features, int64_t out_features, bool bias, const StrassenOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  void set_mode(StrassenMode mode) override { opt_.mode = mode; }
  StrassenMode mode() const override { return opt_.mode; }
  void fold_ternary_scales() override;  // as StrassenConv2d's (W_b's scale into ã too without hidden BN)
  // "w_b" [r, in] and "w_c" [out, r].
  std::vector<TernaryMatrix> ternary_matrices() const override;
  // Calls: x [..., in] -> [..., out].
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
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

// fold_ternary_scales(Module&), set_strassen_mode(Module&, StrassenMode), parse_strassen_mode:
// layers/strassen_layer.h.

}  // namespace st
