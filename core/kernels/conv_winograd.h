#pragma once
// 3×3 stride-1 convolution by Winograd's minimal filtering algorithm F(2×2, 3×3) (Lavin and Gray,
// "Fast algorithms for convolutional neural networks", 2016): each 2×2 tile of an output plane
// costs 16 products per pair of channels instead of 36.
//
// Per 2×2 output tile, with d the 4×4 input tile under it (rows 2·th - pad_h .. +3, columns
// 2·tw - pad_w .. +3, zero outside the image) and g a 3×3 kernel:
//   y_tile = A^T [ (G g G^T) ⊙ (B^T d B) ] A
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// Summed over input channels, each of the 16 positions ξ of the 4×4 transformed tile is a GEMM:
//   M_ξ [Co, T] = U_ξ [Co, Ci] · V_ξ [Ci, T]    U = G g G^T per (co, ci), V = B^T d B per (ci, tile)
// over the T tiles of a chunk of images, and y is the output transform of M. The gradients are the
// adjoints of the same steps:
//   input gradient   dM = A dY A^T (per tile of dy), dV_ξ = U_ξ^T · dM_ξ, dx += B dV B^T (tiles
//                    overlap by two rows and columns: their contributions add)
//   weight gradient  dU_ξ = Σ over chunks of dM_ξ · V_ξ^T, dw += G^T dU G.
// The transforms add and subtract (and halve) only; the 16 GEMMs of a chunk run side by side on
// the threads (st::gemm, single-threaded inside the parallel loop), so each is computed by one
// thread in a fixed order: results do not depend on the schedule or the thread count.
//
// Shapes and conventions as in conv.h (Conv2dGeometry). Only for winograd_applies geometries:
// groups 1, 3×3 kernel, stride 1, padding at most 2 on each axis. The conv.h kernels choose this
// path where it measured faster (winograd_preferred, conv_paths.cpp).
#include "core/kernels/conv.h"

namespace st {

bool winograd_applies(const Conv2dGeometry& g);
// Whether one image's transformed input and output (16·(in + out channels)·tiles values) fit the
// chunk budget (kWinogradChunkValues, conv_paths.h: 16 MiB of floats); beyond it a chunk would
// still hold one image, 4× its input and output.
bool winograd_image_fits_chunk(const Conv2dGeometry& g);

// chunk: images per chunk, 0 for the default (as many as fit the chunk budget for V and M).
// y = conv2d(x, w) + b (+ residual [batch, Co, out_h, out_w] when given), then max(y, 0) when
// relu (overwrites y; residual may not be y).
void conv2d_forward_winograd(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y,
                             bool relu = false, const real* residual = nullptr, int64_t chunk = 0);
// dx += (or = when !add) the input gradient of dy.
void conv2d_backward_input_winograd(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add,
                                    int64_t chunk = 0);
// dw += the weight gradient.
void conv2d_backward_weight_winograd(const Conv2dGeometry& g, const real* x, const real* dy, real* dw,
                                     int64_t chunk = 0);

}  // namespace st
