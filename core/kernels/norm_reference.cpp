// The naive batch-norm loops (double accumulators, one element at a time): the references the
// vectorised kernels in norm.cpp are tested against.
#include "core/kernels/norm.h"

#include <cmath>

namespace st {

void batch_norm_forward_reference(const real* x, int64_t N, int64_t C, int64_t S, const real* gamma,
                                  const real* beta, const real* residual, real eps, bool batch_stats, bool relu,
                                  real* mean, real* var, real* inv_std, real* y) {
  const int64_t M = N * S;
  for (int64_t c = 0; c < C; ++c) {
    if (batch_stats) {
      // Two passes (mean, then squared deviations): the one-pass E[x²] - E[x]² cancels badly
      // when |mean| is large next to the spread.
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        const real* xc = x + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) s += xc[i];
      }
      const double mu = s / static_cast<double>(M);
      double ss = 0;
      for (int64_t n = 0; n < N; ++n) {
        const real* xc = x + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          const double d = xc[i] - mu;
          ss += d * d;
        }
      }
      mean[c] = static_cast<real>(mu);
      var[c] = static_cast<real>(ss / static_cast<double>(M));
    }
    const real is = static_cast<real>(1.0 / std::sqrt(static_cast<double>(var[c]) + eps));
    inv_std[c] = is;
    // y = a * x + b with the per-channel affine folded into one multiply-add.
    const real g = gamma ? gamma[c] : real(1);
    const real a = g * is;
    const real b = (beta ? beta[c] : real(0)) - mean[c] * a;
    for (int64_t n = 0; n < N; ++n) {
      const real* xc = x + (n * C + c) * S;
      const real* rc = residual ? residual + (n * C + c) * S : nullptr;
      real* yc = y + (n * C + c) * S;
      for (int64_t i = 0; i < S; ++i) {
        const real v = a * xc[i] + b + (rc ? rc[i] : real(0));
        yc[i] = relu && v < 0 ? real(0) : v;
      }
    }
  }
}

void batch_norm_backward_reference(const real* x, const real* dy, int64_t N, int64_t C, int64_t S,
                                   const real* mean, const real* inv_std, const real* gamma, bool batch_stats,
                                   const ReluMask& relu, const BatchNormGrads& out) {
  const int64_t M = N * S;
  // Written outright = zeroed, then added to.
  real* dx = out.dx;
  real* dgamma = out.dgamma;
  real* dbeta = out.dbeta;
  real* dresidual = out.dresidual;
  for (int64_t i = 0; dx && !out.dx_add && i < M * C; ++i) dx[i] = 0;
  for (int64_t i = 0; dresidual && !out.dresidual_add && i < M * C; ++i) dresidual[i] = 0;
  for (int64_t c = 0; c < C; ++c) {
    const real mu = mean[c], is = inv_std[c];
    const double gc = gamma ? gamma[c] : 1.0, bc = relu.beta ? relu.beta[c] : 0.0;
    // Whether the forward's ReLU let element `at` of the tensor through.
    const auto passes = [&](int64_t at) {
      if (relu.y) return relu.y[at] > 0;
      if (relu.from_x) return gc * is * (static_cast<double>(x[at]) - mu) + bc > 0;
      return true;
    };
    // Σ dy and Σ dy * x̂ over the channel: needed by dbeta, dgamma and the training-mode dx.
    double sum_dy = 0, sum_dy_xhat = 0;
    const bool need_sums = dgamma || dbeta || (dx && batch_stats);
    for (int64_t n = 0; need_sums && n < N; ++n) {
      const real* xc = x + (n * C + c) * S;
      const real* dyc = dy + (n * C + c) * S;
      for (int64_t i = 0; i < S; ++i) {
        const real d = passes((n * C + c) * S + i) ? dyc[i] : real(0);
        sum_dy += d;
        sum_dy_xhat += static_cast<double>(d) * ((xc[i] - mu) * is);
      }
    }
    if (dbeta) dbeta[c] += static_cast<real>(sum_dy);
    if (dgamma) dgamma[c] += static_cast<real>(sum_dy_xhat);
    for (int64_t n = 0; dresidual && n < N; ++n) {
      const real* dyc = dy + (n * C + c) * S;
      real* drc = dresidual + (n * C + c) * S;
      for (int64_t i = 0; i < S; ++i) drc[i] += passes((n * C + c) * S + i) ? dyc[i] : real(0);
    }
    if (!dx) continue;
    const real scale = (gamma ? gamma[c] : real(1)) * is;
    if (batch_stats) {
      // dx = scale * (dy - mean(dy) - x̂ * mean(dy * x̂)): the last two terms are the paths
      // through the batch mean and the batch variance.
      const real m_dy = static_cast<real>(sum_dy / static_cast<double>(M));
      const real m_dy_xhat = static_cast<real>(sum_dy_xhat / static_cast<double>(M));
      for (int64_t n = 0; n < N; ++n) {
        const real* xc = x + (n * C + c) * S;
        const real* dyc = dy + (n * C + c) * S;
        real* dxc = dx + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          const real d = passes((n * C + c) * S + i) ? dyc[i] : real(0);
          dxc[i] += scale * (d - m_dy - (xc[i] - mu) * is * m_dy_xhat);
        }
      }
    } else {
      for (int64_t n = 0; n < N; ++n) {
        const real* dyc = dy + (n * C + c) * S;
        real* dxc = dx + (n * C + c) * S;
        for (int64_t i = 0; i < S; ++i) dxc[i] += passes((n * C + c) * S + i) ? scale * dyc[i] : real(0);
      }
    }
  }
}

}  // namespace st
