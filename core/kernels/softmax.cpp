#include "core/kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace st {

namespace {

// Below this many elements one thread is faster than waking the team.
constexpr int64_t kParallelMin = 32768;

// log Σ_k exp(scale * x[k * stride]) for k < n, as max + log Σ exp(scale * x - max), returned
// in two parts: callers form (scale * x - max) - log_sum rather than scale * x - (max + log_sum),
// which would round the small log_sum away next to a large max (logits ~1e4 in float).
// The exponentials are in `real` (float exp is several times cheaper, and after subtracting the
// max every term is in (0, 1]); the sum is in double.
struct LogSumExp {
  real max;
  real log_sum;
};

inline LogSumExp log_sum_exp(const real* x, int64_t n, int64_t stride, real scale = 1) {
  real mx = -std::numeric_limits<real>::infinity();
  for (int64_t k = 0; k < n; ++k) mx = std::max(mx, scale * x[k * stride]);
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += std::exp(scale * x[k * stride] - mx);
  return {mx, static_cast<real>(std::log(s))};
}

}  // namespace

void softmax_forward(const real* x, int64_t outer, int64_t extent, int64_t inner, bool log, real* y) {
  const int64_t rows = outer * inner;
#pragma omp parallel for if (rows * extent > kParallelMin) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / inner, i = r % inner;
    const real* xr = x + o * extent * inner + i;
    real* yr = y + o * extent * inner + i;
    const LogSumExp lse = log_sum_exp(xr, extent, inner);
    for (int64_t k = 0; k < extent; ++k) {
      const real z = (xr[k * inner] - lse.max) - lse.log_sum;
      yr[k * inner] = log ? z : std::exp(z);
    }
  }
}

void softmax_backward(const real* y, const real* dy, int64_t outer, int64_t extent, int64_t inner, bool log,
                      real* dx) {
  const int64_t rows = outer * inner;
#pragma omp parallel for if (rows * extent > kParallelMin) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r / inner, i = r % inner;
    const int64_t base = o * extent * inner + i;
    const real *yr = y + base, *dyr = dy + base;
    real* dxr = dx + base;
    double s = 0;
    if (log) {
      for (int64_t k = 0; k < extent; ++k) s += dyr[k * inner];
      for (int64_t k = 0; k < extent; ++k)
        dxr[k * inner] += static_cast<real>(dyr[k * inner] - std::exp(yr[k * inner]) * s);
    } else {
      for (int64_t k = 0; k < extent; ++k) s += static_cast<double>(dyr[k * inner]) * yr[k * inner];
      for (int64_t k = 0; k < extent; ++k) dxr[k * inner] += static_cast<real>(yr[k * inner] * (dyr[k * inner] - s));
    }
  }
}

double cross_entropy_forward(const real* logits, const int64_t* labels, int64_t N, int64_t C, real* probs) {
  double total = 0;
#pragma omp parallel for if (N * C > kParallelMin) schedule(static) reduction(+ : total)
  for (int64_t n = 0; n < N; ++n) {
    const real* z = logits + n * C;
    const LogSumExp lse = log_sum_exp(z, C, 1);
    total += static_cast<double>(lse.max - z[labels[n]]) + lse.log_sum;
    if (probs)
      for (int64_t c = 0; c < C; ++c) probs[n * C + c] = std::exp((z[c] - lse.max) - lse.log_sum);
  }
  return total / static_cast<double>(N);
}

void cross_entropy_backward(const real* probs, const int64_t* labels, int64_t N, int64_t C, real dloss,
                            real* dlogits) {
  const real s = dloss / static_cast<real>(N);
#pragma omp parallel for if (N * C > kParallelMin) schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) dlogits[n * C + c] += s * probs[n * C + c];
    dlogits[n * C + labels[n]] -= s;
  }
}

double soft_cross_entropy_forward(const real* logits, const real* target, int64_t N, int64_t C, real T, real* logp,
                                  real* q) {
  const real inv_t = real(1) / T;
  double total = 0;
#pragma omp parallel for if (N * C > kParallelMin) schedule(static) reduction(+ : total)
  for (int64_t n = 0; n < N; ++n) {
    const real* z = logits + n * C;
    const real* t = target + n * C;
    const LogSumExp lse_z = log_sum_exp(z, C, 1, inv_t);
    const LogSumExp lse_t = log_sum_exp(t, C, 1, inv_t);
    double row = 0;
    for (int64_t c = 0; c < C; ++c) {
      const real lp = (inv_t * z[c] - lse_z.max) - lse_z.log_sum;
      const real qc = std::exp((inv_t * t[c] - lse_t.max) - lse_t.log_sum);
      row -= static_cast<double>(qc) * lp;
      if (logp) logp[n * C + c] = lp;
      if (q) q[n * C + c] = qc;
    }
    total += row;
  }
  return total / static_cast<double>(N);
}

void soft_cross_entropy_backward(const real* logp, const real* q, int64_t N, int64_t C, real T, real dloss,
                                 real* dlogits, real* dtarget) {
  const double s = static_cast<double>(dloss) / (static_cast<double>(N) * T);
#pragma omp parallel for if (N * C > kParallelMin) schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const real* lp = logp + n * C;
    const real* qr = q + n * C;
    if (dlogits)
      for (int64_t c = 0; c < C; ++c) dlogits[n * C + c] += static_cast<real>(s * (std::exp(lp[c]) - qr[c]));
    if (dtarget) {
      double row = 0;  // L_n
      for (int64_t c = 0; c < C; ++c) row -= static_cast<double>(qr[c]) * lp[c];
      for (int64_t c = 0; c < C; ++c) dtarget[n * C + c] += static_cast<real>(s * qr[c] * (-lp[c] - row));
    }
  }
}

}  // namespace st
