#pragma once
// The forward conv on the register tiles (internal to the conv kernels; conv.h has the public
// entry points and the shapes). Also runs the stride-1 input gradient as the forward conv of dy
// with the flipped kernel (conv_input_gradient.cpp) and the transposed conv's input gradient.
//
// Per image: S = the image in the layout plan_forward chooses (shifted image, padded image, or x
// itself); then for each group, block of rows of col (all K, or kPackedPanelBlock when the panels
// are packed), panel of kPanel output positions and block of output channels (RowBlocks), one
// register tile reads its rows of col straight out of S:
//   y_g[block, panel] (+)= w_g[block, rows] · col_g[rows, panel]
// the bias going in with the first block of rows, the ReLU with the last.
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "core/kernels/conv.h"
#include "core/kernels/conv_paths.h"
#include "core/kernels/scratch.h"

namespace st::conv_detail {

// The forward tiles' weights for conv g, in the blocks of output channels rb (row_blocks(g), or
// any blocks that cover g.group_out()): wp [G][Co_pad][K] (Co_pad = rb.padded()) with block bi,
// of width w rows from row0, at wp + (gi*Co_pad + row0)*K laid out [K][w]: wp[...][k*w + r] =
// weight(gi, row0 + r, k), the weight of output channel row0 + r of group gi at row k of col,
// zero for rows past Co, so that a tile's broadcasts for one k are adjacent. Written in order,
// over the threads when large, into the calling thread's Scratch::kConvPackedWeights: the pointer
// stays valid until the next packing on this thread.
template <class Weight>
const real* pack_tile_weights(const Conv2dGeometry& g, const RowBlocks& rb, Weight&& weight) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size();
  const int64_t blocks = rb.count(), Co_pad = rb.padded();
  real* wp = thread_scratch(Scratch::kConvPackedWeights, G * Co_pad * K);
#pragma omp parallel for schedule(static) if (G * Co_pad * K > kParallelPackValues && !omp_in_parallel())
  for (int64_t item = 0; item < G * blocks; ++item) {
    const int64_t gi = item / blocks, bi = item % blocks, row0 = rb.row0(bi), width = rb.width(bi);
    const int64_t rows = std::min<int64_t>(width, Co - row0);
    real* d = wp + (gi * Co_pad + row0) * K;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < width; ++r) d[k * width + r] = r < rows ? weight(gi, row0 + r, k) : real(0);
  }
  return wp;
}

// pack_tile_weights of conv g's own weight w [G*Co][K], in the blocks rb or row_blocks(g).
const real* pack_tile_weights(const Conv2dGeometry& g, const real* w, const RowBlocks& rb);
const real* pack_tile_weights(const Conv2dGeometry& g, const real* w);

// y (= or += when accumulate) conv2d(x, w) + b (+ residual), then max(·, 0) when relu, with wp
// the weights as pack_tile_weights lays them out (shapes as in conv.h), as plan_forward(g) says.
void conv2d_forward_tiles(const Conv2dGeometry& g, const real* x, const real* wp, const real* b, real* y,
                          bool accumulate, bool relu = false, const real* residual = nullptr);
// The same with a given plan (the tests run every path with it): plan_forward(g) with any of
// layout (kPadded: stride 1 with rows of whole panels only; kInPlace: g.pointwise() with whole
// panels only), channel_chunk
// (groups 1 only), splits, prefetch and blocks (wp packed in the same blocks) changed;
// packed_panels and depth_block as planned.
void conv2d_forward_tiles(const Conv2dGeometry& g, const ForwardPlan& plan, const real* x, const real* wp,
                          const real* b, real* y, bool accumulate, bool relu = false, const real* residual = nullptr);

}  // namespace st::conv_detail
