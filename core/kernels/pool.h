#pragma once
// Pooling kernels on raw NCHW buffers, seen as `planes` = N*C independent [in_h, in_w] images
// mapped to [out_h, out_w] outputs. Output element (oh, ow) pools the window of rows
// [oh*s_h - p_h, oh*s_h - p_h + kernel_h) and columns likewise, clipped as described per kernel.
// Planes are distributed over OpenMP threads; each output and each plane of a gradient is owned
// by one thread, so results do not depend on the thread count.
//
// These are direct loops (pooling does no arithmetic worth a GEMM); tests check them against
// hand-computed values, the double-precision gradient checker, and (max pool, whose forward is
// vectorised) a plain loop.
#include <cstdint>

#include "core/real.h"

namespace st {

struct PoolGeometry {
  int64_t planes = 0, in_h = 0, in_w = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t out_h = 0, out_w = 0;
};

// Output extent of one axis, as PyTorch computes it: floor((in + 2p - k)/s) + 1, or with
// ceil_mode the ceiling, minus one when the last window would start inside the right padding.
// Returns 0 or less when no window fits.
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode);

// Max pool; the padding acts as -inf (windows are clipped to the image). y [planes, out_h, out_w];
// argmax (same shape, may be nullptr) receives the index ih*in_w + iw within the plane of the
// first maximal element of each window (a NaN counts as the maximum, as in PyTorch). The index is
// 32-bit (half the memory traffic of 64): planes must have fewer than 2^31 elements.
void max_pool2d_forward(const PoolGeometry& g, const real* x, real* y, int32_t* argmax);
// dx[plane][argmax] += dy; when !add, dx's old values are not read (dx = 0, then the same).
void max_pool2d_backward(const PoolGeometry& g, const real* dy, const int32_t* argmax, real* dx, bool add = true);
// The same forward as a plain loop over every window (pool_reference.cpp), for the tests.
void max_pool2d_forward_reference(const PoolGeometry& g, const real* x, real* y, int32_t* argmax);

// Average pool with zero padding. The divisor is the window clipped to the padded image
// (count_include_pad: windows reaching past the padding under ceil_mode count only up to its
// edge, as in PyTorch) or clipped to the image itself (!count_include_pad).
void avg_pool2d_forward(const PoolGeometry& g, bool count_include_pad, const real* x, real* y);
// dx += each dy spread evenly (divided by the same divisor) over its window.
void avg_pool2d_backward(const PoolGeometry& g, bool count_include_pad, const real* dy, real* dx);

// y[p] = mean of plane p (x [planes, plane_size]); dx[p][:] += dy[p] / plane_size.
void global_avg_pool2d_forward(int64_t planes, int64_t plane_size, const real* x, real* y);
void global_avg_pool2d_backward(int64_t planes, int64_t plane_size, const real* dy, real* dx);

}  // namespace st
