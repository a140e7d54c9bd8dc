#pragma once
// Convolution as one large GEMM per chunk of images, for small output planes.
//
// The register-tile kernels (conv_forward.h) work one image at a time in panels of two SIMD
// packets (32 positions with AVX-512): a plane of 49 positions (7×7, ResNet-18's last stage)
// fills two such panels, a quarter of their lanes idle, and a deep patch (K = 4608) streams its
// weights from L2 for every panel. Here the
// column matrices of nb images stand side by side, col [K, nb*P] (im2col with row stride nb*P),
// so that a chunk is one GEMM with nb*P columns (st::gemm: OpenBLAS or Eigen), with the
// transposes between NCHW and [C, nb*P] done in parallel passes:
//   forward          Y [Co, nb*P] = W [Co, K] · col                  then Y -> y (NCHW)
//   input gradient   col = W^T · dY, dY [Co, nb*P] from dy (NCHW)     then col2im -> dx
//   weight gradient  dW [Co, K] += dY · col^T
// nb is chosen so that col stays within a budget (kGemmColumnValues, conv_paths.h). Groups other
// than 1 are not handled here.
//
// Shapes and conventions as in conv.h (same Conv2dGeometry); the conv.h kernels choose this path
// for the geometries where it measured faster (batched_gemm_preferred, conv_paths.cpp).
#include "core/kernels/conv.h"

namespace st {

// chunk: images per GEMM, 0 for the default (as many as fit the column budget).
// y = conv2d(x, w) + b (+ residual [batch, Co, P] when given), then max(y, 0) when relu
// (overwrites y).
void conv2d_forward_gemm(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y,
                         bool relu = false, int64_t chunk = 0, const real* residual = nullptr);
// dx += (or = when !add) the input gradient of dy.
void conv2d_backward_input_gemm(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add,
                                int64_t chunk = 0);
// dw += the weight gradient.
void conv2d_backward_weight_gemm(const Conv2dGeometry& g, const real* x, const real* dy, real* dw,
                                 int64_t chunk = 0);

}  // namespace st
