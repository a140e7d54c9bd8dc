#pragma once
// Every rule that chooses how a convolution runs, in one place: which family of kernels takes a
// geometry (Winograd, one GEMM per chunk of images, or the register tiles) and, inside the
// register-tile kernels and the shifted-image builds they call, which path, layout, blocking and
// threading. Internal to the conv kernels (conv.cpp and the files it calls); the bodies, each
// with one sentence of why and the measurement that set it, are in conv_paths.cpp.
//
// Pointers to measurements are commits (`git show <hash>`: the numbers are in the message) or
// st_bench_conv cases (bench/bench_conv.cpp; --breakdown times each kernel alone).
//
// Byte thresholds are multiples of the running machine's caches (cache_sizes(), read at
// start-up). They were measured on a host with 48 KiB of L1d and 2 MiB of L2 per core; each
// multiple is the one that gives, on the 32 KiB / 512 KiB machine the kernels are now tuned on
// (also the fallback when the sizes cannot be read), the byte count the measurement chose.
#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "core/kernels/conv.h"
#include "core/kernels/im2col.h"
#include "core/real.h"

namespace st {

// ---- The machine's caches
struct CacheSizes {
  int64_t l1d = int64_t(32) << 10;  // level-1 data cache of one core, in bytes
  int64_t l2 = int64_t(512) << 10;  // level-2 cache of one core, in bytes
};
// This machine's, read once at start-up: sysconf(_SC_LEVEL1_DCACHE_SIZE / _SC_LEVEL2_CACHE_SIZE),
// else /sys/devices/system/cpu/cpu0/cache/index*/size, else CacheSizes' defaults.
const CacheSizes& cache_sizes();
// The sizes from sysconf's answers (<= 0: unknown) and a /sys cache directory (the index*
// folders with level, type and size files); each size outside a plausible range counts as
// unknown. Exposed for the tests.
CacheSizes read_cache_sizes(int64_t l1d_sysconf, int64_t l2_sysconf, const std::string& sys_cache_dir);
// A /sys cache size ("32K", "512K", "8M", or bytes) in bytes; 0 when it does not parse.
int64_t parse_cache_size(const std::string& text);

namespace conv_detail {

// ---- The byte thresholds of the rules below, from a machine's caches (conv_paths.cpp says why
// each is the multiple it is). With CacheSizes' defaults: 32 KiB, 512 KiB, 512 KiB, 1 MiB, 64 KiB.
struct CacheThresholds {
  int64_t wide_panel_bytes = 0;     // row_blocks: wide blocks where one panel of col takes more
  int64_t chunked_image_bytes = 0;  // plan_forward: S built by chunks of channels where it takes more
  int64_t prefetch_bytes = 0;       // prefetch_next_image: the next image's tensors at most
  int64_t whole_dyt_bytes = 0;      // weight_gradient_depth_block: dy transposed whole up to this,
  int64_t dyt_block_bytes = 0;      // ... else in blocks of this
};
CacheThresholds cache_thresholds(const CacheSizes& c);
const CacheThresholds& cache_thresholds();  // this machine's (cache_sizes())

// ---- Tile shapes (the tiles themselves: conv_tiles.h)
// Eigen's widest SIMD packet for real: 16 floats with AVX-512, 8 with AVX, 4 with SSE, or real.
using Packet = Eigen::internal::packet_traits<real>::type;
constexpr int64_t kPacket = sizeof(Packet) / sizeof(real);
// The register tile: 8 rows × 2 packets (16 accumulators), as fast as or faster than 4×4, 6×4,
// 8×3, 12×2, 16×1 and half-width packets on the ResNet-20 shapes (67841a8).
constexpr int kMR = 8;
constexpr int kNV = 2;
constexpr int64_t kPanel = kNV * kPacket;  // the output positions of one full tile
// The forward's taller tile (28 accumulators), for the wide blocks of RowBlocks (5e83160).
constexpr int kWideMR = 14;

inline int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// A last panel of at most one packet runs a tile one packet wide, half the products: ResNet-18's
// 14×14 planes end in a panel of 4 positions, the p = 2 model's 4×4 planes are one (f17715b,
// c691870).
constexpr bool one_packet_tile(int64_t np) { return np <= kPacket; }

// ---- Which family of kernels (the same for the forward and both gradients)
enum class ConvFamily { kWinograd, kBatchedGemm, kTiles };
ConvFamily conv_family(const Conv2dGeometry& g);
bool winograd_preferred(const Conv2dGeometry& g);
bool batched_gemm_preferred(const Conv2dGeometry& g);

// Chunk budgets: the batched GEMM's col [K, nb*P] and Winograd's V and M together hold at most
// this many values (16 MiB of floats), a few hundred columns of the deepest patches (K = 4608)
// that stay in the last-level cache; one image's Winograd planes beyond it rule Winograd out
// (3899602: a 128-channel 224×224 conv would take 205 MB for one image).
constexpr int64_t kGemmColumnValues = int64_t(4) << 20;
constexpr int64_t kWinogradChunkValues = int64_t(4) << 20;

// ---- Threading of the register-tile kernels
// Whether `items` items of `flops` in all are split over the threads.
bool split_over_threads(int64_t items, double flops);
// Pieces [0, items) is cut into, handed out as threads finish (1: on the calling thread).
int64_t piece_count(int64_t items, double flops);
// Work items per image: 1, or parts of each image (up to `parts`) when there are fewer images
// than threads.
int64_t image_splits(int64_t batch, int64_t parts);
// Loops over the values of packed weights, of the weight gradient's accumulators, of a bias or a
// GEMM's planes run on the threads from these many values (set with the features, not measured
// apart: 4c56bf1, 2fb938d, daf4273, 901fc8c); below them a parallel region costs more than it
// saves.
constexpr int64_t kParallelPackValues = 65536;
constexpr int64_t kParallelCopyValues = 32768;
constexpr int64_t kParallelWinogradWeights = 4096;

// ---- Forward on the register tiles (also the flipped-kernel input gradient)
// Where the tiles read col from: the shifted image S, the padded image, or x itself.
enum class ImageLayout { kShifted, kPadded, kInPlace };
bool reads_image_in_place(const Conv2dGeometry& g);
// The blocks of output channels of the forward tiles (pack_tile_weights's layout, conv_forward.h):
// `wide` blocks of kWideMR rows, then `narrow` blocks of kMR rows, the last padded with zero rows.
struct RowBlocks {
  int64_t wide = 0, narrow = 0;
  int64_t count() const { return wide + narrow; }
  int64_t row0(int64_t bi) const { return bi < wide ? bi * kWideMR : wide * kWideMR + (bi - wide) * kMR; }
  int width(int64_t bi) const { return bi < wide ? kWideMR : kMR; }
  int64_t padded() const { return wide * kWideMR + narrow * kMR; }
};
RowBlocks row_blocks(const Conv2dGeometry& g, const CacheThresholds& t = cache_thresholds());
struct ForwardPlan {
  ImageLayout layout = ImageLayout::kShifted;
  RowBlocks blocks;
  bool packed_panels = false;  // each panel's rows of col copied side by side before the blocks
  int64_t depth_block = 0;     // rows of col per pass over the blocks (K unless packed_panels)
  int64_t splits = 1;          // work items per image (image_splits over its panels)
  int64_t channel_chunk = 0;   // input channels per build of S: in_channels, or fewer
  bool prefetch = false;       // the next image's input is prefetched while one image's tiles run
};
// The plan for conv g on the calling thread's team (splits depend on the thread count).
ForwardPlan plan_forward(const Conv2dGeometry& g, const CacheThresholds& t = cache_thresholds());
// Whether tensors of `bytes` (the next image's) are prefetched while one image's tiles run.
bool prefetch_next_image(int64_t bytes, const CacheThresholds& t = cache_thresholds());

// ---- Input gradient on the register tiles
enum class InputGradientPath { kNonOverlapping, kPhases, kColumns, kFlippedForward };
InputGradientPath input_gradient_path(const Conv2dGeometry& g);
// kNonOverlapping: whether a block's kernel columns go to dx as interleaved runs.
bool nonoverlapping_runs(const Conv2dGeometry& g);

// ---- Weight gradient on the register tiles
enum class WeightGradientPath { kDots, kBroadcastTiles };
WeightGradientPath weight_gradient_path(const Conv2dGeometry& g);
// kBroadcastTiles: positions per block of transposed dy, for transposed rows of `row` values.
int64_t weight_gradient_depth_block(int64_t P, int64_t row, const CacheThresholds& t = cache_thresholds());
// Whether `pieces` accumulators of `acc_size` values each are used (else one per thread).
bool weight_gradient_sums_per_piece(int64_t pieces, int64_t acc_size);

// ---- Shifted-image builds (im2col.cpp)
// The build of S. AVX-512 float builds run kSame and the stride-2 builds as masked loads where
// their mask tables fit (im2col.cpp), and these paths otherwise.
enum class ShiftedBuild { kColumn, kSame, kByRow, kByChannel };
ShiftedBuild shifted_build(const PatchGeometry& g);
// kSame without AVX-512: one masked copy per plane rather than a copy and column fix-ups per row.
bool same_copy_masked(int64_t width);
// The adjoint's path.
enum class ShiftedAdd { kColumn, kByRow, kByChannel };
ShiftedAdd shifted_add_path(const PatchGeometry& g);

}  // namespace conv_detail
}  // namespace st
