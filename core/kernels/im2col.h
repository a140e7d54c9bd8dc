#pragma once
// im2col / col2im: the patch matrix that turns a convolution into one GEMM per image and group.
//
// For one image x[C, H, W] and a kH×kW kernel applied with stride (s_h, s_w) and zero padding
// (p_h, p_w), the column matrix has
//   rows    = C * kH * kW   (row r = (c * kH + i) * kW + j, channel-major: the rows of one
//                            group of channels form one contiguous block)
//   columns = H_out * W_out (column q = oh * W_out + ow)
// and col[r][q] = x[c][oh*s_h - p_h + i][ow*s_w - p_w + j], or 0 where that falls in the padding.
// Both kernels work on one image at a time on the calling thread (the conv kernels parallelise
// over the batch).
#include <cstdint>

#include "core/real.h"

namespace st {

struct PatchGeometry {
  int64_t channels = 0, height = 0, width = 0;  // the image x[channels, height, width]
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t out_h = 0, out_w = 0;  // output extent of the convolution (the caller's choice)

  int64_t rows() const { return channels * kernel_h * kernel_w; }
  int64_t cols() const { return out_h * out_w; }
};

// col[rows, cols] = patches of x[channels, height, width] (overwrites col).
void im2col(const PatchGeometry& g, const real* x, real* col);

// The adjoint of im2col: x[channels, height, width] += scatter-add of col[rows, cols]
// (entries that fall in the padding are dropped). Accumulates; zero x first for a plain result.
void col2im(const PatchGeometry& g, const real* col, real* x);

}  // namespace st
