#pragma once
// Ternary quantizers (StrassenNets §3), as autograd ops. The forward pass uses the quantized
// weight; the latent full-precision weight receives a straight-through gradient.
//
//   ternarize_twn(w)        TWN (Li & Liu 2016), per tensor: Δ = 0.7·mean|w|,
//                           q = sign(w)·[|w| > Δ], α = mean |w| over the surviving entries;
//                           forward α·q; backward: grad passes to w unchanged.
//   ternarize_fixed(w, s)   +s where w > s/2, −s where w < −s/2, else 0; straight-through.
//   ternarize_ttq(w, wp, wn, t)
//                           TTQ (Zhu et al. 2017): Δ = t·max|w|; forward +wp where w > Δ,
//                           −wn where w < −Δ, else 0 (wp, wn: learned scalars, shape [1]).
//                           d/dwp = sum of grad over positive entries, d/dwn = −sum over negative
//                           entries; w receives grad·wp on positive, grad on zero and grad·wn on
//                           negative entries.
// ternary_codes(w, ...) give the {−1, 0, 1} pattern and scale of the same rules, without autograd
// (for exporting a trained model and counting).
#include "core/tensor.h"

namespace st {

Tensor ternarize_twn(const Tensor& w);
Tensor ternarize_fixed(const Tensor& w, real step);
Tensor ternarize_ttq(const Tensor& w, const Tensor& wp, const Tensor& wn, real threshold_fraction = real(0.05));

struct TernaryCodes {
  Tensor codes;       // same shape as w, values in {−1, 0, 1}
  real scale = 1;     // TWN α; fixed: step
};
TernaryCodes ternary_codes_twn(const Tensor& w);
TernaryCodes ternary_codes_fixed(const Tensor& w, real step);

}  // namespace st
