#include "core/kernels/conv_paths.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "core/kernels/conv_input_gradient.h"
#include "core/kernels/conv_winograd.h"

namespace st {

// ---- The machine's caches

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The size of cpu0's level-`level` data or unified cache from a /sys cache directory; 0 if none.
int64_t sys_cache_size(const std::string& dir, int level) {
  for (int i = 0; i < 16; ++i) {
    const std::string index = dir + "/index" + std::to_string(i) + "/";
    const std::string lv = read_text(index + "level"), type = read_text(index + "type");
    if (lv.empty()) continue;
    if (std::atoi(lv.c_str()) != level || type.rfind("Instruction", 0) == 0) continue;
    return parse_cache_size(read_text(index + "size"));
  }
  return 0;
}

// A size in [lo, hi] bytes, or 0 (unknown).
int64_t plausible(int64_t bytes, int64_t lo, int64_t hi) { return bytes >= lo && bytes <= hi ? bytes : 0; }

}  // namespace

int64_t parse_cache_size(const std::string& text) {
  size_t i = 0;
  int64_t v = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && v < (int64_t(1) << 40))
    v = v * 10 + (text[i++] - '0');
  if (i == 0) return 0;
  const char unit = i < text.size() ? static_cast<char>(std::toupper(static_cast<unsigned char>(text[i]))) : '\0';
  if (unit == 'K') return v << 10;
  if (unit == 'M') return v << 20;
  if (unit == 'G') return v << 30;
  return unit == '\0' || std::isspace(static_cast<unsigned char>(unit)) ? v : 0;
}

CacheSizes read_cache_sizes(int64_t l1d_sysconf, int64_t l2_sysconf, const std::string& sys_cache_dir) {
  constexpr int64_t KiB = 1024, MiB = 1024 * KiB;
  CacheSizes c;
  int64_t l1d = plausible(l1d_sysconf, 4 * KiB, 4 * MiB), l2 = plausible(l2_sysconf, 64 * KiB, 256 * MiB);
  if (l1d == 0) l1d = plausible(sys_cache_size(sys_cache_dir, 1), 4 * KiB, 4 * MiB);
  if (l2 == 0) l2 = plausible(sys_cache_size(sys_cache_dir, 2), 64 * KiB, 256 * MiB);
  if (l1d > 0) c.l1d = l1d;
  if (l2 > 0) c.l2 = l2;
  return c;
}

const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = read_cache_sizes(sysconf(_SC_LEVEL1_DCACHE_SIZE), sysconf(_SC_LEVEL2_CACHE_SIZE),
                                                   "/sys/devices/system/cpu/cpu0/cache");
  return sizes;
}

namespace conv_detail {

// ---- The byte thresholds
// wide_panel_bytes: one L1, since a panel that does not stay in L1 is read from L2 by every block
// of output channels (5e83160 measured at 32 KiB).
// chunked_image_bytes, prefetch_bytes: one L2, since an S larger than it (or a prefetch that
// large) does not stay in L2 while the tiles read it (773af60, 27fbaf4 measured at 512 KiB).
// whole_dyt_bytes, dyt_block_bytes: two L2s and two L1s, the sizes at which dy transposed was read
// back from L1/L2 fastest (385c430 measured 1 MiB, and blocks of 16-256 KiB, 64 KiB kept).
// On the 48 KiB / 2 MiB host the measurements ran on these were 2/3 of L1, 1/4 of L2, 1/2 of L2
// and 4/3 of L1; the multiples above give the same bytes on the 32 KiB / 512 KiB machine the
// kernels are now tuned on.
CacheThresholds cache_thresholds(const CacheSizes& c) {
  CacheThresholds t;
  t.wide_panel_bytes = c.l1d;
  t.chunked_image_bytes = c.l2;
  t.prefetch_bytes = c.l2;
  t.whole_dyt_bytes = 2 * c.l2;
  t.dyt_block_bytes = 2 * c.l1d;
  return t;
}

const CacheThresholds& cache_thresholds() {
  static const CacheThresholds t = cache_thresholds(cache_sizes());
  return t;
}

namespace {
// Read at start-up rather than inside the first convolution.
[[maybe_unused]] const CacheThresholds& g_thresholds_at_startup = cache_thresholds();
}  // namespace

// ---- Which family of kernels

// Winograd's F(2×2, 3×3) for 3×3 stride-1 convs with at least 128 channels in and out, 16
// products per output tile and pair of channels instead of 36; below 128 channels its transforms
// cost more than the products save (901fc8c: ResNet-18's and VGG-7's deep convs 0.64-0.85 of the
// time, ResNet-18's 64 channels 1.11, ResNet-20's 1.8-2.7), and only where one image's planes fit
// the chunk budget (3899602).
bool winograd_preferred(const Conv2dGeometry& g) {
  return winograd_applies(g) && g.in_channels >= 128 && g.out_channels >= 128 && winograd_image_fits_chunk(g);
}

// One GEMM over a chunk of images for deep patches (K >= 1024) with small planes (P < 256) whose
// last panel leaves more than 1/8 of the tiles' lanes empty (a last panel of at most one packet
// counts as one packet wide): ResNet-18's 7×7 layers with AVX-512's 32-wide panels (6378619,
// 2181610: tiles 1.14-2.2× slower there; st_bench_conv --case r18_256_512). Not for planes of at
// most one packet, where the batched im2col copies one short run per image and row of col
// (030f160).
bool batched_gemm_preferred(const Conv2dGeometry& g) {
  const int64_t P = g.out_plane();
  if (g.groups != 1 || g.patch_size() < 1024 || P >= 256 || P <= kPacket) return false;
  const int64_t rest = P % kPanel;
  const int64_t lanes = P - rest + (rest == 0 ? 0 : rest <= kPacket ? kPacket : kPanel);
  return 8 * (lanes - P) > lanes;
}

ConvFamily conv_family(const Conv2dGeometry& g) {
  if (winograd_preferred(g)) return ConvFamily::kWinograd;
  if (batched_gemm_preferred(g)) return ConvFamily::kBatchedGemm;
  return ConvFamily::kTiles;
}

// ---- Threading

// Not when one thread is all there is, inside a parallel region, or for work under 2 MFLOP, which
// a parallel region's start costs more than it saves (set with the tiles, 3fb5608; not measured
// apart).
bool split_over_threads(int64_t items, double flops) {
  return items > 1 && flops > 2e6 && omp_get_max_threads() > 1 && !omp_in_parallel();
}

// Four pieces per thread, so that a thread slowed by other load on its core takes fewer
// (f0a6a41: ResNet-20's convs 0.96-1.00 of the time with static chunks on a loaded host).
int64_t piece_count(int64_t items, double flops) {
  constexpr int64_t kPiecesPerThread = 4;
  if (!split_over_threads(items, flops)) return 1;
  return std::min<int64_t>(items, omp_get_max_threads() * kPiecesPerThread);
}

// Enough parts of each image to give every thread work when the batch is smaller than the thread
// count (4491348); depends only on the batch and the thread count.
int64_t image_splits(int64_t batch, int64_t parts) {
  const int64_t threads = omp_get_max_threads();
  if (batch >= threads || threads == 1 || omp_in_parallel()) return 1;
  return std::max<int64_t>(1, std::min(parts, (threads + batch - 1) / batch));
}

// ---- Forward on the register tiles

// A 1×1 stride-1 unpadded conv's col is the image itself, read in place where every panel is
// full, since a partial last panel would read past the end of x (75b3ee7: the p = 1 Strassen
// W_c 0.52-0.83 of the time in every direction).
bool reads_image_in_place(const Conv2dGeometry& g) { return g.pointwise() && g.out_plane() % kPanel == 0; }

// Stride-1 convs whose output rows are whole panels read col from the padded image, the size of
// the image, rather than from S, three times it (86f3e6a: ResNet-20's 16-channel convs 0.84-0.91
// of the time; st_bench_conv --case s1_16).
ImageLayout forward_layout(const Conv2dGeometry& g) {
  if (reads_image_in_place(g)) return ImageLayout::kInPlace;
  if (g.stride_h == 1 && g.stride_w == 1 && g.out_w % kPanel == 0) return ImageLayout::kPadded;
  return ImageLayout::kShifted;
}

// Patches at least this deep copy each panel's rows of col side by side when at least 4 blocks of
// output channels share them (be40d57: 1.05-1.29× faster on ResNet-18's and VGG-7's deep convs,
// slower for K <= 576), kPackedPanelBlock rows at a time, so that every block reads them from L1
// (385c430: 192 rows level with 256, whole-K blocks slower; st_bench_conv --case r18_256).
constexpr int64_t kPackedPanelDepth = 1024;
constexpr int64_t kPackedPanelBlock = 192;

// Wide (kWideMR) blocks where one panel's K rows outgrow L1, since every block then reads the
// panel from L2 and a taller tile reads each of its rows for 14 products instead of 8; only
// where the channels left fill whole kMR blocks (a padded wide block would compute its padding),
// and not with packed panels, which stay in L1 (5e83160: ResNet-20's 64-channel convs 0.93-0.96
// of the time; st_bench_conv --case s1_64).
RowBlocks row_blocks(const Conv2dGeometry& g, const CacheThresholds& t) {
  const int64_t Co = g.group_out(), K = g.patch_size();
  const int64_t panel_bytes = K * kPanel * int64_t(sizeof(real));
  RowBlocks rb;
  if (panel_bytes > t.wide_panel_bytes && K < kPackedPanelDepth)
    for (int64_t n = Co / kWideMR; n >= 1; --n)
      if ((Co - n * kWideMR) % kMR == 0) {
        rb.wide = n;
        rb.narrow = (Co - n * kWideMR) / kMR;
        return rb;
      }
  rb.narrow = round_up(Co, kMR) / kMR;
  return rb;
}

// S is built a chunk of about kChunkRows rows of col (of input channels) at a time where one
// image's S outgrows L2 and the patch is deep but not packed (2 kChunkRows <= K <
// kPackedPanelDepth): each chunk of S is then read while in L2, each tile's B panel while in L1
// (773af60: ResNet-18's 56×56 convs 0.87-0.91 of the time; the stem, small S and packed panels
// level or slower; st_bench_conv --case r18_64).
int64_t forward_channel_chunk(const Conv2dGeometry& g, const CacheThresholds& t) {
  constexpr int64_t kChunkRows = 144;
  const int64_t K = g.patch_size();
  const int64_t s_bytes = ShiftedLayout(g.patch()).size(g.kernel_w) * int64_t(sizeof(real));
  if (g.groups != 1 || s_bytes <= t.chunked_image_bytes || K < 2 * kChunkRows || K >= kPackedPanelDepth)
    return g.in_channels;
  return std::max<int64_t>(1, kChunkRows / (g.kernel_h * g.kernel_w));
}

// At most one L2 of the next image's tensors, since larger ones (ResNet-18's 56×56 planes, not
// measured) would push the current image's S out of it (27fbaf4: ResNet-20's convs 0.90-1.00 of
// the time). The stride-2 forward (1.02-1.03) and the dot-product weight gradient (c03e4dd) do
// not prefetch.
bool prefetch_next_image(int64_t bytes, const CacheThresholds& t) { return bytes <= t.prefetch_bytes; }

ForwardPlan plan_forward(const Conv2dGeometry& g, const CacheThresholds& t) {
  ForwardPlan p;
  const int64_t K = g.patch_size(), panels = (g.out_plane() + kPanel - 1) / kPanel;
  p.layout = forward_layout(g);
  p.blocks = row_blocks(g, t);
  p.packed_panels = p.blocks.padded() >= 4 * kMR && K >= kPackedPanelDepth;
  p.depth_block = p.packed_panels ? kPackedPanelBlock : K;
  p.splits = image_splits(g.batch, panels);
  // Channel chunks only for whole images (the chunked kernel does not split them).
  const int64_t chunk = p.layout == ImageLayout::kInPlace ? g.in_channels : forward_channel_chunk(g, t);
  p.channel_chunk = p.splits == 1 ? chunk : g.in_channels;
  const int64_t x_image_bytes = g.in_channels * g.in_plane() * int64_t(sizeof(real));
  p.prefetch = p.splits == 1 && p.layout != ImageLayout::kInPlace && g.stride_h == 1 && g.stride_w == 1 &&
               prefetch_next_image(x_image_bytes, t);
  return p;
}

// ---- Input gradient on the register tiles

namespace {

// Whether every phase's correlation along one axis starts inside or above dy (a large padding
// would start it below dy's first row).
bool phases_start_in_dy(int64_t stride, int64_t kernel, int64_t pad, int64_t in) {
  for (int64_t r = 0; r < stride; ++r) {
    const PhaseTaps t = phase_taps(r, stride, kernel, pad, in);
    if (t.taps > 0 && t.pad() < 0) return false;
  }
  return true;
}

}  // namespace

// Kernel = stride without padding (a Strassen layer's W_c with p > 1): every dx element is one dot
// product, written straight to its pixel (99c358b: 2× faster than by columns).
// Strided convs otherwise by phases, stride-1 correlations of dy on the forward's tiles, with no
// adjoint image to zero, add into and fold (b34c4d0: ResNet-20's transitions 0.67-0.71 of the
// time), but not 1×1 kernels, where all but one phase are zero (1.13-1.22 by phases).
// By columns where a phase would start below dy, and where the flipped-kernel forward's blocks
// of kMR input channels would be partly padding, as for the 3 colour channels of a first conv
// (3fb5608).
// Stride 1 otherwise as the forward conv of dy with the flipped kernel, which writes each dx
// element once (3fb5608).
InputGradientPath input_gradient_path(const Conv2dGeometry& g) {
  const bool strided = g.stride_h != 1 || g.stride_w != 1;
  if (g.kernel_h == g.stride_h && g.kernel_w == g.stride_w && g.pad_h == 0 && g.pad_w == 0 &&
      (g.stride_h > 1 || g.stride_w > 1))
    return InputGradientPath::kNonOverlapping;
  if (strided && !(g.kernel_h == 1 && g.kernel_w == 1) &&
      phases_start_in_dy(g.stride_h, g.kernel_h, g.pad_h, g.in_h) &&
      phases_start_in_dy(g.stride_w, g.kernel_w, g.pad_w, g.in_w))
    return InputGradientPath::kPhases;
  if (strided || g.pad_h > g.kernel_h - 1 || g.pad_w > g.kernel_w - 1 || g.group_in() % kMR != 0)
    return InputGradientPath::kColumns;
  return InputGradientPath::kFlippedForward;
}

// When kMR is a multiple of kW, a block's rows come in runs of kW kernel columns of one (ci, i),
// which over one output row interleave into one contiguous run of dx; only for rows of at least
// a packet (7c3f414: the p = 2 W_c 0.68-0.75 of the time at rows of 16, 1.2× slower at rows of 4).
bool nonoverlapping_runs(const Conv2dGeometry& g) {
  return g.kernel_w > 1 && kMR % g.kernel_w == 0 && g.out_w >= kPacket;
}

// ---- Weight gradient on the register tiles

// Dot products along the positions for long rows with few output channels or a short patch, where
// the broadcast tile's FMAs wait on its loads; not for short rows, whose horizontal sums spread
// over few packets (dc7bee1: 1.3-1.8× faster on ResNet-20's first stage, 1.7× slower at P = 64;
// st_bench_conv --breakdown --case conv1).
WeightGradientPath weight_gradient_path(const Conv2dGeometry& g) {
  if (g.out_plane() >= 256 && (g.group_out() <= 16 || g.patch_size() <= 32)) return WeightGradientPath::kDots;
  return WeightGradientPath::kBroadcastTiles;
}

// dy is transposed a block of positions (of 2 L1s) at a time where one image's transposed dy
// outgrows 2 L2s, so that each block is read back from L1/L2 for every kMR rows of col (385c430:
// ResNet-18's stem 0.49-0.57 of the time; its 800 KiB convs level; st_bench_conv --case r18_conv1).
int64_t weight_gradient_depth_block(int64_t P, int64_t row, const CacheThresholds& t) {
  const int64_t row_bytes = row * int64_t(sizeof(real));
  if (P * row_bytes <= t.whole_dyt_bytes) return P;
  return std::max<int64_t>(16, t.dyt_block_bytes / row_bytes / 16 * 16);
}

// Pieces with their own accumulators (handed out as threads finish) where they take at most
// 256 KiB together; larger ones cost more to sum than the schedule gains (3cea0c2: ResNet-20's
// 16-channel convs 0.77-0.98 of the time, its 32- and 64-channel ones 1.05 with eight
// accumulators).
bool weight_gradient_sums_per_piece(int64_t pieces, int64_t acc_size) {
  constexpr int64_t kPieceAccumulatorBytes = int64_t(256) << 10;
  return pieces * acc_size * int64_t(sizeof(real)) <= kPieceAccumulatorBytes;
}

// ---- Shifted-image builds

// Kernels one column wide sample the image directly (5aeb373); "same"-padded stride-1 rows copy
// whole planes (b1473ae: 1.2-3× faster than row by row). Strided rows of at most 16 by padded
// channel, since a row buffer's runs one packet long are read back before its stores land; wider
// ones row by row, whose buffer stays in L1 (b0abb2e: by channel 1.3-1.8× faster at rows of 16 and
// less, 1.2-1.7× slower on ResNet-18's stem).
ShiftedBuild shifted_build(const PatchGeometry& g) {
  if (g.kernel_w == 1) return ShiftedBuild::kColumn;
  if (g.stride_h == 1 && g.stride_w == 1 && g.out_w == g.width) return ShiftedBuild::kSame;
  if (g.stride_w > 1 && g.out_w <= 16) return ShiftedBuild::kByChannel;
  return ShiftedBuild::kByRow;
}

// Rows under 16 values (b0abb2e: 1.9-2.2× faster for rows of 8, level at 16, slower from 32).
bool same_copy_masked(int64_t width) { return width < 16; }

// The adjoint by padded channel at stride 1 and for rows under 16, row by row (through column
// phases) otherwise (b0abb2e: by channel 1.3-2.9× faster at stride 1, 1.1-2× slower for strided
// rows of 16 and more).
ShiftedAdd shifted_add_path(const PatchGeometry& g) {
  if (g.kernel_w == 1) return ShiftedAdd::kColumn;
  if (g.stride_w == 1 || g.out_w < 16) return ShiftedAdd::kByChannel;
  return ShiftedAdd::kByRow;
}

}  // namespace conv_detail
}  // namespace st
