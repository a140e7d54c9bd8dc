#pragma once
// Naive direct-loop convolutions: the references the im2col + GEMM kernels in conv.h are tested
// against. Single-threaded, accumulate in double, no im2col: each output element is the
// textbook sum. Shapes as in conv.h.
#include "core/kernels/conv.h"

namespace st {

// y[n, co, oh, ow] = b[co] + sum over ci in co's group, i, j of
//   x[n, ci, oh*s_h - p_h + i, ow*s_w - p_w + j] * w[co, ci - group start, i, j]   (overwrites y).
void conv2d_reference(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y);

// The gradients of conv2d_reference for upstream gradient dy (overwrite dx, dw and, when not
// nullptr, db).
void conv2d_backward_reference(const Conv2dGeometry& g, const real* x, const real* w, const real* dy, real* dx,
                               real* dw, real* db);

// Transposed convolution by scattering, with g from conv_transpose2d_geometry:
// x_t [batch, g.out_channels, g.out_h, g.out_w], w [g.out_channels, g.group_in(), kH, kW],
// y_t [batch, g.in_channels, g.in_h, g.in_w] (overwritten):
//   y_t[n, grp*Cg + co, ih*s - p + i, ...] += x_t[n, ci, ih, ...] * w[ci, co, i, j] + b.
void conv_transpose2d_reference(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y);

}  // namespace st
