#include "core/ops/quantize.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

// Values summed in float (in SIMD lanes) before the block's sum joins the double total.
constexpr int64_t kSumBlock = 512;

// TWN threshold and scale of w: Δ = 0.7·mean|w|, α = mean |w| over entries with |w| > Δ
// (α = 0 when no entry survives, so an all-zero weight stays zero). Branch-free block sums: the
// weights' signs are random, so a branch on |w| > Δ mispredicts half the time.
void twn_threshold(const Tensor& w, real* delta, real* alpha) {
  const real* p = w.data();
  const int64_t n = w.numel();
  double abs_sum = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    const int64_t i1 = std::min(n, i0 + kSumBlock);
    real s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = i0; i < i1; ++i) s += std::fabs(p[i]);
    abs_sum += s;
  }
  const real d = static_cast<real>(0.7 * abs_sum / static_cast<double>(std::max<int64_t>(n, 1)));
  double kept = 0;
  int64_t count = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    const int64_t i1 = std::min(n, i0 + kSumBlock);
    real s = 0;
    int c = 0;
#pragma omp simd reduction(+ : s, c)
    for (int64_t i = i0; i < i1; ++i) {
      const real a = std::fabs(p[i]);
      const bool keep = a > d;
      s += keep ? a : real(0);
      c += keep ? 1 : 0;
    }
    kept += s;
    count += c;
  }
  *delta = d;
  *alpha = count ? static_cast<real>(kept / static_cast<double>(count)) : real(0);
}

inline real code(real v, real delta) { return v > delta ? real(1) : (v < -delta ? real(-1) : real(0)); }

// out = scale · code(w, delta); backward: straight-through to w.
Tensor ternary_ste(const char* name, const Tensor& w, real delta, real scale) {
  Tensor out = Tensor::empty(w.shape());
  const real* p = w.data();
  real* o = out.data();
  for (int64_t i = 0; i < w.numel(); ++i) o[i] = scale * code(p[i], delta);
  if (!needs_graph({&w})) return out;
  record_node(name, {w}, {out}, [w](const std::vector<Tensor>& g) { accumulate_grad(w, g[0]); });
  return out;
}

}  // namespace

Tensor ternarize_twn(const Tensor& w) {
  ProfileScope prof("ternarize_twn");
  real delta, alpha;
  twn_threshold(w, &delta, &alpha);
  return ternary_ste("ternarize_twn", w, delta, alpha);
}

Tensor ternarize_fixed(const Tensor& w, real step) {
  ProfileScope prof("ternarize_fixed");
  ST_CHECK(step > 0, "ternarize_fixed: step " << step << " must be positive");
  return ternary_ste("ternarize_fixed", w, step / 2, step);
}

Tensor ternarize_ttq(const Tensor& w, const Tensor& wp, const Tensor& wn, real t) {
  ProfileScope prof("ternarize_ttq");
  ST_CHECK(wp.numel() == 1 && wn.numel() == 1, "ternarize_ttq: scales must have one element each, got "
                                                   << shape_str(wp.shape()) << " and " << shape_str(wn.shape()));
  ST_CHECK(t >= 0 && t < 1, "ternarize_ttq: threshold fraction " << t << " is outside [0, 1)");
  const real* p = w.data();
  const int64_t n = w.numel();
  real max_abs = 0;
  for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(p[i]));
  const real delta = t * max_abs;
  const real vp = wp.data()[0], vn = wn.data()[0];
  Tensor out = Tensor::empty(w.shape());
  real* o = out.data();
  for (int64_t i = 0; i < n; ++i) {
    const real c = code(p[i], delta);
    o[i] = c > 0 ? vp : (c < 0 ? -vn : real(0));
  }
  if (!needs_graph({&w, &wp, &wn})) return out;
  Tensor sw = w.detach();
  record_node("ternarize_ttq", {w, wp, wn}, {out}, [w, wp, wn, sw, delta](const std::vector<Tensor>& g) {
    const real* gp = g[0].data();
    const real* lw = sw.data();
    const int64_t count = sw.numel();
    const real vp = wp.data()[0], vn = wn.data()[0];
    double dp = 0, dn = 0;
    real* dw = w.requires_grad() ? grad_buffer(w).data() : nullptr;
    for (int64_t i = 0; i < count; ++i) {
      const real c = code(lw[i], delta);
      if (c > 0) {
        dp += gp[i];
        if (dw) dw[i] += vp * gp[i];
      } else if (c < 0) {
        dn -= gp[i];
        if (dw) dw[i] += vn * gp[i];
      } else if (dw) {
        dw[i] += gp[i];
      }
    }
    if (wp.requires_grad()) grad_buffer(wp).data()[0] += static_cast<real>(dp);
    if (wn.requires_grad()) grad_buffer(wn).data()[0] += static_cast<real>(dn);
  });
  return out;
}

TernaryCodes ternary_codes_twn(const Tensor& w) {
  real delta, alpha;
  twn_threshold(w, &delta, &alpha);
  TernaryCodes c{Tensor::empty(w.shape()), alpha};
  for (int64_t i = 0; i < w.numel(); ++i) c.codes.data()[i] = code(w.data()[i], delta);
  return c;
}

TernaryCodes ternary_codes_fixed(const Tensor& w, real step) {
  ST_CHECK(step > 0, "ternary_codes_fixed: step " << step << " must be positive");
  TernaryCodes c{Tensor::empty(w.shape()), step};
  for (int64_t i = 0; i < w.numel(); ++i) c.codes.data()[i] = code(w.data()[i], step / 2);
  return c;
}

}  // namespace st
