#pragma once
// Batch normalisation over the channel axis 1 of [N, C] or [N, C, ...] inputs.
#include "core/tensor.h"

namespace st {

struct BatchNormOptions {
  // PyTorch's convention: running = (1 - momentum) * running + momentum * batch statistic.
  // (MXNet's "momentum 0.9" is momentum 0.1 here.)
  real momentum = real(0.1);
  real eps = real(1e-5);
  // Apply max(·, 0) to the result, fused: relu(batch_norm(x)) in one op (one pass over the
  // output, no intermediate tensor); the backward masks the gradient by output > 0, as relu's.
  bool relu = false;
};

// training: normalises with the batch mean and (biased) variance over all axes but 1, and
// updates running_mean/running_var in place (the running variance uses the unbiased estimate),
// when they are defined. evaluation: normalises with running_mean/running_var.
// weight (γ) and bias (β): [C] each, or undefined (γ = 1, β = 0). A γ that is learnable requires
// grad; a fixed γ is a tensor that does not. Returns the shape of x.
// Backward: in training the full gradient through the batch mean and variance; in evaluation the
// running statistics are constants. Saves only mean[C] and inv_std[C] (plus the inputs x, γ).
// Throws st::Error naming the shapes when x is not [N, C, ...], a per-channel tensor is not [C]
// (e.g. "weight [5] does not match input [2, 4, 3, 3]"), evaluation lacks running statistics, or
// training has only one value per channel.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, const BatchNormOptions& opt = {});

// batch_norm(x) + residual, then the ReLU when opt.relu: a residual block's join (BN → add → ReLU)
// as one op, one pass over the output and no intermediate tensor. residual: the shape of x; its
// gradient is the (ReLU-masked) output gradient. Throws st::Error naming both shapes when they
// differ.
Tensor batch_norm_add(const Tensor& x, const Tensor& residual, const Tensor& weight, const Tensor& bias,
                      Tensor running_mean, Tensor running_var, bool training, const BatchNormOptions& opt = {});

}  // namespace st
