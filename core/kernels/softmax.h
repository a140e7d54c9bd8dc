#pragma once
// Softmax-family kernels on raw buffers.
//
// softmax_* view the tensor as [outer, extent, inner] around the softmax axis: element k of the
// row (o, i) is at (o * extent + k) * inner + i. The loss kernels take row-major [N, C] logits.
// All of them subtract the row maximum before exponentiating, so logits of any magnitude are
// safe, and parallelise over rows. Backward kernels accumulate (+=).
#include <cstdint>

#include "core/real.h"

namespace st {

// y = softmax(x) along the axis, or log_softmax(x) when `log` is true.
void softmax_forward(const real* x, int64_t outer, int64_t extent, int64_t inner, bool log, real* y);

// Given the forward's output y and dy:
//   softmax:      dx += y * (dy - Σ_k dy_k y_k)
//   log_softmax:  dx += dy - exp(y) * Σ_k dy_k
void softmax_backward(const real* y, const real* dy, int64_t outer, int64_t extent, int64_t inner, bool log,
                      real* dx);

// Returns mean over n of -log softmax(logits[n])[labels[n]] for logits [N, C]; labels must be in
// [0, C) (the op checks). When probs is not null it receives softmax(logits) [N, C].
double cross_entropy_forward(const real* logits, const int64_t* labels, int64_t N, int64_t C, real* probs);

// dlogits[N, C] += dloss / N * (probs - onehot(labels)).
void cross_entropy_backward(const real* probs, const int64_t* labels, int64_t N, int64_t C, real dloss,
                            real* dlogits);

// Returns mean over n of -Σ_c q[n, c] * logp[n, c] with logp = log_softmax(logits / T) and
// q = softmax(target / T), both [N, C]. logp and q (each [N, C], may be null) receive those.
double soft_cross_entropy_forward(const real* logits, const real* target, int64_t N, int64_t C, real T, real* logp,
                                  real* q);

// With p = exp(logp), L_n = -Σ_c q logp and s = dloss / (N * T):
//   dlogits += s * (p - q)              (Σ_c q = 1)
//   dtarget += s * q * (-logp - L_n)    (through q = softmax(target / T))
// Either output may be null.
void soft_cross_entropy_backward(const real* logp, const real* q, int64_t N, int64_t C, real T, real dloss,
                                 real* dlogits, real* dtarget);

}  // namespace st
