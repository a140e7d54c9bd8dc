#pragma once
// The conv2d weight gradient on the register tiles (internal to the conv kernels; conv.h has the
// public entry points and the shapes). weight_gradient_path (conv_paths.h) picks one of two:
//   kDots            dw_g[co][k] = Σ_p dy_g[co][p] · col_g[k][p] as dot products of a row of dy
//                    and a run of S, both read in packets
//   kBroadcastTiles  acc_g [K_pad, Co_pad] += col_g · dy_g^T, a GEMM of depth P whose register
//                    tiles broadcast from rows of col (runs of S) and read packets of dy transposed
// Both sum over the batch into accumulators of their own, one per piece of the batch or one per
// thread (weight_gradient_sums_per_piece), added into dw in piece or thread order: the result does
// not depend on the schedule, only on the thread count.
#include "core/kernels/conv.h"
#include "core/kernels/conv_paths.h"

namespace st::conv_detail {

// dw += the conv2d weight gradient, sum over the batch of dy_g · im2col(x)_g^T, by
// weight_gradient_path(g).
void conv2d_backward_weight_tiles(const Conv2dGeometry& g, const real* x, const real* dy, real* dw);
// The same by a given path (the tests run both with it; both take every geometry).
void conv2d_backward_weight_tiles(const Conv2dGeometry& g, WeightGradientPath path, const real* x, const real* dy,
                                  real* dw);

}  // namespace st::conv_detail
