#include "core/kernels/conv_weight_gradient.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/kernels/conv_tiles.h"
#include "core/kernels/conv_work.h"
#include "core/kernels/im2col.h"

namespace st::conv_detail {

namespace {

// ---- The driver both kernels share
// Work items are (image, part), a part being a contiguous range of the image's positions (the
// depth of the reduction). A piece of the items (or a thread's chunk of them) zeroes its
// accumulator of acc_size elements and keeps S, the shifted image of its current image (x_n itself
// when reads_image_in_place), and a zero run of P elements (rows of a padded block read it; their
// sums are never used). For each non-empty item it calls
//   item(acc, S, zero_row, n, p_begin, p_end);
// then add(accs, used) gets the accumulators (used of them) to add to the result in order.
template <class Item, class Add>
void weight_gradient_items(const Conv2dGeometry& g, const real* x, int64_t acc_size, Item&& item, Add&& add) {
  const int64_t P = g.out_plane(), x_image = g.in_channels * g.in_plane();
  const PatchGeometry patch = g.patch();
  const int64_t s_size = ShiftedLayout(patch).size(g.kernel_w);
  const double flops = 2.0 * g.batch * g.out_channels * P * g.patch_size();
  const int64_t splits = image_splits(g.batch, (P + kPanel - 1) / kPanel);
  const int64_t items = g.batch * splits;
  const bool in_place = reads_image_in_place(g);
  // The items [begin, end) into accumulator acc, on the calling thread.
  const auto run = [&](real* acc, int64_t begin, int64_t end) {
    std::fill(acc, acc + acc_size, real(0));
    const int64_t s_used = in_place ? 0 : s_size;
    real* S = thread_scratch(Scratch::kConvImage, s_used + P);
    std::fill(S + s_used, S + s_used + P, real(0));
    const real* zero_row = S + s_used;
    const auto build = [&](const PatchGeometry& pg, const real* xn, real* s) {
      if (!in_place) shifted_image(pg, xn, s);
    };
    for_each_image_part(patch, x, x_image, P, splits, begin, end, S, [&](int64_t n, int64_t p_begin, int64_t p_end) {
      item(acc, in_place ? x + n * x_image : static_cast<const real*>(S), zero_row, n, p_begin, p_end);
    }, build);
  };
  const int64_t pieces = piece_count(items, flops);
  if (weight_gradient_sums_per_piece(pieces, acc_size)) {
    real* base = thread_scratch(Scratch::kConvPieceSums, pieces * acc_size);
    std::vector<const real*> accs(pieces);
    for (int64_t i = 0; i < pieces; ++i) accs[i] = base + i * acc_size;
    for_each_piece(items, flops,
                   [&](int64_t i, int64_t begin, int64_t end) { run(base + i * acc_size, begin, end); });
    add(accs.data(), static_cast<int>(pieces));
    return;
  }
  std::vector<real*> accs(std::max(1, omp_get_max_threads()), nullptr);
  const int used = for_each_chunk(items, flops, [&](int t, int64_t begin, int64_t end) {
    accs[t] = thread_scratch(Scratch::kConvThreadSums, acc_size);
    run(accs[t], begin, end);
  });
  add(const_cast<const real* const*>(accs.data()), used);
}

// ---- kDots
// A register tile holds kDotCo × kDotK packet accumulators; both operands are read in packets (no
// broadcasts), so the FMAs are not starved by loads as in the broadcast tile when Co is small; the
// packets are summed horizontally once per tile and image. Rows past Co or K read a zero row,
// their sums dropped. 4×6: 24 accumulators and 10 loads per 24 FMAs, the dy packets loaded one at
// a time after the col packets so that the tile fits the registers (5052fc4: 0.96-0.97 of 4×4's
// time, 8×3 1.8× slower).
constexpr int kDotCo = 4, kDotK = 6;

// acc_g[(c0 + i)*K + k0 + j] += Σ_{p in [p_begin, p_end)} dr[i][p] · cr[j][p] for the tile's
// rows inside Co and K. Inlined into its loop, as the tile was written there before it had a name
// (the code GCC makes for this tile is sensitive to its surroundings: c03e4dd).
[[gnu::always_inline]] inline void dot_tile(const real* const* dr, const real* const* cr, int64_t p_begin, int64_t p_end, int64_t Co,
                     int64_t K, int64_t c0, int64_t k0, real* acc_g) {
  using namespace Eigen::internal;
  const int64_t vec_end = p_begin + (p_end - p_begin) / kPacket * kPacket;
  Packet a[kDotCo][kDotK];
#pragma GCC unroll 8
  for (int i = 0; i < kDotCo; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < kDotK; ++j) a[i][j] = pset1<Packet>(real(0));
  for (int64_t p = p_begin; p < vec_end; p += kPacket) {
    Packet cv[kDotK];
#pragma GCC unroll 8
    for (int j = 0; j < kDotK; ++j) cv[j] = ploadu<Packet>(cr[j] + p);
#pragma GCC unroll 8
    for (int i = 0; i < kDotCo; ++i) {
      const Packet dv = ploadu<Packet>(dr[i] + p);
#pragma GCC unroll 8
      for (int j = 0; j < kDotK; ++j) a[i][j] = pmadd(dv, cv[j], a[i][j]);
    }
  }
  for (int i = 0; i < kDotCo && c0 + i < Co; ++i)
    for (int j = 0; j < kDotK && k0 + j < K; ++j) {
      real sum = predux(a[i][j]);
      for (int64_t p = vec_end; p < p_end; ++p) sum += dr[i][p] * cr[j][p];
      acc_g[(c0 + i) * K + k0 + j] += sum;
    }
}

void backward_weight_by_dots(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t y_image = g.out_channels * P, acc_size = G * Co * K;
  const std::vector<int64_t> off = shifted_offsets(g);
  const auto item = [&](real* acc, const real* S, const real* zero_row, int64_t n, int64_t p_begin, int64_t p_end) {
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t c0 = 0; c0 < Co; c0 += kDotCo)
        for (int64_t k0 = 0; k0 < K; k0 += kDotK) {
          const real* dr[kDotCo];
          const real* cr[kDotK];
          for (int i = 0; i < kDotCo; ++i)
            dr[i] = c0 + i < Co ? dy + n * y_image + (gi * Co + c0 + i) * P : zero_row - p_begin;
          for (int j = 0; j < kDotK; ++j) cr[j] = k0 + j < K ? S + off[gi * K + k0 + j] : zero_row - p_begin;
          dot_tile(dr, cr, p_begin, p_end, Co, K, c0, k0, acc + gi * Co * K);
        }
  };
  weight_gradient_items(g, x, acc_size, item, [&](const real* const* accs, int used) {
#pragma omp parallel for schedule(static) if (acc_size * used > kParallelPackValues && !omp_in_parallel())
    for (int64_t i = 0; i < acc_size; ++i)
      for (int t = 0; t < used; ++t) dw[i] += accs[t][i];
  });
}

// ---- kBroadcastTiles

// dst[q * ld_dst + r] = src[r * ld_src + q] for r < rows, q < cols, and 0 for rows <= r < ld_dst:
// rows of src become columns of dst. Full kPacket × kPacket blocks go through registers (Eigen's
// packet transpose: 4c3e382, 0.88-0.98 of a scalar transpose's time), the edges one value at a time.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // PacketBlock<__m512, ...>
void transpose_rows(const real* src, int64_t ld_src, int64_t rows, int64_t cols, real* dst, int64_t ld_dst) {
  using namespace Eigen::internal;
  const int64_t rows_full = rows / kPacket * kPacket, cols_full = cols / kPacket * kPacket;
  for (int64_t q0 = 0; q0 < cols_full; q0 += kPacket) {
    for (int64_t r0 = 0; r0 < rows_full; r0 += kPacket) {
      PacketBlock<Packet, kPacket> block;
      for (int i = 0; i < kPacket; ++i) block.packet[i] = ploadu<Packet>(src + (r0 + i) * ld_src + q0);
      ptranspose(block);
      for (int i = 0; i < kPacket; ++i) pstoreu(dst + (q0 + i) * ld_dst + r0, block.packet[i]);
    }
    for (int64_t r = rows_full; r < rows; ++r)
      for (int64_t q = q0; q < q0 + kPacket; ++q) dst[q * ld_dst + r] = src[r * ld_src + q];
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = cols_full; q < cols; ++q) dst[q * ld_dst + r] = src[r * ld_src + q];
  if (rows < ld_dst)
    for (int64_t q = 0; q < cols; ++q) std::fill(dst + q * ld_dst + rows, dst + (q + 1) * ld_dst, real(0));
}
#pragma GCC diagnostic pop

// Per image: for each block of positions (all P, or fewer: weight_gradient_depth_block),
// dyt [G][block][Co_pad], that block of dy_n transposed (zero past Co), and acc_g [K_pad, Co_pad]
// += col_g · dyt_g, a GEMM of depth `block` whose register tiles run along K (broadcasts from kMR
// rows of col, each a run of S) and Co (packets of dyt).
struct BroadcastWeightGradient {
  const Conv2dGeometry& g;
  std::vector<int64_t> off;  // shifted_offsets(g)
  int64_t K_pad, Co_pad, dblock;

  explicit BroadcastWeightGradient(const Conv2dGeometry& g)
      : g(g), off(shifted_offsets(g)), K_pad(round_up(g.patch_size(), kMR)), Co_pad(round_up(g.group_out(), kPacket)),
        dblock(weight_gradient_depth_block(g.out_plane(), g.groups * Co_pad)) {}

  int64_t acc_size() const { return g.groups * K_pad * Co_pad; }

  // acc_g += rows k0 .. k0+kMR-1 of col_g · dyt_g over `depth` positions from d0.
  void row_block(int64_t gi, int64_t k0, int64_t d0, int64_t depth, const real* S, const real* zero_row,
                 const real* dyt, real* acc) const {
    const int64_t K = g.patch_size(), vecs = Co_pad / kPacket;
    const real* arow[kMR];
    for (int r = 0; r < kMR; ++r) arow[r] = (k0 + r < K ? S + off[gi * K + k0 + r] : zero_row) + d0;
    const real* bt = dyt + gi * dblock * Co_pad;
    real* c = acc + (gi * K_pad + k0) * Co_pad;
    int64_t v = 0;
    for (; v + 2 <= vecs; v += 2)
      tile<kMR, 2, true, false>(depth, nullptr, arow, bt + v * kPacket, nullptr, Co_pad, c + v * kPacket, Co_pad,
                                true, nullptr);
    if (v < vecs)
      tile<kMR, 1, true, false>(depth, nullptr, arow, bt + v * kPacket, nullptr, Co_pad, c + v * kPacket, Co_pad,
                                true, nullptr);
  }

  // One work item: positions [p_begin, p_end) of image n into acc. The next image's input and
  // output gradient are prefetched meanwhile (whole images only: prefetch_next_image).
  void item(real* acc, const real* S, const real* zero_row, int64_t n, int64_t p_begin, int64_t p_end,
            const real* x, const real* dy) const {
    const int64_t G = g.groups, Co = g.group_out(), P = g.out_plane();
    const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
    real* dyt = thread_scratch(Scratch::kConvDyTransposed, G * dblock * Co_pad);
    const real* dyn = dy + n * y_image;
    const bool whole = p_begin == 0 && p_end == P && n + 1 < g.batch &&
                       prefetch_next_image((x_image + y_image) * int64_t(sizeof(real)));
    const int64_t steps = (p_end - p_begin + dblock - 1) / dblock * G * (K_pad / kMR);
    SpreadPrefetch next_x(whole ? x + (n + 1) * x_image : nullptr, x_image, steps);
    SpreadPrefetch next_dy(whole ? dyn + y_image : nullptr, y_image, steps);
    for (int64_t d0 = p_begin; d0 < p_end; d0 += dblock) {
      const int64_t depth = std::min(dblock, p_end - d0);
      for (int64_t gi = 0; gi < G; ++gi)
        transpose_rows(dyn + gi * Co * P + d0, P, Co, depth, dyt + gi * dblock * Co_pad, Co_pad);
      for (int64_t gi = 0; gi < G; ++gi)
        for (int64_t k0 = 0; k0 < K_pad; k0 += kMR) {
          next_x.step();
          next_dy.step();
          row_block(gi, k0, d0, depth, S, zero_row, dyt, acc);
        }
    }
  }

  // dw [G*Co][K] += the accumulators transposed, 16 output channels × 16 rows of col at a time: the
  // block is summed over the accumulators (in order) as acc stores it, along its rows, then added
  // to 16 runs of dw.
  void add(const real* const* accs, int used, real* dw) const {
    constexpr int64_t kT = 16;
    const int64_t Co = g.group_out(), K = g.patch_size(), co_blocks = (Co + kT - 1) / kT;
#pragma omp parallel for schedule(static) if (acc_size() * used > kParallelPackValues && !omp_in_parallel())
    for (int64_t item = 0; item < g.groups * co_blocks; ++item) {
      const int64_t gi = item / co_blocks, c0 = item % co_blocks * kT, cn = std::min(kT, Co - c0);
      real block[kT][kT];  // [k][co]
      for (int64_t k0 = 0; k0 < K; k0 += kT) {
        const int64_t kn = std::min(kT, K - k0);
        for (int64_t kk = 0; kk < kn; ++kk) {
          const real* a0 = accs[0] + (gi * K_pad + k0 + kk) * Co_pad + c0;
          for (int64_t c = 0; c < kT; ++c) block[kk][c] = c < cn ? a0[c] : real(0);
          for (int t = 1; t < used; ++t) {
            const real* at = accs[t] + (gi * K_pad + k0 + kk) * Co_pad + c0;
            for (int64_t c = 0; c < cn; ++c) block[kk][c] += at[c];
          }
        }
        for (int64_t c = 0; c < cn; ++c) {
          real* d = dw + (gi * Co + c0 + c) * K + k0;
          for (int64_t kk = 0; kk < kn; ++kk) d[kk] += block[kk][c];
        }
      }
    }
  }
};

void backward_weight_by_broadcast_tiles(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  const BroadcastWeightGradient bw(g);
  const auto item = [&](real* acc, const real* S, const real* zero_row, int64_t n, int64_t p_begin, int64_t p_end) {
    bw.item(acc, S, zero_row, n, p_begin, p_end, x, dy);
  };
  weight_gradient_items(g, x, bw.acc_size(), item,
                        [&](const real* const* accs, int used) { bw.add(accs, used, dw); });
}

}  // namespace

void conv2d_backward_weight_tiles(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  conv2d_backward_weight_tiles(g, weight_gradient_path(g), x, dy, dw);
}

void conv2d_backward_weight_tiles(const Conv2dGeometry& g, WeightGradientPath path, const real* x, const real* dy,
                                  real* dw) {
  if (path == WeightGradientPath::kDots)
    backward_weight_by_dots(g, x, dy, dw);
  else
    backward_weight_by_broadcast_tiles(g, x, dy, dw);
}

}  // namespace st::conv_detail
