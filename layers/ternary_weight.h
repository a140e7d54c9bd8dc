#pragma once
// TernaryWeight: the ternary quantizer of one weight tensor of a layer (strassennets.md §3), used
// by the Strassen layers for W_b and W_c and by TernaryConv2d for the TWN/TTQ baselines.
//
//   Twn    ternarize_twn(w): α·sign(w)·[|w| > 0.7·mean|w|], α per tensor
//   Fixed  ternarize_fixed(w, step): ±step where |w| > step/2
//   Ttq    ternarize_ttq(w, W_p, W_n, t): +W_p / 0 / −W_n with Δ = t·max|w|; W_p and W_n are
//          learned scalars registered on the owning module as "<name>_pos" and "<name>_neg"
//          (shape [1]). They are initialised from the weights the first time the layer runs —
//          to TWN's α of the weight at that moment, so that a run started from a full-precision
//          checkpoint gets scales matching the loaded weights; the buffer "<name>_ttq_ready"
//          records that this happened, and travels with the checkpoint.
// All rules pass straight-through gradients to the latent full-precision weight (core/ops/quantize.h).
#include <string>

#include "core/ops/quantize.h"
#include "layers/countable.h"
#include "layers/module.h"

namespace st {

enum class TernaryRule { Twn, Fixed, Ttq };

struct TernaryQuantizerOptions {
  TernaryRule rule = TernaryRule::Twn;
  real fixed_step = real(1);        // Fixed: values ±step, threshold step/2
  real ttq_threshold = real(0.05);  // Ttq: Δ = t·max|w| (t = 0.05 in the TTQ paper)
};

// "twn", "fixed", "ttq"; throws naming an unknown name.
TernaryRule parse_ternary_rule(const std::string& name);
const char* ternary_rule_name(TernaryRule rule);

// A quantized weight in export form: the forward uses scale_pos where codes is 1, −scale_neg where
// it is −1 and 0 elsewhere. The scales are equal (TWN α, the fixed step) except for TTQ.
struct TernaryMatrix {
  std::string name;  // the parameter's name in its layer ("w_b", "weight")
  Tensor codes;      // {−1, 0, 1}, the shape of the parameter
  real scale_pos = 1, scale_neg = 1;
};

class TernaryWeight {
 public:
  TernaryWeight() = default;
  // Registers the TTQ scales (and their init flag) on `owner` under `name`_pos/_neg/_ttq_ready.
  TernaryWeight(Module& owner, const std::string& name, const TernaryQuantizerOptions& opt);
  // The quantized weight (an autograd op of w and, for TTQ, of the scales).
  Tensor quantize(const Tensor& w);
  // The {−1, 0, 1} pattern and the single scale of the quantized weight, for exporting a trained
  // model with α folded elsewhere. Throws for TTQ, whose positive and negative scales differ.
  TernaryCodes codes(const Tensor& w) const;
  // The export form of the quantized `w` under the registered name, for every rule; TTQ's scales
  // as stored (set from the weights at the first forward, 1 before).
  TernaryMatrix matrix(const Tensor& w) const;
  const TernaryQuantizerOptions& options() const { return opt_; }

 private:
  std::string name_;
  TernaryQuantizerOptions opt_;
  Tensor* pos_ = nullptr;
  Tensor* neg_ = nullptr;
  Tensor* ready_ = nullptr;
};

// The cost (layers/countable.h) of a TWN/TTQ baseline layer (TernaryConv2d, TernaryLinear) whose
// full-precision version computes `outputs` outputs with `macs` multiply-accumulates: every
// weight is ±1 or 0, so the multiply-accumulates become additions (zeros included) and one
// multiplication per output applies the scale (TTQ: two, W_p·Σ⁺ − W_n·Σ⁻); "weight" at 2 bits
// per entry, the other parameters of `layer` (bias, TTQ scales) at 32. Type and detail are left
// to the caller.
LayerCost ternary_baseline_cost(const Module& layer, TernaryRule rule, int64_t macs, int64_t outputs);

}  // namespace st
