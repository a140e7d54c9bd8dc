#include "core/kernels/norm.h"

#include <algorithm>
#include <cmath>

namespace st {

namespace {

// Below this many elements one thread is faster than waking the team.
constexpr int64_t kParallelMin = 32768;
// Values summed in float (in SIMD lanes) before the block's sum joins the double total.
constexpr int64_t kNormBlock = 512;

// Σ x over a block.
inline real block_sum(const real* x, int64_t n) {
  real s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

// Σ (x - mu)² over a block.
inline real block_sq_dev(const real* x, int64_t n, real mu) {
  real s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const real d = x[i] - mu;
    s += d * d;
  }
  return s;
}

// Channel c's values of every sample, in blocks: f(offset of the block, its length).
template <class F>
inline void for_each_block(int64_t N, int64_t C, int64_t S, int64_t c, F&& f) {
  for (int64_t n = 0; n < N; ++n) {
    const int64_t row = (n * C + c) * S;
    for (int64_t i0 = 0; i0 < S; i0 += kNormBlock) f(row + i0, std::min(kNormBlock, S - i0));
  }
}

// How the backward finds the ReLU's mask: none (no ReLU), from the forward's output (y > 0), or
// from the input (the forward's pre-ReLU value a * x + b > 0 recomputed with its own a and b).
enum Mask { kNoMask = 0, kFromY = 1, kFromX = 2 };

// The forward's per-channel affine: y = a * x + b before the residual and the ReLU. One function
// for the forward and for kFromX, so that both compute a * x + b from the same a and b.
struct Affine {
  real a, b;
};
inline Affine channel_affine(real gamma, real beta, real mean, real inv_std) {
  const real a = gamma * inv_std;
  return {a, beta - mean * a};
}
inline real pre_relu(const Affine& f, real x) { return f.a * x + f.b; }

// dy masked by the ReLU at element i.
template <int MASK>
inline real masked(const real* dy, const real* x, const real* y, const Affine& f, int64_t i) {
  if (MASK == kFromY) return y[i] > 0 ? dy[i] : real(0);
  if (MASK == kFromX) return pre_relu(f, x[i]) > 0 ? dy[i] : real(0);
  return dy[i];
}

// Σ g and Σ g * (x - mu) over a block, g = dy masked as MASK says; g also stored in g_out when
// STORE.
template <int MASK, bool STORE = false>
inline void block_grad_sums(const real* x, const real* dy, const real* y, const Affine& f, int64_t n, real mu,
                            double& sum_g, double& sum_g_xc, real* g_out = nullptr) {
  real a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < n; ++i) {
    const real g = masked<MASK>(dy, x, y, f, i);
    if (STORE) g_out[i] = g;
    a += g;
    b += g * (x[i] - mu);
  }
  sum_g += a;
  sum_g_xc += b;
}

// What a backward block does with dx and with dresidual.
enum Out { kNone = 0, kWrite = 1, kAdd = 2 };
inline int out_mode(const real* p, bool add) { return p ? (add ? kAdd : kWrite) : kNone; }

// dx and dresidual over one block: g = dy masked as MASK says;
// dx = (or +=) scale * (g - m_g - (x - mu) * k); dresidual = (or +=) g.
template <int MASK, int DX, int DR>
void grad_block(const real* x, const real* dy, const real* y, const Affine& f, int64_t n, real mu, real scale,
                real m_g, real k, real* dx, real* dr) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const real g = masked<MASK>(dy, x, y, f, i);
    if (DX != kNone) {
      const real v = scale * (g - m_g - (x[i] - mu) * k);
      dx[i] = DX == kAdd ? dx[i] + v : v;
    }
    if (DR != kNone) dr[i] = DR == kAdd ? dr[i] + g : g;
  }
}

using GradBlock = void (*)(const real*, const real*, const real*, const Affine&, int64_t, real, real, real, real,
                           real*, real*);
template <int MASK>
constexpr GradBlock kGradBlocks[3][3] = {
    {nullptr, grad_block<MASK, kNone, kWrite>, grad_block<MASK, kNone, kAdd>},
    {grad_block<MASK, kWrite, kNone>, grad_block<MASK, kWrite, kWrite>, grad_block<MASK, kWrite, kAdd>},
    {grad_block<MASK, kAdd, kNone>, grad_block<MASK, kAdd, kWrite>, grad_block<MASK, kAdd, kAdd>}};

template <int MASK>
void backward_channel(const real* x, const real* dy, const real* y, const Affine& f, int64_t N, int64_t C, int64_t S,
                      int64_t c, real mu, real is, real gamma, bool batch_stats, const BatchNormGrads& out) {
  const int64_t M = N * S;
  const bool Y = MASK == kFromY;
  const bool sums = out.dgamma || out.dbeta || (out.dx && batch_stats);
  // When dresidual is written outright (it is g) and the sums pass runs, that pass writes it and
  // the dx pass reads g back from it in place of dy and the mask's tensor: one tensor fewer read
  // (a residual block's join, where the mask comes from y). Same values: g is stored as is.
  const bool g_in_dr = sums && out.dresidual && !out.dresidual_add;
  double sum_g = 0, sum_g_xc = 0;
  if (sums)
    for_each_block(N, C, S, c, [&](int64_t o, int64_t n) {
      const real* yb = Y ? y + o : nullptr;
      if (g_in_dr)
        block_grad_sums<MASK, true>(x + o, dy + o, yb, f, n, mu, sum_g, sum_g_xc, out.dresidual + o);
      else
        block_grad_sums<MASK>(x + o, dy + o, yb, f, n, mu, sum_g, sum_g_xc);
    });
  const double sum_g_xhat = sum_g_xc * is;
  if (out.dbeta) out.dbeta[c] += static_cast<real>(sum_g);
  if (out.dgamma) out.dgamma[c] += static_cast<real>(sum_g_xhat);
  const GradBlock block = g_in_dr ? kGradBlocks<kNoMask>[out_mode(out.dx, out.dx_add)][kNone]
                                  : kGradBlocks<MASK>[out_mode(out.dx, out.dx_add)][out_mode(out.dresidual, out.dresidual_add)];
  if (!block) return;
  const real* g_src = g_in_dr ? out.dresidual : dy;
  const bool read_y = Y && !g_in_dr;
  const real scale = gamma * is;
  // dx = scale * (g - mean(g) - x̂ * mean(g * x̂)): the last two terms are the paths through the
  // batch mean and the batch variance (absent in evaluation mode).
  const real m_g = batch_stats ? static_cast<real>(sum_g / static_cast<double>(M)) : real(0);
  const real k = batch_stats ? static_cast<real>(sum_g_xhat / static_cast<double>(M)) * is : real(0);
  for_each_block(N, C, S, c, [&](int64_t o, int64_t n) {
    block(x + o, g_src + o, read_y ? y + o : nullptr, f, n, mu, scale, m_g, k, out.dx ? out.dx + o : nullptr,
          !g_in_dr && out.dresidual ? out.dresidual + o : nullptr);
  });
}

// y = a * x + b (+ r), then max(·, 0) when RELU, over one block.
template <bool RELU>
inline void affine_block(const real* x, const real* r, const Affine& f, int64_t n, real* y) {
  if (r) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const real v = pre_relu(f, x[i]) + r[i];
      y[i] = RELU ? std::max(v, real(0)) : v;
    }
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const real v = pre_relu(f, x[i]);
      y[i] = RELU ? std::max(v, real(0)) : v;
    }
  }
}

}  // namespace

void batch_norm_forward(const real* x, int64_t N, int64_t C, int64_t S, const real* gamma, const real* beta,
                        const real* residual, real eps, bool batch_stats, bool relu, real* mean, real* var,
                        real* inv_std, real* y) {
  const int64_t M = N * S;
#pragma omp parallel for if (M * C > kParallelMin) schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    if (batch_stats) {
      // Two passes (mean, then squared deviations): the one-pass E[x²] - E[x]² cancels badly
      // when |mean| is large next to the spread. The second pass reads the channel from cache.
      double s = 0;
      for_each_block(N, C, S, c, [&](int64_t o, int64_t n) { s += block_sum(x + o, n); });
      const real mu = static_cast<real>(s / static_cast<double>(M));
      double ss = 0;
      for_each_block(N, C, S, c, [&](int64_t o, int64_t n) { ss += block_sq_dev(x + o, n, mu); });
      mean[c] = mu;
      var[c] = static_cast<real>(ss / static_cast<double>(M));
    }
    const real is = static_cast<real>(1.0 / std::sqrt(static_cast<double>(var[c]) + eps));
    inv_std[c] = is;
    // y = a * x + b with the per-channel affine folded into one multiply-add.
    const Affine f = channel_affine(gamma ? gamma[c] : real(1), beta ? beta[c] : real(0), mean[c], is);
    for_each_block(N, C, S, c, [&](int64_t o, int64_t n) {
      const real* rb = residual ? residual + o : nullptr;
      if (relu)
        affine_block<true>(x + o, rb, f, n, y + o);
      else
        affine_block<false>(x + o, rb, f, n, y + o);
    });
  }
}

void batch_norm_backward(const real* x, const real* dy, int64_t N, int64_t C, int64_t S, const real* mean,
                         const real* inv_std, const real* gamma, bool batch_stats, const ReluMask& relu,
                         const BatchNormGrads& out) {
  const int64_t M = N * S;
#pragma omp parallel for if (M * C > kParallelMin) schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const real g = gamma ? gamma[c] : real(1);
    if (relu.y) {
      backward_channel<kFromY>(x, dy, relu.y, Affine{}, N, C, S, c, mean[c], inv_std[c], g, batch_stats, out);
    } else if (relu.from_x) {
      const Affine f = channel_affine(g, relu.beta ? relu.beta[c] : real(0), mean[c], inv_std[c]);
      backward_channel<kFromX>(x, dy, nullptr, f, N, C, S, c, mean[c], inv_std[c], g, batch_stats, out);
    } else {
      backward_channel<kNoMask>(x, dy, nullptr, Affine{}, N, C, S, c, mean[c], inv_std[c], g, batch_stats, out);
    }
  }
}

}  // namespace st
