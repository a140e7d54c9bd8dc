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

// Σ g and Σ g * (x - mu) over a block, g = dy masked by y > 0 when RELU.
template <bool RELU>
inline void block_grad_sums(const real* x, const real* dy, const real* y, int64_t n, real mu, double& sum_g,
                            double& sum_g_xc) {
  real a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < n; ++i) {
    const real g = RELU ? (y[i] > 0 ? dy[i] : real(0)) : dy[i];
    a += g;
    b += g * (x[i] - mu);
  }
  sum_g += a;
  sum_g_xc += b;
}

template <bool RELU>
void backward_channel(const real* x, const real* dy, const real* y, int64_t N, int64_t C, int64_t S, int64_t c,
                      real mu, real is, real gamma, bool batch_stats, real* dx, real* dgamma, real* dbeta,
                      real* dres) {
  const int64_t M = N * S;
  double sum_g = 0, sum_g_xc = 0;
  if (dgamma || dbeta || (dx && batch_stats))
    for_each_block(N, C, S, c, [&](int64_t o, int64_t n) {
      block_grad_sums<RELU>(x + o, dy + o, RELU ? y + o : nullptr, n, mu, sum_g, sum_g_xc);
    });
  const double sum_g_xhat = sum_g_xc * is;
  if (dbeta) dbeta[c] += static_cast<real>(sum_g);
  if (dgamma) dgamma[c] += static_cast<real>(sum_g_xhat);
  if (!dx && !dres) return;
  const real scale = gamma * is;
  // dx = scale * (g - mean(g) - x̂ * mean(g * x̂)): the last two terms are the paths through the
  // batch mean and the batch variance (absent in evaluation mode).
  const real m_g = batch_stats ? static_cast<real>(sum_g / static_cast<double>(M)) : real(0);
  const real k = batch_stats ? static_cast<real>(sum_g_xhat / static_cast<double>(M)) * is : real(0);
  for_each_block(N, C, S, c, [&](int64_t o, int64_t n) {
    const real* xb = x + o;
    const real* dyb = dy + o;
    const real* yb = RELU ? y + o : nullptr;
    real* dxb = dx ? dx + o : nullptr;
    real* drb = dres ? dres + o : nullptr;
    if (dxb && drb) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const real g = RELU ? (yb[i] > 0 ? dyb[i] : real(0)) : dyb[i];
        dxb[i] += scale * (g - m_g - (xb[i] - mu) * k);
        drb[i] += g;
      }
    } else if (dxb) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        const real g = RELU ? (yb[i] > 0 ? dyb[i] : real(0)) : dyb[i];
        dxb[i] += scale * (g - m_g - (xb[i] - mu) * k);
      }
    } else {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) drb[i] += RELU ? (yb[i] > 0 ? dyb[i] : real(0)) : dyb[i];
    }
  });
}

// y = a * x + b (+ r), then max(·, 0) when RELU, over one block.
template <bool RELU>
inline void affine_block(const real* x, const real* r, real a, real b, int64_t n, real* y) {
  if (r) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const real v = a * x[i] + b + r[i];
      y[i] = RELU ? std::max(v, real(0)) : v;
    }
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const real v = a * x[i] + b;
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
    const real a = (gamma ? gamma[c] : real(1)) * is;
    const real b = (beta ? beta[c] : real(0)) - mean[c] * a;
    for_each_block(N, C, S, c, [&](int64_t o, int64_t n) {
      const real* rb = residual ? residual + o : nullptr;
      if (relu)
        affine_block<true>(x + o, rb, a, b, n, y + o);
      else
        affine_block<false>(x + o, rb, a, b, n, y + o);
    });
  }
}

void batch_norm_backward(const real* x, const real* dy, int64_t N, int64_t C, int64_t S, const real* mean,
                         const real* inv_std, const real* gamma, bool batch_stats, const real* relu_y, real* dx,
                         real* dgamma, real* dbeta, real* dresidual) {
  const int64_t M = N * S;
#pragma omp parallel for if (M * C > kParallelMin) schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const real g = gamma ? gamma[c] : real(1);
    if (relu_y)
      backward_channel<true>(x, dy, relu_y, N, C, S, c, mean[c], inv_std[c], g, batch_stats, dx, dgamma, dbeta,
                             dresidual);
    else
      backward_channel<false>(x, dy, nullptr, N, C, S, c, mean[c], inv_std[c], g, batch_stats, dx, dgamma, dbeta,
                              dresidual);
  }
}

}  // namespace st
