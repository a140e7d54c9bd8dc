#pragma once
// 2-D convolution and transposed convolution on NCHW tensors. The kernels (core/kernels/conv.h)
// are register-tiled GEMMs reading a shifted copy of the image instead of an im2col matrix;
// core/kernels/conv_reference.h holds the direct-loop references the tests compare against.
#include <cstdint>

#include "core/tensor.h"

namespace st {

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;  // zero padding on both sides of each axis
  int64_t groups = 1;
  static Conv2dOptions make(int64_t stride, int64_t pad, int64_t groups = 1) {
    return {stride, stride, pad, pad, groups};
  }
};

// x: [N, C_in, H, W]; weight: [C_out, C_in/groups, kH, kW]; bias: [C_out] or undefined.
// Returns [N, C_out, (H + 2*pad_h - kH)/stride_h + 1, (W + 2*pad_w - kW)/stride_w + 1].
// C_in and C_out must be divisible by groups. Any kernel size, including 1×w.
// Throws st::Error, naming the shapes, on a channel/groups mismatch, a bias that is not
// [C_out], non-positive strides, negative padding, or a kernel larger than the padded input.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opt = {});

// Evaluation-mode batch_norm(conv2d(x, weight, bias)) with running statistics, then the ReLU when
// relu, as one convolution: the normalisation is an affine map per output channel, folded into
// the weights and bias (w'[c] = w[c]·γ[c]/sqrt(var[c] + eps), b'[c] = (b[c] − mean[c])·γ[c]/
// sqrt(var[c] + eps) + β[c]), and the ReLU is applied as the outputs are stored: one pass over the
// output where conv then batch norm take two. Equal to the two ops up to float rounding. gamma,
// beta and bias may be undefined (1, 0, 0); the rest as conv2d and batch_norm. With a residual
// (the output's shape), it is added before the ReLU, as batch_norm_add does: a residual block's
// join, relu(bn(conv(x)) + residual), with the output read and written once instead of twice.
// For inference only: throws st::Error when a graph would be recorded (an input that requires
// grad, grad mode on).
Tensor conv2d_batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var, real eps,
                              bool relu, const Conv2dOptions& opt = {}, const Tensor& residual = Tensor());

struct ConvTranspose2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t output_padding_h = 0, output_padding_w = 0;  // each < its stride
  int64_t groups = 1;
  // Explicit output size (0 = derived). When set, it must lie in
  // [(H-1)*s - 2p + k, (H-1)*s - 2p + k + s - 1] and chooses the output padding, as in PyTorch
  // (output_padding_* is then ignored for that axis). Each axis may be given on its own.
  int64_t output_h = 0, output_w = 0;
  static ConvTranspose2dOptions make(int64_t stride, int64_t pad, int64_t groups = 1) {
    ConvTranspose2dOptions o;
    o.stride_h = o.stride_w = stride;
    o.pad_h = o.pad_w = pad;
    o.groups = groups;
    return o;
  }
};

// The adjoint of conv2d with respect to its input (PyTorch's ConvTranspose2d).
// x: [N, C_in, H, W]; weight: [C_in, C_out/groups, kH, kW]; bias: [C_out] or undefined.
// Returns [N, C_out, (H-1)*stride_h - 2*pad_h + kH + output_padding_h, likewise for W].
// Throws st::Error, naming the shapes, when weight.size(0) != C_in, C_in is not divisible by
// groups, the bias is not [C_out], an output padding is not in [0, stride), a requested output
// size is out of range, or the output extent is not positive.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& opt = {});

}  // namespace st
