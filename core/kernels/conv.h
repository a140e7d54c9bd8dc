#pragma once
// Convolution kernels on raw NCHW buffers: register-tile GEMMs that read the column matrix
// straight out of a shifted image.
//
// Shapes (all contiguous, row-major), with G = groups, Cg_in = in_channels / G,
// Cg_out = out_channels / G, K = Cg_in * kernel_h * kernel_w, P = out_h * out_w:
//   x  [batch, in_channels, in_h, in_w]
//   w  [out_channels, Cg_in, kernel_h, kernel_w]   (group g owns rows g*Cg_out .. (g+1)*Cg_out-1,
//                                                    seen by the GEMM as a [Cg_out, K] matrix)
//   b  [out_channels] or nullptr
//   y  [batch, out_channels, out_h, out_w]         (group g of image n: a [Cg_out, P] matrix)
// Per image and group: y_g = w_g · col_g with col_g the [K, P] block of im2col(x_n).
//
// How: col is never written out. Each row of it is a contiguous run of the shifted image S of x_n
// (im2col.h: kernel_w row-shifted copies of the image, about 3 times its size for a 3×3 kernel
// where im2col is 9 times), so a register tile of 8 output channels × 2 SIMD packets of positions
// (conv_tiles.h; Eigen's packet primitives: AVX-512, AVX or SSE as compiled) reads its K rows of
// col from S directly and keeps its sums in 16 registers (conv_forward.h). The input gradient of
// a stride-1 conv is the forward conv of dy with the flipped kernel (run by the same tiles); at
// other strides each phase of dx (its pixels with the same remainders mod the stride) is a
// stride-1 correlation of dy with part of the kernel, run by the same tiles and interleaved into
// dx (for 1×1 kernels and paddings past the kernel's reach, the columns w_g^T · dy_g go, a panel
// at a time, into the adjoint of S and are folded onto dx; conv_input_gradient.h). The weight
// gradient is a GEMM of depth P over S and dy transposed, or, for long rows and few output
// channels, register tiles of dot products between rows of dy and runs of S
// (conv_weight_gradient.h).
//
// 3×3 stride-1 convs with at least 128 channels in and out run instead as Winograd's F(2×2, 3×3)
// (conv_winograd.h), and deep patches with small planes as one GEMM per chunk of images
// (conv_gemm.h). conv_paths.h holds every rule that chooses among these paths, with the
// measurement behind each.
//
// Threading: the batch is split over OpenMP threads in contiguous pieces, a few per thread handed
// out as threads finish (the weight gradient: each piece, or each thread's static chunk, summing
// into its own accumulator); a batch smaller than the thread count is split further. Each
// thread keeps its buffers between calls. Results are deterministic for a given thread count;
// inside an outer parallel region the kernels run on the calling thread.
//
// Transposed convolution is the adjoint of conv2d with respect to its input, so it is described
// by the Conv2dGeometry of that conv2d (see conv_transpose2d_geometry): the transposed conv's
// input is the conv2d's output y and its output is the conv2d's input x; its weight
// [C_in_t, C_out_t/G, kH, kW] is exactly the conv2d weight [out_channels, Cg_in, kH, kW].
#include <cstdint>

#include "core/kernels/im2col.h"
#include "core/real.h"

namespace st {

struct Conv2dGeometry {
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0;
  int64_t out_channels = 0, kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t groups = 1;
  int64_t out_h = 0, out_w = 0;

  int64_t group_in() const { return in_channels / groups; }
  int64_t group_out() const { return out_channels / groups; }
  int64_t patch_size() const { return group_in() * kernel_h * kernel_w; }  // K
  int64_t out_plane() const { return out_h * out_w; }                     // P
  int64_t in_plane() const { return in_h * in_w; }
  // 1×1, stride 1, no padding: im2col would be the identity.
  bool pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
  PatchGeometry patch() const;  // im2col geometry of one whole image (all groups)
};

// Geometry of a transposed convolution x_t [batch, in_channels_t, in_h_t, in_w_t] ->
// y_t [batch, out_channels_t, out_h_t, out_w_t] (output padding already folded into out_*_t),
// expressed as the conv2d it is the input-adjoint of.
Conv2dGeometry conv_transpose2d_geometry(int64_t batch, int64_t in_channels_t, int64_t in_h_t, int64_t in_w_t,
                                         int64_t out_channels_t, int64_t out_h_t, int64_t out_w_t,
                                         int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                                         int64_t pad_h, int64_t pad_w, int64_t groups);

// ---- conv2d
// y = conv2d(x, w) + b (+ residual, the shape of y, when given), then max(y, 0) when relu
// (overwrites y; residual may not be y). The residual is copied into y an image (or an image's
// part) at a time just before its tiles add into it, so it costs one read where a separate add
// would read and write the output once more: a residual block's join in inference.
void conv2d_forward(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y,
                    bool relu = false, const real* residual = nullptr);
// dx += conv2d input gradient of dy (for stride 1, the forward conv of dy with the flipped kernel;
// otherwise by phases or through the columns, as in the file comment); dx = ... when !add (dx's
// old values are not read).
void conv2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add = true);
// dw += sum over the batch of dy_g · im2col(x)_g^T. Each thread sums its images into its own
// accumulator; the partial sums are added in thread order, so the result is deterministic for
// a given thread count.
void conv2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw);
// db[c] += sum of dy[n, c, :, :] over n  (dy: [batch, channels, plane]); the bias gradient of
// both convolutions.
void conv_bias_backward(const real* dy, int64_t batch, int64_t channels, int64_t plane, real* db);

// ---- conv_transpose2d, with g from conv_transpose2d_geometry
// y_t = conv2d_backward_input(x_t) + b  (overwrites y_t [batch, g.in_channels, g.in_h, g.in_w]).
void conv_transpose2d_forward(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y);
// dx_t += conv2d_forward(dy_t)   (dx_t: [batch, g.out_channels, g.out_h, g.out_w]); = when !add.
void conv_transpose2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx,
                                     bool add = true);
// dw += conv2d weight gradient with dy_t as the conv2d input and x_t as its output gradient.
void conv_transpose2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw);

}  // namespace st
