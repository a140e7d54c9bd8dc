#pragma once
// Pooling on NCHW tensors.
#include <cstdint>

#include "core/tensor.h"

namespace st {

struct Pool2dOptions {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_h = 0, pad_w = 0;  // max pool pads with -inf, average pool with zeros
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pool: divide by the full window, as PyTorch's default
  static Pool2dOptions make(int64_t kernel, int64_t stride, int64_t pad = 0) {
    Pool2dOptions o;
    o.kernel_h = o.kernel_w = kernel;
    o.stride_h = o.stride_w = stride;
    o.pad_h = o.pad_w = pad;
    return o;
  }
};

// x: [N, C, H, W] -> [N, C, H_out, W_out], H_out = floor((H + 2p - k)/s) + 1 (ceil with
// ceil_mode, dropping a last window that would start in the padding). The gradient of max pool
// flows to the first maximal element of each window. Padding must be at most half the kernel
// (so that no window lies entirely in the padding); st::Error otherwise, and when the kernel
// does not fit the padded input.
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt);
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt);
// x: [N, C, H, W] -> [N, C] (mean over H and W).
Tensor global_avg_pool2d(const Tensor& x);

}  // namespace st
