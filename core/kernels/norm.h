#pragma once
// Batch-normalisation kernels on raw buffers. The input is viewed as [N, C, S]: N samples, C
// channels, S = product of the spatial extents (1 for [N, C] inputs); channel c of sample n is
// the S contiguous values at x + (n * C + c) * S. The kernels parallelise over channels and
// vectorise along S: float sums over blocks of at most kNormBlock values, added up in double, so
// that large N * S does not lose precision. Optionally a residual is added and a ReLU follows,
// fused (a residual block's join in one pass over the output instead of three, and no
// intermediate tensors).
#include <cstdint>

#include "core/real.h"

namespace st {

// y[N, C, S] = gamma[c] * (x - mean[c]) * inv_std[c] + beta[c] (+ residual[N, C, S] when not
// null), inv_std = 1 / sqrt(var + eps); then y = max(y, 0) when relu.
//   batch_stats true:  mean[C] and var[C] are OUTPUTS: the batch mean and biased variance of x
//                      over N and S (training mode).
//   batch_stats false: mean[C] and var[C] are INPUTS (the running estimates; evaluation mode).
// inv_std[C] is always an output. gamma and beta may be null (1 and 0).
void batch_norm_forward(const real* x, int64_t N, int64_t C, int64_t S, const real* gamma, const real* beta,
                        const real* residual, real eps, bool batch_stats, bool relu, real* mean, real* var,
                        real* inv_std, real* y);

// Where batch_norm_backward puts its gradients: any pointer may be null (not needed). dgamma[C]
// and dbeta[C] are added to; dx[N, C, S] and dresidual[N, C, S] are added to when their flag is
// set, else written outright (their old values are not read).
struct BatchNormGrads {
  real* dx = nullptr;
  bool dx_add = true;
  real* dgamma = nullptr;
  real* dbeta = nullptr;
  real* dresidual = nullptr;  // when the forward added a residual
  bool dresidual_add = true;
};

// The ReLU mask of the backward when the forward had a fused ReLU: dy counts only where the
// forward's output was > 0. Read from that output (y), or, when no residual was added, recomputed
// from x (from_x): the forward's pre-ReLU value gamma * inv_std * (x - mean) + beta, computed as
// the forward computed it (same a = gamma * inv_std and b = beta - mean * a, same multiply-add),
// so the mask is the forward's own and one tensor fewer is read. beta: the forward's (null: 0).
// All fields empty: no ReLU.
struct ReluMask {
  const real* y = nullptr;
  bool from_x = false;
  const real* beta = nullptr;
};

// The gradients of batch_norm_forward given dy[N, C, S], the input x and the mean[C] / inv_std[C]
// the forward used, with dy masked by the forward's ReLU as relu says. With g the masked dy,
// x̂ = (x - mean) * inv_std and M = N * S:
//   dresidual = g
//   dbeta  += Σ g                   dgamma += Σ g * x̂
//   batch_stats true  (the statistics depend on x):
//     dx = gamma * inv_std / M * (M * g - Σ g - x̂ * Σ g * x̂)
//   batch_stats false (the statistics are constants):
//     dx = gamma * inv_std * g
void batch_norm_backward(const real* x, const real* dy, int64_t N, int64_t C, int64_t S, const real* mean,
                         const real* inv_std, const real* gamma, bool batch_stats, const ReluMask& relu,
                         const BatchNormGrads& out);

// The naive loops (norm_reference.cpp): one element at a time, double accumulators, one thread.
// Same contracts as above; the references the kernels are tested against.
void batch_norm_forward_reference(const real* x, int64_t N, int64_t C, int64_t S, const real* gamma,
                                  const real* beta, const real* residual, real eps, bool batch_stats, bool relu,
                                  real* mean, real* var, real* inv_std, real* y);
void batch_norm_backward_reference(const real* x, const real* dy, int64_t N, int64_t C, int64_t S,
                                   const real* mean, const real* inv_std, const real* gamma, bool batch_stats,
                                   const ReluMask& relu, const BatchNormGrads& out);

}  // namespace st
