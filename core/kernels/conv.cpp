#include "core/kernels/conv.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "core/kernels/conv_gemm.h"
#include "core/kernels/conv_winograd.h"
#include "core/kernels/scratch.h"

namespace st {

namespace {

using Vec = Eigen::Matrix<real, Eigen::Dynamic, 1>;
// Eigen's widest SIMD packet for real: 16 floats with AVX-512, 8 with AVX, 4 with SSE, or real.
using Packet = Eigen::internal::packet_traits<real>::type;
constexpr int64_t kPacket = sizeof(Packet) / sizeof(real);
// A register tile is kMR rows by kNV packets (16 accumulators); a panel is kPanel output positions
// wide. Measured on the ResNet-20 shapes (AVX-512): 8×2 is as fast as or faster than 4×4, 6×4,
// 8×3, 12×2 and 16×1, and than half-width packets. The forward tiles also come kWideMR rows tall
// where the output channels allow it (RowBlocks, below).
constexpr int kMR = 8;
constexpr int kNV = 2;
constexpr int64_t kPanel = kNV * kPacket;
constexpr int kWideMR = 14;

inline int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Prefetches `count` values at p (none when p is null) into L2 in `steps` even slices, one slice
// per step(). Spread over the tiles of one image, it brings in the next image's tensors, which
// are otherwise read from the last-level cache or memory (a model's activations do not stay in
// L2) when that image's S is built, with nothing else for the core to do meanwhile. Measured
// alternating with no prefetch in one process, 2 threads, median of 60 pairs, each call reading
// one of six sets of tensors in turn (ratio of times): ResNet-20's 16-, 32- and 64-channel convs,
// forward 0.94 / 0.95 / 1.00, input gradient 0.91 / 0.96 / 0.97, weight gradient (broadcast tiles)
// - / 0.90 / 0.94, its stride-2 convs' weight gradients 0.93-0.94. Not in the stride-2 forward
// (1.02-1.03), nor in the dot-product weight gradient (16 channels: with the prefetcher's state in
// its item, GCC's code for the 24-accumulator tile ran twice as slow; called out of line, one
// slice per block of output channels, it gained nothing, 0.99-1.00). Only where the next image's tensors
// take at most kPrefetchBytes (a quarter of this machine's 2 MiB L2): larger ones (ResNet-18's
// 56×56 planes, 800 KiB per tensor) would push the current image's S out of L2, and were not
// measured.
constexpr int64_t kPrefetchBytes = 512 * 1024;
class SpreadPrefetch {
 public:
  SpreadPrefetch(const real* p, int64_t count, int64_t steps)
      : p_(reinterpret_cast<const char*>(p)),
        lines_(p ? (count * int64_t(sizeof(real)) + kLine - 1) / kLine : 0),
        per_step_((lines_ + std::max<int64_t>(1, steps) - 1) / std::max<int64_t>(1, steps)) {}
  void step() {
    const int64_t end = std::min(lines_, done_ + per_step_);
    for (; done_ < end; ++done_) __builtin_prefetch(p_ + done_ * kLine, 0, 2);
  }

 private:
  static constexpr int64_t kLine = 64;
  const char* p_;
  int64_t lines_, per_step_, done_ = 0;
};

// The register tile: C[MR, NV*kPacket] = init + sum over d < depth of A(r, d) * B(d, :), with
//   A(r, d) = a[d*MR + r]         (A packed [depth][MR])        unless A_ROWS, then arow[r][d];
//   B(d, :) = b + boff[d]         (rows anywhere, e.g. in S)    unless !B_OFFS, then b + d*ldb;
// C's rows are ldc apart, or at crow[r] when C_ROWS;
// init = row_init[r] when row_init is given, else 0, and C's old values are added when load_c;
// then max(·, 0) when relu.
// A is broadcast, B read in packets; every pointer must have the full tile behind it (callers pad
// their buffers).
template <int MR, int NV, bool A_ROWS, bool B_OFFS, bool C_ROWS = false>
inline void tile(int64_t depth, const real* a, const real* const* arow, const real* b, const int64_t* boff,
                 int64_t ldb, real* c, int64_t ldc, bool load_c, const real* row_init, real* const* crow = nullptr,
                 bool relu = false) {
  using namespace Eigen::internal;
  real* cr[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) cr[r] = C_ROWS ? crow[r] : c + r * ldc;
  Packet acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = pset1<Packet>(row_init ? row_init[r] : real(0));
  const real* ar[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) ar[r] = A_ROWS ? arow[r] : a + r;
  for (int64_t d = 0; d < depth; ++d) {
    const real* bd = B_OFFS ? b + boff[d] : b + d * ldb;
    Packet bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = ploadu<Packet>(bd + v * kPacket);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const Packet av = pset1<Packet>(A_ROWS ? ar[r][d] : a[d * MR + r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = pmadd(av, bv[v], acc[r][v]);
    }
  }
  // C is added at the end rather than loaded first: its loads (often cache misses, in an output
  // that is accumulated into) then overlap the products instead of holding up every chain.
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      Packet out = acc[r][v];
      if (load_c) out = padd(out, ploadu<Packet>(cr[r] + v * kPacket));
      if (relu) out = pmax(out, pset1<Packet>(real(0)));
      pstoreu(cr[r] + v * kPacket, out);
    }
}

// Deep patches with small planes (K >= 1024, P < 256) go to one GEMM over a chunk of images
// (conv_gemm.h) where the register tiles lose: where the plane's last panel leaves more than 1/8
// of the lanes the tiles run empty (a last panel of at most kPacket positions runs one packet
// wide). Measured with st_bench_conv or alternating in one process, 2 threads, ms of forward /
// input gradient / weight gradient, GEMM against tiles:
// - 512→512 stride 1 at 7×7 (P = 49: 17 of the second panel's 32 lanes used): 16 / 15 / 15 against
//   28-37 / 35-40 / 42-44; forward + backward 70-94 against 121-140 in three alternating runs on a
//   slower host. Again with the tiles' rows of col in blocks (kPackedPanelBlock): the tiles 1.14 /
//   2.0 / 2.2 times the GEMM's time. 256→512 stride 2 (P = 49): the tiles 1.17 / 1.48 / 1.95.
// - ResNet-18's 128→256 stride 2 at 28×28 (P = 196 in 6 panels and 4 positions, 12 of 208 lanes
//   empty; K = 1152): before the blocks of rows, the GEMM 9.4 / 11-13 / 9-12 against 13-14 /
//   15-16 / 9-11; with them the tiles 0.82-0.84 / 0.95-0.97 / 0.85-0.89 times the GEMM's time.
// - The tiles win where P fills its panels: VGG-7's 256→512 and 512→512 at 8×8 (P = 64, batch 128),
//   forward 99 against 131 and 183 against 244-264; and on ResNet-20's shapes (K <= 576).
// - They also win on planes of at most one packet (P <= 16), where the batched im2col copies one
//   short run per image and row of col (3 of its 5.3 ms forward): the p = 2 Strassen ResNet-20's
//   W_b in stage 3 (64 channels 8×8 → 4×4, kernel 4, stride 2, K = 1024, batch 128), forward /
//   input gradient / weight gradient 4.2-4.5 / 4.3-5.5 / 3.2-3.6 ms against 4.8-5.5 / 5.0-5.2 /
//   4.8-5.6 in alternating runs of both.
bool batched_gemm_preferred(const Conv2dGeometry& g) {
  const int64_t P = g.out_plane();
  if (g.groups != 1 || g.patch_size() < 1024 || P >= 256 || P <= kPacket) return false;
  const int64_t rest = P % kPanel;
  const int64_t lanes = P - rest + (rest == 0 ? 0 : rest <= kPacket ? kPacket : kPanel);
  return 8 * (lanes - P) > lanes;
}

// 3×3 stride-1 convs with at least 128 channels in and out go to Winograd's F(2×2, 3×3)
// (conv_winograd.h), 16 products per 2×2 output tile and pair of channels instead of 36. Measured
// in one process against the kernels here, 2 threads, forward + input gradient + weight gradient,
// ratio of times (median of 7, three runs): ResNet-18's 128 channels at 28×28 0.85, 256 at 14×14
// 0.74-0.78, 512 at 7×7 0.77; VGG-7's 128 at 32×32 0.79-0.82, 256 at 16×16 0.71-0.74, 512 at 8×8
// 0.64-0.66. Not below 128 channels, where the transforms (which touch every value 16/4 times
// more than the image) outweigh the products: ResNet-18's 64 at 56×56 1.11, ResNet-20's 16, 32
// and 64 channels 1.8-2.7. Nor where one image's transformed planes outgrow the chunk budget
// (planes not measured, e.g. 128 channels at 224×224: 205 MB of scratch for one image).
bool winograd_preferred(const Conv2dGeometry& g) {
  return winograd_applies(g) && g.in_channels >= 128 && g.out_channels >= 128 && winograd_image_fits_chunk(g);
}

// Whether `items` items of `flops` in all are split over the threads: not when one thread is all
// there is, inside a parallel region, or for small work.
bool split_over_threads(int64_t items, double flops) {
  return items > 1 && flops > 2e6 && omp_get_max_threads() > 1 && !omp_in_parallel();
}

// Splits [0, items) into one contiguous chunk per thread (static: the split depends only on the
// thread count) and calls f(thread, begin, end); returns the number of threads used (1, on the
// calling thread, when !split_over_threads).
template <class F>
int for_each_chunk(int64_t items, double flops, F&& f) {
  if (!split_over_threads(items, flops)) {
    f(0, int64_t(0), items);
    return 1;
  }
  int used = 1;
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    if (t == 0) used = nt;
    const int64_t chunk = (items + nt - 1) / nt;
    const int64_t begin = std::min(items, t * chunk), end = std::min(items, begin + chunk);
    f(t, begin, end);
  }
  return used;
}

// As for_each_chunk, but [0, items) is cut into piece_count contiguous pieces, up to
// kPiecesPerThread per thread, handed out as threads finish (f(piece, begin, end) once per piece;
// returns the number of pieces), so that a thread slowed by other load on its core takes fewer.
// For work whose pieces are independent, or summed per piece (every output element is computed
// by the same arithmetic whichever thread takes its piece, so results do not depend on the
// schedule); not for per-thread sums. Measured on this shared host under load, ResNet-20's convs
// alone (alternating in one process, 2 threads, median of 31) 0.96-1.00 of the time with static
// chunks; `strassen bench --case resnet20` alternating, five pairs of runs, 224-250 against
// 180-305 ms (faster in four); level on a quiet host in the previous session (0.98-1.02).
constexpr int64_t kPiecesPerThread = 4;
int64_t piece_count(int64_t items, double flops) {
  if (!split_over_threads(items, flops)) return 1;
  return std::min<int64_t>(items, omp_get_max_threads() * kPiecesPerThread);
}
template <class F>
int64_t for_each_piece(int64_t items, double flops, F&& f) {
  const int64_t pieces = piece_count(items, flops);
  if (pieces == 1) {
    f(int64_t(0), int64_t(0), items);
    return 1;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < pieces; ++i) f(i, items * i / pieces, items * (i + 1) / pieces);
  return pieces;
}

// Work items per image: 1, or, when there are fewer images than threads, enough parts of each
// image (up to `parts`) to give every thread work. Depends only on the batch and thread count.
int64_t image_splits(int64_t batch, int64_t parts) {
  const int64_t threads = omp_get_max_threads();
  if (batch >= threads || threads == 1 || omp_in_parallel()) return 1;
  return std::max<int64_t>(1, std::min(parts, (threads + batch - 1) / batch));
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
std::vector<int64_t> shifted_offsets(const Conv2dGeometry& g) { return col_row_offsets<ShiftedLayout>(g); }

// Stride-1 convs whose output rows are whole panels (out_w a multiple of kPanel: ResNet-20's and
// VGG-7's 32×32 layers) read col straight out of the padded image (PaddedLayout, im2col.h), the
// size of the image, rather than out of S, three times it: a panel is one output row, and row
// (ci, i, j) of col over it a contiguous run of the padded image. Measured alternating with S in
// one process, 2 threads (ratio of times, median of 30 pairs): ResNet-20's 16-channel 32×32 conv
// forward 0.84, its input gradient (the forward conv of dy) 0.91, its first conv (3 → 16) 0.89;
// VGG-7's 128-channel 32×32 conv level (its panels are packed either way).
bool rows_are_panels(const Conv2dGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.out_w % kPanel == 0;
}

// A 1×1 stride-1 unpadded conv's col is the image itself (row k is channel k, in both S layouts),
// so its kernels read the image in place instead of copying it into S, when every panel is full
// (a partial last panel would read past the end of x). Measured alternating with the copy in one
// process, 2 threads (ratio of times, median of 30 pairs), on the p = 1 Strassen ResNet-20's W_c
// (16, 32, 64 channels at 32×32, 16×16, 8×8, batch 128): forward 0.75, 0.58, 0.53; input
// gradient 0.81, 0.67, 0.52; weight gradient 0.83, 0.77, 0.62.
bool reads_image_in_place(const Conv2dGeometry& g) { return g.pointwise() && g.out_plane() % kPanel == 0; }

// s = shifted_image(x) followed by kPanel zeroed elements of slack: a panel that runs past
// column P reads into them (into finite values whose products are dropped). s holds
// ShiftedLayout(patch).size(kernel_w) + kPanel elements.
void shifted_image_with_slack(const PatchGeometry& patch, const real* x, real* s) {
  shifted_image(patch, x, s);
  const int64_t used = ShiftedLayout(patch).size(patch.kernel_w);
  std::fill(s + used, s + used + kPanel, real(0));
}

// The calling thread's S for one image, with kPanel zeroed elements of slack at the end (as
// above; shifted_image leaves them as they are).
real* shifted_scratch(int64_t s_size) {
  real* s = thread_scratch(Scratch::kConvImage, s_size + kPanel);
  std::fill(s + s_size, s + s_size + kPanel, real(0));
  return s;
}

// A thread's share [begin, end) of the work items (image n, part): part `part` of `splits` of an
// image covers units [part*units/splits, (part+1)*units/splits) of it (panels, or positions).
// Calls f(n, unit_begin, unit_end) for each non-empty item with S holding the shifted image of x_n,
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
template <class F>
void for_each_image_part(const PatchGeometry& patch, const real* x, int64_t x_image, int64_t units, int64_t splits,
                         int64_t begin, int64_t end, real* S, F&& f) {
  for_each_image_part(patch, x, x_image, units, splits, begin, end, S, f, shifted_image);
}

// y_n[:, q0:q1] = residual_n[:, q0:q1] for every one of the image's channels (rows P apart): the
// residual goes in just before the tiles accumulate onto that part of the output.
inline void copy_residual_part(const real* residual, real* y, int64_t n, int64_t channels, int64_t P, int64_t q0,
                               int64_t q1) {
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t at = (n * channels + c) * P;
    std::copy(residual + at + q0, residual + at + q1, y + at + q0);
  }
}

// The register tile over B rows b + boff[d] for a panel whose first np <= kPanel positions are
// used, into c (rows ldc apart, kPanel wide): one packet wide when np fits in one packet, half the
// products of the full tile (ResNet-18's 14×14 planes end in a panel of 4 positions; the p = 2
// model's 4×4 planes are one panel of 16).
template <int MR>
inline void panel_tile(int64_t np, int64_t depth, const real* a, const real* b, const int64_t* boff, real* c,
                       int64_t ldc, bool load_c, const real* bias, bool relu) {
  if (np <= kPacket)
    tile<MR, 1, false, true>(depth, a, nullptr, b, boff, 0, c, ldc, load_c, bias, nullptr, relu);
  else
    tile<MR, kNV, false, true>(depth, a, nullptr, b, boff, 0, c, ldc, load_c, bias, nullptr, relu);
}

// out[rows, np] (rows P apart; = or += when load_c) = the MR-row register tile over B rows
// b + boff[d], bias and ReLU as in tile(). A partial block (rows < MR or np < kPanel) goes
// through tmp [MR, kPanel], since the tile writes its whole extent.
template <int MR>
inline void tile_to_output(int64_t depth, const real* a, const real* b, const int64_t* boff, real* out, int64_t P,
                           int64_t rows, int64_t np, bool load_c, const real* bias, bool relu, real* tmp) {
  if (rows == MR && np == kPanel) {
    tile<MR, kNV, false, true>(depth, a, nullptr, b, boff, 0, out, P, load_c, bias, nullptr, relu);
    return;
  }
  if (load_c)
    for (int64_t r = 0; r < rows; ++r) std::copy(out + r * P, out + r * P + np, tmp + r * kPanel);
  panel_tile<MR>(np, depth, a, b, boff, tmp, kPanel, load_c, bias, relu);
  for (int64_t r = 0; r < rows; ++r) std::copy(tmp + r * kPanel, tmp + r * kPanel + np, out + r * P);
}

// tile_to_output for a block `width` rows tall (kMR or kWideMR; tmp [width, kPanel]).
inline void block_to_output(int width, int64_t depth, const real* a, const real* b, const int64_t* boff, real* out,
                            int64_t P, int64_t rows, int64_t np, bool load_c, const real* bias, bool relu,
                            real* tmp) {
  if (width == kWideMR)
    tile_to_output<kWideMR>(depth, a, b, boff, out, P, rows, np, load_c, bias, relu, tmp);
  else
    tile_to_output<kMR>(depth, a, b, boff, out, P, rows, np, load_c, bias, relu, tmp);
}

// Patches at least this deep are copied panel by panel before the blocks read them (see
// conv2d_forward_impl), kPackedPanelBlock rows of col at a time: every block of output channels
// then runs over those rows (accumulating into its tile of y) while the copy, 24 KiB, is in L1,
// rather than over all K rows of a copy in L2. Measured alternating with whole-K tiles in one
// process, 2 threads (ratio of times, median of 7-15 pairs), blocks of 256 rows: ResNet-18's
// 256-channel 14×14 conv 0.92 forward / 0.94 input gradient, its 128-channel 28×28 conv 0.94,
// VGG-7's 256→512 at 8×8 0.95 and its 512→512 level; 192 rows against 256: 0.95-0.98, level; 384
// rows against whole-K tiles: level.
constexpr int64_t kPackedPanelDepth = 1024;
constexpr int64_t kPackedPanelBlock = 192;

// Input channels per build of S in the forward conv: all of them, or, when one image's S is
// larger than kChunkedSBytes (a quarter of this machine's 2 MiB L2) and the patch is deep but not
// packed (2 kChunkRows <= K < kPackedPanelDepth), chunks of about kChunkRows rows of col. S is
// then built one chunk of channels at a time and read while it is still in L2, and the B panel
// a tile reads (kChunkRows rows of kPanel) stays in L1 while every block of output channels
// reads it; y is accumulated over the chunks. Measured alternating with the whole-image S in one
// process, 2 threads (ratio of times, median of 20 pairs, forward / input gradient): ResNet-18's
// 64-channel 56×56 conv 0.91 / 0.89 and its 64→128 stride-2 conv 0.87 / level. Not where:
// - the panels are packed (K >= 1024): ResNet-18's 128 channels at 28×28 1.02 / 1.04, VGG-7's
//   at 32×32 1.02 / 1.04 (the packed panel already stays in L1);
// - the patch is shallow: ResNet-18's 7×7 stem (K = 147), split in chunks of 2 and 1 channels,
//   1.03-1.26;
// - S is small (ResNet-20's shapes, at most 209 KiB): 2-10 % slower, y being read back once per
//   chunk for nothing.
constexpr int64_t kChunkedSBytes = 512 * 1024;
constexpr int64_t kChunkRows = 144;
int64_t forward_channel_chunk(const Conv2dGeometry& g, int64_t s_size) {
  const int64_t K = g.patch_size();
  if (g.groups != 1 || s_size * int64_t(sizeof(real)) <= kChunkedSBytes || K < 2 * kChunkRows ||
      K >= kPackedPanelDepth)
    return g.in_channels;
  return std::max<int64_t>(1, kChunkRows / (g.kernel_h * g.kernel_w));
}

// The blocks of output channels of the forward tiles (pack_tile_weights's layout): `wide` blocks
// of kWideMR rows (28 accumulators), then `narrow` blocks of kMR rows, the last one padded with
// zero rows. A taller tile reads each row of its B panel for more products, which pays where the
// panel (K rows of kPanel) does not stay in L1 and every block reads it again from L2; wide
// blocks are used only where the channels left over fill whole kMR blocks (a padded wide block
// would compute its padding). Measured alternating with kMR blocks only in one process (2 threads,
// batch 128, median of 60 pairs, each call reading one of six sets of tensors in turn; ratio of
// times): ResNet-20's 64 channels at 8×8 (K = 576; 14 ×4 + 8) forward 0.96, input gradient 0.94;
// its stride-2 32→64 forward 0.93 (its input gradient, by phases and untouched, 1.01). With the
// tile alone on one thread, S in L2: 0.90-0.91 at 64 channels. ResNet-18's 64 channels at 56×56
// and 64→128 at stride 2 (batch 16, median of 20-30 pairs) level, 0.99-1.01. Not where the panel
// fits L1: ResNet-18's 1×1 stride-2 256-channel shortcut (K = 128), forward 0.95 ms in wide blocks
// against 0.91 (st_bench_conv --breakdown, minimum of 15, three pairs); nor in blocks of 12 (32
// channels as 12 + 12 + 8: level at 16×16, 1.02-1.03 at stride 2, the same way), so 32 channels
// stay in kMR blocks.
struct RowBlocks {
  int64_t wide = 0, narrow = 0;
  int64_t count() const { return wide + narrow; }
  int64_t row0(int64_t bi) const { return bi < wide ? bi * kWideMR : wide * kWideMR + (bi - wide) * kMR; }
  int width(int64_t bi) const { return bi < wide ? kWideMR : kMR; }
  int64_t padded() const { return wide * kWideMR + narrow * kMR; }
};

// Wide blocks where one panel's K rows take more than this (two thirds of this machine's 48 KiB L1).
constexpr int64_t kWidePanelBytes = 32 * 1024;

RowBlocks row_blocks(const Conv2dGeometry& g) {
  const int64_t Co = g.group_out(), K = g.patch_size();
  RowBlocks rb;
  if (K * kPanel * int64_t(sizeof(real)) > kWidePanelBytes && K < kPackedPanelDepth)
    for (int64_t n = Co / kWideMR; n >= 1; --n)
      if ((Co - n * kWideMR) % kMR == 0) {
        rb.wide = n;
        rb.narrow = (Co - n * kWideMR) / kMR;
        return rb;
      }
  rb.narrow = round_up(Co, kMR) / kMR;
  return rb;
}

// The forward tiles' weights for conv g, in the blocks of output channels of row_blocks(g):
// wp [G][Co_pad][K] (Co_pad = row_blocks(g).padded()) with block bi, of width w rows from row0,
// at wp + (gi*Co_pad + row0)*K laid out [K][w]: wp[...][k*w + r] = weight(gi, row0 + r, k), the
// weight of output channel row0 + r of group gi at row k of col, zero for rows past Co, so that a
// tile's broadcasts for one k are adjacent. Written in order (w rows of the weight read side by
// side), over the threads when large, into the calling thread's Scratch::kConvPackedWeights (kept
// between calls: no allocation and no page faults per call); the pointer stays valid until the
// next packing on this thread.
template <class Weight>
const real* pack_tile_weights(const Conv2dGeometry& g, Weight&& weight) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size();
  const RowBlocks rb = row_blocks(g);
  const int64_t blocks = rb.count(), Co_pad = rb.padded();
  real* wp = thread_scratch(Scratch::kConvPackedWeights, G * Co_pad * K);
#pragma omp parallel for schedule(static) if (G * Co_pad * K > 65536 && !omp_in_parallel())
  for (int64_t item = 0; item < G * blocks; ++item) {
    const int64_t gi = item / blocks, bi = item % blocks, row0 = rb.row0(bi), width = rb.width(bi);
    const int64_t rows = std::min<int64_t>(width, Co - row0);
    real* d = wp + (gi * Co_pad + row0) * K;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < width; ++r) d[k * width + r] = r < rows ? weight(gi, row0 + r, k) : real(0);
  }
  return wp;
}

// pack_tile_weights of conv g's own weight w [G*Co][K].
const real* pack_tile_weights(const Conv2dGeometry& g, const real* w) {
  const int64_t Co = g.group_out(), K = g.patch_size();
  return pack_tile_weights(g, [&](int64_t gi, int64_t o, int64_t k) { return w[(gi * Co + o) * K + k]; });
}

// conv2d_forward_impl for one group (G = 1) with S built `chunk` input channels at a time (see
// forward_channel_chunk): per image and chunk of channels, S_c = shifted_image of those channels;
// then for each panel and block, y[block, panel] (+)= w[block, rows of the chunk] · col_c[:, panel].
// wp and bp are conv2d_forward_impl's packed weights and padded bias. The bias goes in with the
// first chunk and the ReLU with the last; the sums over K are split at the chunks' edges, so
// they equal the whole-S ones up to float rounding.
void forward_by_channel_chunks(const Conv2dGeometry& g, const real* x, const real* wp, const real* bp, real* y,
                               bool accumulate, bool relu, const real* residual, int64_t chunk) {
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane(), kk = g.kernel_h * g.kernel_w;
  const RowBlocks rb = row_blocks(g);
  const int64_t blocks = rb.count(), chunks = (g.in_channels + chunk - 1) / chunk;
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = Co * P;
  // The convolutions of a full chunk of input channels and of the last one: their shifted-image
  // geometry and row offsets.
  Conv2dGeometry g_full = g, g_last = g;
  g_full.in_channels = chunk;
  g_last.in_channels = g.in_channels - (chunks - 1) * chunk;
  const PatchGeometry full = g_full.patch(), last = g_last.patch();
  const std::vector<int64_t> off_full = shifted_offsets(g_full), off_last = shifted_offsets(g_last);
  const int64_t s_size = ShiftedLayout(full).size(g.kernel_w);
  const double flops = 2.0 * g.batch * Co * P * K;
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* S = thread_scratch(Scratch::kConvImage, s_size + kPanel);
    real* tmp = thread_scratch(Scratch::kConvTile, kWideMR * kPanel);
    for (int64_t n = begin; n < end; ++n) {
      if (residual) copy_residual_part(residual, y, n, Co, P, 0, P);
      for (int64_t c = 0; c < chunks; ++c) {
        const bool is_last = c == chunks - 1;
        const PatchGeometry& pg = is_last ? last : full;
        shifted_image_with_slack(pg, x + n * x_image + c * chunk * g.in_plane(), S);
        const int64_t* off = is_last ? off_last.data() : off_full.data();
        const int64_t k0 = c * chunk * kk, depth = pg.channels * kk;
        const bool load_c = accumulate || residual || c > 0;
        for (int64_t p0 = 0; p0 < P; p0 += kPanel) {
          const int64_t np = std::min(kPanel, P - p0);
          for (int64_t bi = 0; bi < blocks; ++bi) {
            const int64_t row0 = rb.row0(bi);
            const int width = rb.width(bi);
            const real* a = wp + row0 * K + k0 * width;
            const real* bias = bp && c == 0 ? bp + row0 : nullptr;
            const int64_t rows = std::min<int64_t>(width, Co - row0);
            block_to_output(width, depth, a, S + p0, off, y + n * y_image + row0 * P + p0, P, rows, np, load_c, bias,
                            relu && is_last, tmp);
          }
        }
      }
    }
  });
}

// y (= or +=) conv2d(x, w) + b (+ residual), then max(·, 0) when relu, with wp the weights as
// pack_tile_weights lays them out. Per image: S = shifted_image(x_n);
// then for each group, block of rows of col (all K of them, or kPackedPanelBlock when the panels
// are packed), panel of kPanel output positions and block of the packed weights (RowBlocks), one
// register tile reads its rows of B straight out of S (y_g[:, panel] (+)= w_g · col_g[:, panel]
// over those rows; the bias goes in with the first block of rows, the ReLU with the last).
void conv2d_forward_impl(const Conv2dGeometry& g, const real* x, const real* wp, const real* b, real* y,
                         bool accumulate, bool relu = false, const real* residual = nullptr) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const RowBlocks rb = row_blocks(g);
  const int64_t Co_pad = rb.padded(), blocks = rb.count();
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  const PatchGeometry patch = g.patch();
  const int64_t s_size = ShiftedLayout(patch).size(g.kernel_w);
  const bool by_rows = rows_are_panels(g);
  const PaddedLayout pl(patch);
  const std::vector<int64_t> off = by_rows ? col_row_offsets<PaddedLayout>(g) : shifted_offsets(g);
  // bp [G][Co_pad]: the bias, zero-padded.
  std::vector<real> bp;
  if (b) {
    bp.assign(G * Co_pad, real(0));
    for (int64_t gi = 0; gi < G; ++gi) std::copy(b + gi * Co, b + (gi + 1) * Co, bp.begin() + gi * Co_pad);
  }
  const double flops = 2.0 * g.batch * g.out_channels * P * K;
  // Deep patches shared by at least 4 blocks are packed per panel (see the panel loop). Measured
  // alternately in one process, 2 threads: 1.18-1.22x on ResNet-18's 128-channel 3×3 conv
  // (K = 1152), 1.05-1.08x at 256 channels, 1.11-1.29x on VGG-7's 512-channel ones, 0.98-1.06x at
  // 512 channels 7×7 and 0.92-1.28x on VGG-7's 256-channel ones; 0.79-0.92x for K <= 576, where
  // the copy is not paid back.
  const bool pack_panels = Co_pad >= 4 * kMR && K >= kPackedPanelDepth;
  const int64_t kc = pack_panels ? kPackedPanelBlock : K;
  // Work items: (image, part), a part being a contiguous range of the image's panels.
  const int64_t panels = (P + kPanel - 1) / kPanel, splits = image_splits(g.batch, panels);
  const bool in_place = reads_image_in_place(g);
  const int64_t chunk = in_place ? g.in_channels : forward_channel_chunk(g, s_size);
  const bool load_c = accumulate || residual;
  if (chunk < g.in_channels && splits == 1) {
    forward_by_channel_chunks(g, x, wp, b ? bp.data() : nullptr, y, accumulate, relu, residual, chunk);
    return;
  }
  for_each_piece(g.batch * splits, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* S = in_place  ? nullptr
              : by_rows ? thread_scratch(Scratch::kConvImage, pl.size())
                        : shifted_scratch(s_size);
    real* tmp = thread_scratch(Scratch::kConvTile, kWideMR * kPanel);
    real* packed = pack_panels ? thread_scratch(Scratch::kConvPanel, kc * kPanel) : nullptr;
    const auto build = [&](const PatchGeometry& pg, const real* xn, real* s) {
      if (in_place) return;
      if (by_rows)
        padded_image(pg, xn, s);
      else
        shifted_image(pg, xn, s);
    };
    // Where the panel at p0 starts in S (+ off[k] for row k of col).
    const auto base = [&](int64_t p0) { return by_rows ? pl.position(p0, g.out_w) : p0; };
    for_each_image_part(patch, x, x_image, panels, splits, begin, end, S, [&](int64_t n, int64_t pi0, int64_t pi1) {
      if (residual) copy_residual_part(residual, y, n, g.out_channels, P, pi0 * kPanel, std::min(P, pi1 * kPanel));
      const real* Sn = in_place ? x + n * x_image : S;
      // The next image's input, while this one's tiles run (whole images, stride 1).
      const bool prefetch = splits == 1 && !in_place && g.stride_h == 1 && g.stride_w == 1 && n + 1 < g.batch &&
                            x_image * int64_t(sizeof(real)) <= kPrefetchBytes;
      SpreadPrefetch next(prefetch ? x + (n + 1) * x_image : nullptr, x_image,
                          G * ((K + kc - 1) / kc) * (pi1 - pi0));
      for (int64_t gi = 0; gi < G; ++gi)
        for (int64_t k0 = 0; k0 < K; k0 += kc) {
          const int64_t kd = std::min(kc, K - k0);
          const bool first = k0 == 0, last = k0 + kd == K;
          for (int64_t p0 = pi0 * kPanel; p0 < std::min(P, pi1 * kPanel); p0 += kPanel) {
            const int64_t np = std::min(kPanel, P - p0);
            next.step();
            // With many blocks to share it, the panel's rows k0 .. k0+kd-1 of col are first copied
            // side by side (each kPanel long), so that every block reads them sequentially.
            const bool packed_panel = packed && np == kPanel;
            if (packed_panel)
              for (int64_t k = k0; k < k0 + kd; ++k)
                std::copy_n(Sn + off[gi * K + k] + base(p0), kPanel, packed + (k - k0) * kPanel);
            for (int64_t bi = 0; bi < blocks; ++bi) {
              const int64_t row0 = rb.row0(bi);
              const int width = rb.width(bi);
              const real* a = wp + (gi * Co_pad + row0) * K + k0 * width;
              const real* bias = b && first ? bp.data() + gi * Co_pad + row0 : nullptr;
              const int64_t rows = std::min<int64_t>(width, Co - row0);
              const bool add = load_c || !first, r = relu && last;
              real* out = y + n * y_image + (gi * Co + row0) * P + p0;
              if (rows == kMR && packed_panel) {  // packed panels have kMR blocks only (row_blocks)
                tile<kMR, kNV, false, false>(kd, a, nullptr, packed, nullptr, kPanel, out, P, add, bias, nullptr, r);
                continue;
              }
              block_to_output(width, kd, a, Sn + base(p0), off.data() + gi * K + k0, out, P, rows, np, add, bias, r,
                              tmp);
            }
          }
        }
    }, build);
  });
}

// The rows of dy_n [channels, P] at the panel p0 .. p0+np-1, as a register tile's B operand:
// base + boff[c] is channel c's row, ld the distance between rows. A full panel is read in place
// (rows P apart, rows_p[c] = c·P); the last, partial one through a zero-padded copy in dyp (rows
// kPanel apart, rows_panel[c] = c·kPanel), since in place it could run off the end of dy.
struct DyPanel {
  const real* base;
  const int64_t* boff;
  int64_t ld;
};
DyPanel dy_panel(const real* dyn, int64_t channels, int64_t P, int64_t p0, int64_t np, real* dyp,
                 const std::vector<int64_t>& rows_p, const std::vector<int64_t>& rows_panel) {
  if (np == kPanel) return {dyn + p0, rows_p.data(), P};
  for (int64_t c = 0; c < channels; ++c) {
    std::copy(dyn + c * P + p0, dyn + c * P + P, dyp + c * kPanel);
    std::fill(dyp + c * kPanel + np, dyp + (c + 1) * kPanel, real(0));
  }
  return {dyp, rows_panel.data(), kPanel};
}

// dx += conv2d input gradient through the columns: per image and panel, col_g [K, kPanel] =
// w_g^T · dy_g[:, panel] (depth Co) is added row by row into dS (each col row is a run of dS, as
// in S), and dS folded onto dx_n by shifted_image_add. Used for the strides and paddings that
// neither the flipped-kernel forward nor the phases (backward_input_by_phases) take.
// The col rows go in the order (i, j, ci) rather than (ci, i, j): then the kMR rows of a block
// belong to kMR different channels (when Ci >= kMR), so their runs of dS are disjoint and the
// register tile can add its result straight into dS. Other blocks, and the last partial panel, go
// through a small buffer and are added row by row.
void backward_input_by_columns(const Conv2dGeometry& g, const real* dy, const real* w, real* dx) {
  const int64_t G = g.groups, Ci = g.group_in(), Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t K_pad = round_up(K, kMR), blocks = K_pad / kMR;
  const int64_t kk_size = g.kernel_h * g.kernel_w;
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  const PatchGeometry patch = g.patch();
  const int64_t s_size = ShiftedLayout(patch).size(g.kernel_w);
  const std::vector<int64_t> off = shifted_offsets(g);
  // perm[t] = the col row (ci*kH + i)*kW + j at position t = (i*kW + j)*Ci + ci.
  std::vector<int64_t> perm(K);
  for (int64_t ci = 0; ci < Ci; ++ci)
    for (int64_t ij = 0; ij < kk_size; ++ij) perm[ij * Ci + ci] = ci * kk_size + ij;
  // wt [G][blocks][Co][kMR]: wt[gi][bi][co][r] = w[gi*Co + co][perm[bi*kMR + r]], zero past K.
  std::vector<real> wt(G * blocks * Co * kMR, real(0));
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t t = 0; t < K; ++t)
        wt[((gi * blocks + t / kMR) * Co + co) * kMR + t % kMR] = w[(gi * Co + co) * K + perm[t]];
  const bool direct_blocks = Ci >= kMR;  // a full block then holds kMR distinct channels
  // Row offsets of B = dy_g read in place (rows P apart) or from the padded copy (kPanel apart).
  std::vector<int64_t> rows_p(Co), rows_panel(Co);
  for (int64_t co = 0; co < Co; ++co) rows_p[co] = co * P, rows_panel[co] = co * kPanel;
  const double flops = 2.0 * g.batch * g.out_channels * P * K;
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* dS = thread_scratch(Scratch::kConvImage, s_size);
    real* col = thread_scratch(Scratch::kConvTile, kMR * kPanel);
    real* dyp = thread_scratch(Scratch::kConvPanel, g.out_channels * kPanel);
    for (int64_t n = begin; n < end; ++n) {
      const real* dyn = dy + n * y_image;
      std::fill(dS, dS + s_size, real(0));
      for (int64_t p0 = 0; p0 < P; p0 += kPanel) {
        const int64_t np = std::min(kPanel, P - p0);
        const DyPanel B = dy_panel(dyn, g.out_channels, P, p0, np, dyp, rows_p, rows_panel);
        for (int64_t gi = 0; gi < G; ++gi) {
          const real* bg = B.base + gi * Co * B.ld;
          const int64_t* boff = B.boff;
          const int64_t* row_off = off.data() + gi * K;
          for (int64_t bi = 0; bi < blocks; ++bi) {
            const real* a = wt.data() + (gi * blocks + bi) * Co * kMR;
            const int64_t rows = std::min<int64_t>(kMR, K - bi * kMR);
            if (direct_blocks && rows == kMR && np == kPanel) {
              real* crow[kMR];
              for (int r = 0; r < kMR; ++r) crow[r] = dS + row_off[perm[bi * kMR + r]] + p0;
              tile<kMR, kNV, false, true, true>(Co, a, nullptr, bg, boff, 0, nullptr, 0, true, nullptr, crow);
              continue;
            }
            panel_tile<kMR>(np, Co, a, bg, boff, col, kPanel, false, nullptr, false);
            for (int64_t r = 0; r < rows; ++r) {
              real* d = dS + row_off[perm[bi * kMR + r]] + p0;
              const real* c = col + r * kPanel;
              for (int64_t q = 0; q < np; ++q) d[q] += c[q];
            }
          }
        }
      }
      shifted_image_add(patch, dS, dx + n * x_image);
    }
  });
}

// d[x] (= or += when ADD, or add) src[x % sw][x / sw] for x < width: one row of dx from its column
// phases.
// Stride 2 is written out as two streams so that the stores vectorise as an interleave.
template <bool ADD>
void interleave_row(const real* const* src, int64_t sw, int64_t width, real* d) {
  if (sw == 2) {
    const real *s0 = src[0], *s1 = src[1];
    const int64_t half = width / 2;
    for (int64_t b = 0; b < half; ++b) {
      d[2 * b] = ADD ? d[2 * b] + s0[b] : s0[b];
      d[2 * b + 1] = ADD ? d[2 * b + 1] + s1[b] : s1[b];
    }
    if (width % 2) d[width - 1] = ADD ? d[width - 1] + s0[half] : s0[half];
    return;
  }
  for (int64_t x = 0; x < width; ++x) {
    const real v = src[x % sw][x / sw];
    d[x] = ADD ? d[x] + v : v;
  }
}
void interleave_row(const real* const* src, int64_t sw, int64_t width, real* d, bool add) {
  if (add)
    interleave_row<true>(src, sw, width, d);
  else
    interleave_row<false>(src, sw, width, d);
}

// dx (+= when add, else =) the conv2d input gradient when the windows tile the input without
// overlap (kernel = stride, no padding: a Strassen layer's W_c with p > 1, as a transposed conv):
// every dx element is then one dot product, dx[ci][oh*s_h + i][ow*s_w + j] = Σ_co
// w[co][ci][i][j] · dy[co][oh][ow], so each panel's columns w_g^T · dy_g[:, panel] go straight to
// their pixels (strided stores) with no adjoint image to zero, add into and fold. Rows and
// columns past the last window get no gradient (zero when writing).
void backward_input_nonoverlapping(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add) {
  const int64_t G = g.groups, Ci = g.group_in(), Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t K_pad = round_up(K, kMR), blocks = K_pad / kMR, kk = g.kernel_h * g.kernel_w;
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  if (!add && (g.out_h * g.stride_h < g.in_h || g.out_w * g.stride_w < g.in_w))
    std::fill(dx, dx + g.batch * x_image, real(0));
  // wt [G][blocks][Co][kMR]: wt[gi][bi][co][r] = w[gi*Co + co][bi*kMR + r], zero past K.
  std::vector<real> wt(G * blocks * Co * kMR, real(0));
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t k = 0; k < K; ++k)
        wt[((gi * blocks + k / kMR) * Co + co) * kMR + k % kMR] = w[(gi * Co + co) * K + k];
  // Where col row k = (ci, i, j) of group gi lands in dx_n, before the position's own offset.
  std::vector<int64_t> row_at(G * K);
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t ci = k / kk, i = (k / g.kernel_w) % g.kernel_h, j = k % g.kernel_w;
      row_at[gi * K + k] = ((gi * Ci + ci) * g.in_h + i) * g.in_w + j;
    }
  std::vector<int64_t> rows_p(Co), rows_panel(Co);
  for (int64_t co = 0; co < Co; ++co) rows_p[co] = co * P, rows_panel[co] = co * kPanel;
  // When kMR is a multiple of kW, a block's rows come in runs of kW, the kernel columns j of one
  // (ci, i): over the positions of one output row their values interleave into one contiguous
  // run of dx, written as such rather than element by element through at[]. Measured alternating
  // with the element-wise stores in one process, 2 threads: the p = 2 Strassen ResNet-20's 2×2
  // W_c at 16 channels, rows of 16, 0.68-0.75 of the time; rows of 8 level, rows of 4 1.2×
  // slower (runs too short for packets), hence rows at least a packet long.
  const int64_t kw = g.kernel_w;
  const bool runs_interleave = kw > 1 && kMR % kw == 0 && g.out_w >= kPacket;
  const double flops = 2.0 * g.batch * g.out_channels * P * K;
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* col = thread_scratch(Scratch::kConvTile, kMR * kPanel);
    real* dyp = thread_scratch(Scratch::kConvPanel, g.out_channels * kPanel);
    int64_t at[kPanel];  // offset in dx of each panel position's window corner
    const real* src[kMR];
    for (int64_t n = begin; n < end; ++n) {
      const real* dyn = dy + n * y_image;
      real* dxn = dx + n * x_image;
      for (int64_t p0 = 0; p0 < P; p0 += kPanel) {
        const int64_t np = std::min(kPanel, P - p0);
        for (int64_t q = 0; q < np; ++q)
          at[q] = ((p0 + q) / g.out_w) * g.stride_h * g.in_w + ((p0 + q) % g.out_w) * g.stride_w;
        const DyPanel B = dy_panel(dyn, g.out_channels, P, p0, np, dyp, rows_p, rows_panel);
        for (int64_t gi = 0; gi < G; ++gi) {
          const real* bg = B.base + gi * Co * B.ld;
          for (int64_t bi = 0; bi < blocks; ++bi) {
            panel_tile<kMR>(np, Co, wt.data() + (gi * blocks + bi) * Co * kMR, bg, B.boff, col, kPanel, false,
                            nullptr, false);
            const int64_t rows = std::min<int64_t>(kMR, K - bi * kMR);
            if (runs_interleave) {
              for (int64_t r = 0; r < rows; r += kw) {
                real* d = dxn + row_at[gi * K + bi * kMR + r];
                for (int64_t q0 = 0; q0 < np;) {
                  const int64_t len = std::min(np - q0, g.out_w - (p0 + q0) % g.out_w);
                  for (int64_t j = 0; j < kw; ++j) src[j] = col + (r + j) * kPanel + q0;
                  interleave_row(src, kw, kw * len, d + at[q0], add);
                  q0 += len;
                }
              }
              continue;
            }
            for (int64_t r = 0; r < rows; ++r) {
              real* d = dxn + row_at[gi * K + bi * kMR + r];
              const real* c = col + r * kPanel;
              if (add)
                for (int64_t q = 0; q < np; ++q) d[at[q]] += c[q];
              else
                for (int64_t q = 0; q < np; ++q) d[at[q]] = c[q];
            }
          }
        }
      }
    }
  });
}

// The kernel taps of a strided conv that reach one phase of its input, along one axis. Input
// row y = stride*a + phase (a < extent) is reached by kernel rows i = first + stride*t, t < taps,
// from output rows oh = a + shift - t. Read with the taps flipped (t' = taps-1-t), that is a
// stride-1 correlation over dy whose output row a starts at dy row a - pad().
struct PhaseTaps {
  int64_t first = 0, taps = 0, shift = 0, extent = 0;
  int64_t pad() const { return taps - 1 - shift; }
};
PhaseTaps phase_taps(int64_t phase, int64_t stride, int64_t kernel, int64_t pad, int64_t in) {
  PhaseTaps p;
  p.first = (phase + pad) % stride;
  p.taps = p.first < kernel ? (kernel - 1 - p.first) / stride + 1 : 0;
  p.shift = (phase + pad - p.first) / stride;
  p.extent = phase < in ? (in - phase + stride - 1) / stride : 0;
  return p;
}

// Whether backward_input_by_phases takes the conv g: strided, and every phase's correlation
// starts inside or above dy (pad() >= 0; large paddings would start below its first row). Not
// 1×1 kernels, where all but one phase are zero and the column path has no fold to pay: measured
// alternating with it in one process, 2 threads (ratio of times, median of 10-30 pairs), the 1×1
// stride-2 convs took 1.13 (CIFAR, 16→32 at 32×32) and 1.22 (ResNet-18, 128→256 at 28×28) by
// phases, 0.83 at 64→128 56×56.
bool phases_start_in_dy(int64_t stride, int64_t kernel, int64_t pad, int64_t in) {
  for (int64_t r = 0; r < stride; ++r) {
    const PhaseTaps t = phase_taps(r, stride, kernel, pad, in);
    if (t.taps > 0 && t.pad() < 0) return false;
  }
  return true;
}
bool phases_preferred(const Conv2dGeometry& g) {
  if (g.stride_h == 1 && g.stride_w == 1) return false;
  if (g.kernel_h == 1 && g.kernel_w == 1) return false;
  return phases_start_in_dy(g.stride_h, g.kernel_h, g.pad_h, g.in_h) &&
         phases_start_in_dy(g.stride_w, g.kernel_w, g.pad_w, g.in_w);
}

// dx (+= when accumulate, else =) the input gradient of a strided conv, one phase of dx at a time.
// The input pixels with the same (row, column) remainders mod the stride form a phase; each
// receives a fixed subset of the kernel taps, so each phase of dx is a stride-1 correlation of dy
// with that part of the kernel (flipped, channel roles swapped): for a 3×3 kernel at stride 2,
// 1×1, 1×2, 2×1 and 2×2 sub-kernels, the 9 taps in all, so no products are wasted. Per image, the
// phases run on the forward's register tiles over a shifted image of dy (one for all the phases
// whose rows are equally long: one in all when the input's width is a multiple of the stride)
// into a buffer, and the phases are interleaved into dx_n once. The column path instead adds
// every tile into an adjoint image and folds it onto dx: two extra passes over memory, which took
// more time than the products (ResNet-20's 16→32 transition: 39 % of its input gradient in the
// fold, 7 % in zeroing).
void backward_input_by_phases(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool accumulate) {
  const int64_t G = g.groups, Ci = g.group_in(), Co = g.group_out(), sh = g.stride_h, sw = g.stride_w;
  const int64_t kh = g.kernel_h, kw = g.kernel_w, blocks = round_up(Ci, kMR) / kMR;
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * g.out_plane();
  struct Phase {
    PhaseTaps r, c;
    int64_t group = -1;     // the shifted image it reads (-1: no tap reaches the phase)
    int64_t K = 0, P = 0;   // its patch size (out_channels/G * taps) and positions
    int64_t at = 0;         // where its [in_channels, P] output starts in the image's buffer
    std::vector<real> wp;   // [G][blocks][K][kMR]: kMR-row blocks only (not RowBlocks)
    std::vector<int64_t> off;
  };
  // The phases sharing a row length B read one shifted image of dy, with the padding and kernel
  // extent that cover all of them: tap (t', u') of a phase with pads (pt, pl) is its row
  // t' - pt + pad_h and column u' - pl + pad_w.
  std::vector<Phase> phases(sh * sw);
  std::vector<PatchGeometry> shared;  // of dy [out_channels, out_h, out_w], stride 1
  for (int64_t ry = 0; ry < sh; ++ry)
    for (int64_t rx = 0; rx < sw; ++rx) {
      Phase& ph = phases[ry * sw + rx];
      ph.r = phase_taps(ry, sh, kh, g.pad_h, g.in_h);
      ph.c = phase_taps(rx, sw, kw, g.pad_w, g.in_w);
      if (ph.r.taps == 0 || ph.c.taps == 0 || ph.r.extent == 0 || ph.c.extent == 0) continue;
      ph.group = 0;
      while (ph.group < int64_t(shared.size()) && shared[ph.group].out_w != ph.c.extent) ++ph.group;
      if (ph.group == int64_t(shared.size())) {
        PatchGeometry t;
        t.channels = g.out_channels;
        t.height = g.out_h;
        t.width = g.out_w;
        t.kernel_h = t.kernel_w = 0;
        t.out_w = ph.c.extent;
        shared.push_back(t);
      }
      PatchGeometry& t = shared[ph.group];
      // Grow the shared padding and extent to cover this phase, keeping the old members' taps.
      const int64_t pad_h = std::max(t.pad_h, ph.r.pad()), pad_w = std::max(t.pad_w, ph.c.pad());
      t.kernel_h = std::max(t.kernel_h + pad_h - t.pad_h, ph.r.taps + pad_h - ph.r.pad());
      t.kernel_w = std::max(t.kernel_w + pad_w - t.pad_w, ph.c.taps + pad_w - ph.c.pad());
      t.pad_h = pad_h;
      t.pad_w = pad_w;
      t.out_h = std::max(t.out_h, ph.r.extent);
    }
  int64_t out_size = 0, s_max = 0, row_max = 0;
  for (const PatchGeometry& t : shared) s_max = std::max(s_max, ShiftedLayout(t).size(t.kernel_w));
  for (Phase& ph : phases) {
    row_max = std::max(row_max, ph.c.extent);
    if (ph.group < 0) continue;
    const PatchGeometry& t = shared[ph.group];
    const ShiftedLayout L(t);
    const int64_t T = ph.r.taps, U = ph.c.taps;
    ph.K = Co * T * U;
    ph.P = ph.r.extent * ph.c.extent;
    ph.at = out_size;
    out_size += g.in_channels * ph.P;
    // Column k = (co*T + t')*U + u' of the phase's patch, for group gi: kernel tap
    // (first_i + sh*(T-1-t'), first_j + sw*(U-1-u')) of w, read from S at off[gi*K + k].
    ph.off.resize(G * ph.K);
    ph.wp.assign(G * blocks * ph.K * kMR, real(0));
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t co = 0; co < Co; ++co)
        for (int64_t tt = 0; tt < T; ++tt)
          for (int64_t uu = 0; uu < U; ++uu) {
            const int64_t k = (co * T + tt) * U + uu;
            ph.off[gi * ph.K + k] = L.offset(gi * Co + co, tt - ph.r.pad() + t.pad_h, uu - ph.c.pad() + t.pad_w);
            const int64_t i = ph.r.first + sh * (T - 1 - tt), j = ph.c.first + sw * (U - 1 - uu);
            for (int64_t ci = 0; ci < Ci; ++ci)
              ph.wp[((gi * blocks + ci / kMR) * ph.K + k) * kMR + ci % kMR] =
                  w[(((gi * Co + co) * Ci + ci) * kh + i) * kw + j];
          }
  }
  const int64_t zero_at = out_size;  // a zero row for the phases no tap reaches
  const double flops = 2.0 * g.batch * g.out_channels * g.out_plane() * g.patch_size();
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* S = thread_scratch(Scratch::kConvImage, int64_t(shared.size()) * (s_max + kPanel));
    real* tmp = thread_scratch(Scratch::kConvTile, kMR * kPanel);
    real* buf = thread_scratch(Scratch::kConvPhases, out_size + row_max);
    std::fill(buf + zero_at, buf + zero_at + row_max, real(0));
    std::vector<const real*> src(sw);
    for (int64_t n = begin; n < end; ++n) {
      const real* dyn = dy + n * y_image;
      for (size_t si = 0; si < shared.size(); ++si)
        shifted_image_with_slack(shared[si], dyn, S + si * (s_max + kPanel));
      for (const Phase& ph : phases) {
        if (ph.group < 0) continue;
        const real* s = S + ph.group * (s_max + kPanel);
        real* out = buf + ph.at;
        for (int64_t p0 = 0; p0 < ph.P; p0 += kPanel) {
          const int64_t np = std::min(kPanel, ph.P - p0);
          for (int64_t gi = 0; gi < G; ++gi)
            for (int64_t bi = 0; bi < blocks; ++bi) {
              const int64_t rows = std::min<int64_t>(kMR, Ci - bi * kMR);
              tile_to_output<kMR>(ph.K, ph.wp.data() + (gi * blocks + bi) * ph.K * kMR, s + p0,
                                  ph.off.data() + gi * ph.K, out + (gi * Ci + bi * kMR) * ph.P + p0, ph.P, rows, np,
                                  false, nullptr, false, tmp);
            }
        }
      }
      real* dxn = dx + n * x_image;
      for (int64_t c = 0; c < g.in_channels; ++c)
        for (int64_t y = 0; y < g.in_h; ++y) {
          for (int64_t rx = 0; rx < sw; ++rx) {
            const Phase& ph = phases[(y % sh) * sw + rx];
            src[rx] = ph.group >= 0 ? buf + ph.at + c * ph.P + (y / sh) * ph.c.extent : buf + zero_at;
          }
          interleave_row(src.data(), sw, g.in_w, dxn + (c * g.in_h + y) * g.in_w, accumulate);
        }
    }
  });
}

// The driver both weight-gradient kernels share. Work items are (image, part), a part being a
// contiguous range of the image's positions (the depth of the reduction). When the accumulators
// are small (kPiecesPerThread per thread fit in kPieceAccumulatorBytes) the items are cut into
// that many contiguous pieces, handed out as threads finish (as for_each_piece), each piece
// summing into its own accumulator; otherwise each thread takes one static chunk and its own
// accumulator. A piece or chunk zeroes its accumulator of acc_size elements and keeps S, the
// shifted image of its current image (x_n itself when reads_image_in_place), and a zero run of P
// elements (rows of a padded block read it; their sums are never used). For each non-empty item
// it calls
//   item(acc, S, zero_row, n, p_begin, p_end);
// then add(accs, used) gets the accumulators (used of them), to be added to the result in piece
// (or thread) order, so that the result does not depend on the schedule, only on the thread count.
// Measured alternating with one static chunk per thread in one process, 2 threads, median of 31,
// on this shared host: ResNet-20's 16-channel 32×32 conv 0.80-0.98 of the time in four runs, its
// first conv 0.77; with 8 pieces' accumulators summed at the end the 32- and 64-channel convs (37
// and 147 KiB accumulators) were 1.05 and 1.045 in a quiet spell, hence the bound, which keeps
// them on static chunks.
constexpr int64_t kPieceAccumulatorBytes = int64_t(256) << 10;
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
  if (pieces * acc_size * int64_t(sizeof(real)) <= kPieceAccumulatorBytes) {
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

// dw += conv2d weight gradient as dot products along the positions: dw_g[co][k] = Σ_p dy_g[co][p] ·
// col_g[k][p], where both rows are contiguous (a row of dy and a run of S). A register tile holds
// kDotCo × kDotK packet accumulators; both operands are read in packets (no broadcasts), so the
// FMAs are not starved by loads as in the broadcast tile when Co is small; the packets are summed
// horizontally once per tile and image. Rows past Co or K read a zero row, their sums dropped.
// 4×6 has 24 accumulators and 10 loads per 24 FMAs, against 8 per 16 for 4×4; the dy packets are
// loaded one at a time, after the col packets, so that the tile fits the 32 registers. Measured
// alternating with 4×4 in one process, 2 threads: ResNet-20's 16-channel 32×32 conv 0.96 of the
// time, its first conv 0.97; 8×3 was 1.8× slower.
constexpr int kDotCo = 4, kDotK = 6;

void backward_weight_by_dots(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  using namespace Eigen::internal;
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t y_image = g.out_channels * P, acc_size = G * Co * K;
  const std::vector<int64_t> off = shifted_offsets(g);
  const auto item = [&](real* acc, const real* S, const real* zero_row, int64_t n, int64_t p_begin, int64_t p_end) {
    const int64_t vec_end = p_begin + (p_end - p_begin) / kPacket * kPacket;
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t c0 = 0; c0 < Co; c0 += kDotCo)
        for (int64_t k0 = 0; k0 < K; k0 += kDotK) {
          const real* dr[kDotCo];
          const real* cr[kDotK];
          for (int i = 0; i < kDotCo; ++i)
            dr[i] = c0 + i < Co ? dy + n * y_image + (gi * Co + c0 + i) * P : zero_row - p_begin;
          for (int j = 0; j < kDotK; ++j) cr[j] = k0 + j < K ? S + off[gi * K + k0 + j] : zero_row - p_begin;
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
              acc[(gi * Co + c0 + i) * K + k0 + j] += sum;
            }
        }
  };
  weight_gradient_items(g, x, acc_size, item, [&](const real* const* accs, int used) {
#pragma omp parallel for schedule(static) if (acc_size * used > 65536 && !omp_in_parallel())
    for (int64_t i = 0; i < acc_size; ++i)
      for (int t = 0; t < used; ++t) dw[i] += accs[t][i];
  });
}

}  // namespace

PatchGeometry Conv2dGeometry::patch() const {
  PatchGeometry p;
  p.channels = in_channels;
  p.height = in_h;
  p.width = in_w;
  p.kernel_h = kernel_h;
  p.kernel_w = kernel_w;
  p.stride_h = stride_h;
  p.stride_w = stride_w;
  p.pad_h = pad_h;
  p.pad_w = pad_w;
  p.out_h = out_h;
  p.out_w = out_w;
  return p;
}

Conv2dGeometry conv_transpose2d_geometry(int64_t batch, int64_t in_channels_t, int64_t in_h_t, int64_t in_w_t,
                                         int64_t out_channels_t, int64_t out_h_t, int64_t out_w_t,
                                         int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                                         int64_t pad_h, int64_t pad_w, int64_t groups) {
  Conv2dGeometry g;
  g.batch = batch;
  g.in_channels = out_channels_t;
  g.in_h = out_h_t;
  g.in_w = out_w_t;
  g.out_channels = in_channels_t;
  g.out_h = in_h_t;
  g.out_w = in_w_t;
  g.kernel_h = kernel_h;
  g.kernel_w = kernel_w;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  g.pad_h = pad_h;
  g.pad_w = pad_w;
  g.groups = groups;
  return g;
}

void conv2d_forward(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y, bool relu,
                    const real* residual) {
  if (winograd_preferred(g)) return conv2d_forward_winograd(g, x, w, b, y, relu, residual);
  if (batched_gemm_preferred(g)) return conv2d_forward_gemm(g, x, w, b, y, relu, /*chunk=*/0, residual);
  conv2d_forward_impl(g, x, pack_tile_weights(g, w), b, y, /*accumulate=*/false, relu, residual);
}

namespace {

// dx (+= when accumulate, else =) the conv2d input gradient.
void backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool accumulate) {
  if (g.kernel_h == g.stride_h && g.kernel_w == g.stride_w && g.pad_h == 0 && g.pad_w == 0 &&
      (g.stride_h > 1 || g.stride_w > 1)) {
    backward_input_nonoverlapping(g, dy, w, dx, accumulate);
    return;
  }
  if (phases_preferred(g)) {
    backward_input_by_phases(g, dy, w, dx, accumulate);
    return;
  }
  // The flipped-kernel forward below produces Ci output rows per group in kMR-row blocks: when Ci
  // is not a multiple of kMR, part of a block is padding (most of it for the first conv of a
  // network, 3 colour channels: measured, the column path is then faster).
  if (g.stride_h != 1 || g.stride_w != 1 || g.pad_h > g.kernel_h - 1 || g.pad_w > g.kernel_w - 1 ||
      g.group_in() % kMR != 0) {
    if (!accumulate) std::fill(dx, dx + g.batch * g.in_channels * g.in_plane(), real(0));
    backward_input_by_columns(g, dy, w, dx);
    return;
  }
  // Stride 1: the input gradient is itself a convolution, of dy [batch, out_channels, out_h,
  // out_w] with the kernel flipped and each group's channel roles swapped,
  //   wf [in_channels, Co, kH, kW]: wf[gi*Ci + ci][co][i][j] = w[gi*Co + co][ci][kH-1-i][kW-1-j],
  // and padding k-1-p, whose output is exactly in_h × in_w. Running it through the forward kernel
  // writes each dx element once, where im2col's adjoint would add into it kH*kW times.
  const int64_t G = g.groups, Ci = g.group_in(), Co = g.group_out(), kh = g.kernel_h, kw = g.kernel_w;
  Conv2dGeometry t;
  t.batch = g.batch;
  t.in_channels = g.out_channels;
  t.in_h = g.out_h;
  t.in_w = g.out_w;
  t.out_channels = g.in_channels;
  t.kernel_h = kh;
  t.kernel_w = kw;
  t.pad_h = kh - 1 - g.pad_h;
  t.pad_w = kw - 1 - g.pad_w;
  t.groups = G;
  t.out_h = g.in_h;
  t.out_w = g.in_w;
  // wf packed straight from w: row k = (co, i, j) of t's col is w[gi*Co + co][ci] at
  // (kH-1-i, kW-1-j), found at w + ((gi*Co*Ci + ci) * kH*kW + flip[k]).
  std::vector<int64_t> flip(Co * kh * kw);
  for (int64_t co = 0; co < Co; ++co)
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        flip[(co * kh + i) * kw + j] = (co * Ci * kh + (kh - 1 - i)) * kw + (kw - 1 - j);
  const real* wfp = pack_tile_weights(t, [&](int64_t gi, int64_t ci, int64_t k) {
    return w[(gi * Co * Ci + ci) * kh * kw + flip[k]];
  });
  conv2d_forward_impl(t, dy, wfp, nullptr, dx, accumulate);
}

}  // namespace

void conv2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add) {
  if (winograd_preferred(g)) return conv2d_backward_input_winograd(g, dy, w, dx, add);
  if (batched_gemm_preferred(g)) return conv2d_backward_input_gemm(g, dy, w, dx, add);
  backward_input(g, dy, w, dx, add);
}

namespace {

// dst[q * ld_dst + r] = src[r * ld_src + q] for r < rows, q < cols, and 0 for rows <= r < ld_dst:
// rows of src become columns of dst. Full kPacket × kPacket blocks go through registers (Eigen's
// packet transpose), the edges one value at a time. Measured as the weight gradient's transpose of
// dy, alternating with a scalar transpose 16 positions at a time in one process (ratio of kernel
// times, 2 threads, median of 31): ResNet-20's 32-channel 16×16 conv 0.92, 64-channel 8×8 0.97,
// stride-2 16→32 0.88 and 32→64 0.95; ResNet-18's 256-channel 14×14 0.98.
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

// The broadcast-tile weight gradient below transposes dy and reads it as its B operand once per
// kMR rows of col: a block of positions at a time when the whole of one image's transposed dy
// would not stay in L2 (more than half of this machine's 2 MiB), so that each block is read
// from L1/L2 while it is still there; otherwise all of it at once. Measured alternating the two in
// one process, 2 threads (ratio of times, median of 7-9 pairs): ResNet-18's 7×7 stem (P = 12544,
// 64 channels: 3.2 MiB) 0.49-0.57 with blocks of 16-256 KiB; its 64-channel 56×56 conv (800
// KiB) 0.99-1.05 and its 64→128 stride-2 conv 1.00-1.07, hence the threshold.
constexpr int64_t kWholeDytBytes = int64_t(1) << 20;
constexpr int64_t kDytBlockBytes = int64_t(64) << 10;
// Positions per block, for transposed rows of `row` values (G * Co_pad).
int64_t weight_gradient_depth_block(int64_t P, int64_t row) {
  const int64_t row_bytes = row * int64_t(sizeof(real));
  if (P * row_bytes <= kWholeDytBytes) return P;
  return std::max<int64_t>(16, kDytBlockBytes / row_bytes / 16 * 16);
}

}  // namespace

void conv2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  if (winograd_preferred(g)) return conv2d_backward_weight_winograd(g, x, dy, dw);
  if (batched_gemm_preferred(g)) return conv2d_backward_weight_gemm(g, x, dy, dw);
  // Long rows with few output channels or a short patch go to the dot-product kernel, the rest
  // to the broadcast tiles below. Measured on the ResNet-20 shapes at batch 128, 2 threads
  // (st_bench_conv --breakdown): dots 1.8× faster for the first conv (3→16, P = 1024), 1.3× for
  // 16→16 at 32×32 and 1.7× for the 1×1 16→32 projection; level at P = 256 with 32 channels; 1.7×
  // slower at P = 64, where each tile's horizontal sums are spread over only 4 packets.
  if (g.out_plane() >= 256 && (g.group_out() <= 16 || g.patch_size() <= 32)) {
    backward_weight_by_dots(g, x, dy, dw);
    return;
  }
  // Per image: S = shifted_image(x_n); then, for each block of positions (all P, or fewer: see
  // weight_gradient_depth_block), dyt [G][block][Co_pad], that block of dy_n transposed (zero past
  // Co), and acc_g [K_pad, Co_pad] += col_g · dyt_g, a GEMM of depth `block` whose register tiles
  // run along K (broadcasts from kMR rows of col, each a run of S) and Co (packets of dyt). acc is
  // the thread's own [G][K_pad][Co_pad] accumulator, added into dw transposed back to [Co, K].
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t K_pad = round_up(K, kMR), Co_pad = round_up(Co, kPacket), vecs = Co_pad / kPacket;
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P, acc_size = G * K_pad * Co_pad;
  const std::vector<int64_t> off = shifted_offsets(g);
  const int64_t dblock = weight_gradient_depth_block(P, G * Co_pad);
  const auto item = [&](real* acc, const real* S, const real* zero_row, int64_t n, int64_t p_begin, int64_t p_end) {
    real* dyt = thread_scratch(Scratch::kConvDyTransposed, G * dblock * Co_pad);
    const real* dyn = dy + n * y_image;
    // The next image's input and output gradient, while this one's tiles run (whole images only).
    const bool whole = p_begin == 0 && p_end == P && n + 1 < g.batch &&
                       (x_image + y_image) * int64_t(sizeof(real)) <= kPrefetchBytes;
    const int64_t steps = (p_end - p_begin + dblock - 1) / dblock * G * (K_pad / kMR);
    SpreadPrefetch next_x(whole ? x + (n + 1) * x_image : nullptr, x_image, steps);
    SpreadPrefetch next_dy(whole ? dyn + y_image : nullptr, y_image, steps);
    for (int64_t d0 = p_begin; d0 < p_end; d0 += dblock) {
      const int64_t depth = std::min(dblock, p_end - d0);
      // dyt [G][depth][Co_pad] = positions d0 .. d0+depth-1 of dy_n, transposed (zero past Co).
      for (int64_t gi = 0; gi < G; ++gi)
        transpose_rows(dyn + gi * Co * P + d0, P, Co, depth, dyt + gi * dblock * Co_pad, Co_pad);
      for (int64_t gi = 0; gi < G; ++gi)
        for (int64_t k0 = 0; k0 < K_pad; k0 += kMR) {
          next_x.step();
          next_dy.step();
          const real* arow[kMR];
          for (int r = 0; r < kMR; ++r) arow[r] = (k0 + r < K ? S + off[gi * K + k0 + r] : zero_row) + d0;
          const real* bt = dyt + gi * dblock * Co_pad;
          real* c = acc + (gi * K_pad + k0) * Co_pad;
          int64_t v = 0;
          for (; v + 2 <= vecs; v += 2)
            tile<kMR, 2, true, false>(depth, nullptr, arow, bt + v * kPacket, nullptr, Co_pad, c + v * kPacket,
                                      Co_pad, true, nullptr);
          if (v < vecs)
            tile<kMR, 1, true, false>(depth, nullptr, arow, bt + v * kPacket, nullptr, Co_pad, c + v * kPacket,
                                      Co_pad, true, nullptr);
        }
    }
  };
  // dw [G*Co][K] += each acc transposed, 16 output channels × 16 rows of col at a time: the block
  // is summed over the accumulators (in thread order) as acc stores it, along its rows, then
  // added to 16 runs of dw.
  constexpr int64_t kT = 16;
  const int64_t co_blocks = (Co + kT - 1) / kT;
  weight_gradient_items(g, x, acc_size, item, [&](const real* const* accs, int used) {
#pragma omp parallel for schedule(static) if (acc_size * used > 65536 && !omp_in_parallel())
    for (int64_t item = 0; item < G * co_blocks; ++item) {
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
  });
}

void conv_bias_backward(const real* dy, int64_t batch, int64_t channels, int64_t plane, real* db) {
  // One channel per iteration: each db[c] is written by one thread, summing its images in order.
#pragma omp parallel for schedule(static) if (batch * channels * plane > 32768 && !omp_in_parallel())
  for (int64_t c = 0; c < channels; ++c) {
    real s = 0;
    for (int64_t n = 0; n < batch; ++n) s += Eigen::Map<const Vec>(dy + (n * channels + c) * plane, plane).sum();
    db[c] += s;
  }
}

void conv_transpose2d_forward(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y) {
  const int64_t y_size = g.batch * g.in_channels * g.in_plane();
  backward_input(g, x, w, y, /*accumulate=*/false);  // writes y without reading it first
  if (!b) return;
  const int64_t P = g.in_plane();
#pragma omp parallel for schedule(static) if (y_size > 32768 && !omp_in_parallel())
  for (int64_t nc = 0; nc < g.batch * g.in_channels; ++nc) {
    real* row = y + nc * P;
    const real bc = b[nc % g.in_channels];
    for (int64_t p = 0; p < P; ++p) row[p] += bc;
  }
}

void conv_transpose2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add) {
  conv2d_forward_impl(g, dy, pack_tile_weights(g, w), nullptr, dx, add);
}

void conv_transpose2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  conv2d_backward_weight(g, dy, x, dw);
}

}  // namespace st
