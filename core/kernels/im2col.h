#pragma once
// im2col / col2im: the patch matrix that turns a convolution into one GEMM per image and group.
//
// For one image x[C, H, W] and a kH×kW kernel applied with stride (s_h, s_w) and zero padding
// (p_h, p_w), the column matrix has
//   rows    = C * kH * kW   (row r = (c * kH + i) * kW + j, channel-major: the rows of one
//                            group of channels form one contiguous block)
//   columns = H_out * W_out (column q = oh * W_out + ow)
// and col[r][q] = x[c][oh*s_h - p_h + i][ow*s_w - p_w + j], or 0 where that falls in the padding.
// All kernels here work on one image at a time on the calling thread (the conv kernels
// parallelise over the batch).
//
// The shifted image: a compact stand-in for the column matrix that the conv kernels use. Row r =
// (c, i, j) of col, read along q = oh * W_out + ow, is x[c] sampled at rows oh*s_h - p_h + i and
// columns ow*s_w - p_w + j. Keep, for each kernel column j, channel c and row phase
// ph = i mod s_h, the matrix
//   S[j][c][ph][hq][ow] = x[c][hq*s_h + ph - p_h][ow*s_w - p_w + j]   (0 in the padding)
// with hq < H_q = H_out + (kH-1) / s_h rows of exactly W_out columns. Then col row r is the
// contiguous run of P = H_out*W_out values starting at shifted_offset(c, i, j):
//   col[r][q] = S[shifted_offset(c, i, j) + q],
// because moving to the next output row moves one S row down. The whole of col is thus kW *
// n_phase row-shifted copies of the image (n_phase = min(s_h, kH)) instead of kH*kW copies, and
// a GEMM can read any block of columns of any row straight out of S.
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

// col[rows, cols] = patches of x[channels, height, width] (overwrites col). Row r starts at
// col + r * ld (ld = 0: cols(), rows back to back; larger: the columns of several images side by
// side in one matrix).
void im2col(const PatchGeometry& g, const real* x, real* col, int64_t ld = 0);

// The adjoint of im2col: x[channels, height, width] += scatter-add of col[rows, cols] (rows ld
// apart as above; entries that fall in the padding are dropped). Accumulates; zero x first for a
// plain result.
void col2im(const PatchGeometry& g, const real* col, real* x, int64_t ld = 0);

// The layout of the shifted image of one image (see the file comment).
struct ShiftedLayout {
  int64_t phases = 1;  // n_phase = min(stride_h, kernel_h)
  int64_t rows = 0;    // H_q = out_h + (kernel_h - 1) / stride_h
  int64_t channels = 0, out_w = 0, stride_h = 1;

  explicit ShiftedLayout(const PatchGeometry& g);
  // Elements of S for kernel_w * channels * phases * rows * out_w values.
  int64_t size(int64_t kernel_w) const { return kernel_w * channels * phases * rows * out_w; }
  // Where col row (c, i, j) starts in S.
  int64_t offset(int64_t c, int64_t i, int64_t j) const {
    return (((j * channels + c) * phases + i % stride_h) * rows + i / stride_h) * out_w;
  }
};

// The padded image of a stride-1 convolution: xp [channels, hq, wq], the rows and columns of the
// zero-padded image that the windows cover (hq = out_h + kernel_h - 1, wq = out_w + kernel_w - 1;
// image pixel (r, c) at (r + pad_h, c + pad_w)). Row (c, i, j) of col at output (oh, ow) is
// xp[offset(c, i, j) + oh * wq + ow], so over one output row it is a contiguous run.
struct PaddedLayout {
  int64_t channels = 0, hq = 0, wq = 0;
  explicit PaddedLayout(const PatchGeometry& g)
      : channels(g.channels), hq(g.out_h + g.kernel_h - 1), wq(g.out_w + g.kernel_w - 1) {}
  int64_t size() const { return channels * hq * wq; }
  int64_t offset(int64_t c, int64_t i, int64_t j) const { return (c * hq + i) * wq + j; }
  // Where output position p (of rows out_w long) is, relative to offset(c, i, j).
  int64_t position(int64_t p, int64_t out_w) const { return (p / out_w) * wq + p % out_w; }
};

// xp = the padded image of x[channels, height, width] (stride-1 geometries only; overwrites
// PaddedLayout(g).size() elements).
void padded_image(const PatchGeometry& g, const real* x, real* xp);

// s = the shifted image of x[channels, height, width] (overwrites ShiftedLayout(g).size(g.kernel_w)
// elements of s).
void shifted_image(const PatchGeometry& g, const real* x, real* s);

// The adjoint of shifted_image: x += the sum of every S element at the pixel it was copied from
// (elements in the padding are dropped).
void shifted_image_add(const PatchGeometry& g, const real* s, real* x);

}  // namespace st
