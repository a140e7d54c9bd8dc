#pragma once
// How the register-tile conv kernels share out their work and find the rows of col (internal to
// conv_forward.cpp, conv_input_gradient.cpp, conv_weight_gradient.cpp).
//
// Work items are images, or (image, part) pairs when the batch is smaller than the thread count
// (image_splits, conv_paths.h): part `part` of `splits` covers units [part*units/splits,
// (part+1)*units/splits) of its image (panels, or positions). Items go out over the threads in
// contiguous pieces handed out as threads finish (for_each_piece: for work whose every output
// element is computed by the same arithmetic whichever thread takes it) or in one static chunk
// per thread (for_each_chunk: for per-thread sums, whose split must not depend on the schedule).
#include <cstdint>
#include <vector>

#include "core/kernels/conv.h"
#include "core/kernels/conv_paths.h"
#include "core/kernels/im2col.h"
#include "core/kernels/parallel.h"
#include "core/kernels/scratch.h"

namespace st::conv_detail {

// Calls f(thread, begin, end) once per thread on one contiguous chunk of [0, items) each, or
// f(0, 0, items) on the calling thread when !split_over_threads; returns the number of threads.
template <class F>
int for_each_chunk(int64_t items, double flops, F&& f) {
  if (!split_over_threads(items, flops)) {
    f(0, int64_t(0), items);
    return 1;
  }
  return parallel_chunks(items, f);
}

// Calls f(piece, begin, end) once for each of piece_count(items, flops) contiguous pieces of
// [0, items), handed out as threads finish; returns the number of pieces.
template <class F>
int64_t for_each_piece(int64_t items, double flops, F&& f) {
  const int64_t pieces = piece_count(items, flops);
  if (pieces == 1) {
    f(int64_t(0), int64_t(0), items);
    return 1;
  }
  parallel_pieces(items, pieces, f);
  return pieces;
}

// A thread's share [begin, end) of the work items (image n, part) of images x_image values apart:
// calls f(n, unit_begin, unit_end) for each non-empty item, with S holding build(patch, x_n, S),
// rebuilt only when the image changes.
template <class F, class Build>
void for_each_image_part(const PatchGeometry& patch, const real* x, int64_t x_image, int64_t units, int64_t splits,
                         int64_t begin, int64_t end, real* S, F&& f, Build&& build) {
  int64_t built = -1;  // the image whose shifted image S holds
  for (int64_t item = begin; item < end; ++item) {
    const int64_t n = item / splits, part = item % splits;
    const int64_t u0 = part * units / splits, u1 = (part + 1) * units / splits;
    if (u0 == u1) continue;
    if (built != n) build(patch, x + n * x_image, S);
    built = n;
    f(n, u0, u1);
  }
}

// Where each row (ci, i, j) of every group's column matrix starts in a layout of the image:
// off[gi*K + (ci*kH + i)*kW + j] = layout.offset(channel, i, j) (im2col.h: the shifted image S,
// ShiftedLayout, or the padded image, PaddedLayout, at output position 0).
template <class Layout>
std::vector<int64_t> col_row_offsets(const Conv2dGeometry& g) {
  const Layout L(g.patch());
  const int64_t Ci = g.group_in(), K = g.patch_size();
  std::vector<int64_t> off(g.groups * K);
  for (int64_t gi = 0; gi < g.groups; ++gi)
    for (int64_t ci = 0; ci < Ci; ++ci)
      for (int64_t i = 0; i < g.kernel_h; ++i)
        for (int64_t j = 0; j < g.kernel_w; ++j)
          off[gi * K + (ci * g.kernel_h + i) * g.kernel_w + j] = L.offset(gi * Ci + ci, i, j);
  return off;
}
inline std::vector<int64_t> shifted_offsets(const Conv2dGeometry& g) { return col_row_offsets<ShiftedLayout>(g); }

// s = shifted_image(x) followed by kPanel zeroed elements of slack: a panel that runs past
// column P reads into them (finite values whose products are dropped). s holds
// ShiftedLayout(patch).size(kernel_w) + kPanel elements.
void shifted_image_with_slack(const PatchGeometry& patch, const real* x, real* s);

// The calling thread's buffer for one image's S (Scratch::kConvImage), s_size values and kPanel
// zeroed ones of slack after them (shifted_image leaves the slack as it is).
real* shifted_scratch(int64_t s_size);

// y_n[:, q0:q1] = residual_n[:, q0:q1] for every one of the image's channels (rows P apart): the
// residual goes in just before the tiles accumulate onto that part of the output.
void copy_residual_part(const real* residual, real* y, int64_t n, int64_t channels, int64_t P, int64_t q0, int64_t q1);

}  // namespace st::conv_detail
