#pragma once
// The conv2d input gradient on the register tiles (internal to the conv kernels; conv.h has the
// public entry points and the shapes). input_gradient_path (conv_paths.h) picks one of four ways:
//   kFlippedForward  stride 1: the forward conv of dy with the flipped kernel (conv_forward.h)
//   kPhases          strided: each phase of dx (its pixels with the same remainders mod the
//                    stride) is a stride-1 correlation of dy with part of the kernel, run by the
//                    forward's tiles and interleaved into dx
//   kNonOverlapping  kernel = stride, no padding: every dx element is one dot product, the columns
//                    w_g^T · dy_g written straight to their pixels
//   kColumns         the rest: the columns w_g^T · dy_g, a panel at a time, added into the adjoint
//                    of the shifted image and folded onto dx
#include <cstdint>

#include "core/kernels/conv.h"
#include "core/kernels/conv_paths.h"

namespace st::conv_detail {

// dx (+= when accumulate, else =) the conv2d input gradient of dy, by input_gradient_path(g).
void conv2d_backward_input_tiles(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool accumulate);
// The same by a given path (the tests run every path with it). kColumns takes every geometry;
// kNonOverlapping only kernel = stride without padding; kPhases only strided convs whose phases
// start inside dy (phase_taps(...).pad() >= 0 wherever taps > 0); kFlippedForward only stride 1
// with padding at most kernel - 1.
void conv2d_backward_input_tiles(const Conv2dGeometry& g, InputGradientPath path, const real* dy, const real* w,
                                 real* dx, bool accumulate);

// The kernel taps of a strided conv that reach one phase of its input, along one axis. Input
// row y = stride*a + phase (a < extent) is reached by kernel rows i = first + stride*t, t < taps,
// from output rows oh = a + shift - t. Read with the taps flipped (t' = taps-1-t), that is a
// stride-1 correlation over dy whose output row a starts at dy row a - pad().
struct PhaseTaps {
  int64_t first = 0, taps = 0, shift = 0, extent = 0;
  int64_t pad() const { return taps - 1 - shift; }
};
PhaseTaps phase_taps(int64_t phase, int64_t stride, int64_t kernel, int64_t pad, int64_t in);

}  // namespace st::conv_detail
