// The rules that choose a convolution's path (core/kernels/conv_paths.h): the cache sizes they
// read and the byte thresholds derived from them, the choice each rule makes on the shapes it was
// measured on, and every register-tile path forced on its own against the direct-loop reference
// (test_conv.cpp reaches the paths only through the rules, so which of them a shape takes there
// depends on the machine's caches and SIMD width).
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/kernels/conv_forward.h"
#include "core/kernels/conv_input_gradient.h"
#include "core/kernels/conv_paths.h"
#include "core/kernels/conv_reference.h"
#include "core/kernels/conv_weight_gradient.h"
#include "core/rng.h"

using namespace st;
using namespace st::conv_detail;

namespace {

constexpr int64_t KiB = 1024, MiB = 1024 * KiB;

// A /sys cache directory with the given index folders (level, type, size).
struct FakeSysCache {
  std::filesystem::path dir;
  FakeSysCache(const std::string& name, const std::vector<std::vector<std::string>>& indices)
      : dir(std::filesystem::temp_directory_path() / name) {
    std::filesystem::remove_all(dir);
    for (size_t i = 0; i < indices.size(); ++i) {
      const std::filesystem::path index = dir / ("index" + std::to_string(i));
      std::filesystem::create_directories(index);
      std::ofstream(index / "level") << indices[i][0] << "\n";
      std::ofstream(index / "type") << indices[i][1] << "\n";
      std::ofstream(index / "size") << indices[i][2] << "\n";
    }
  }
  ~FakeSysCache() { std::filesystem::remove_all(dir); }
};

Conv2dGeometry geometry(int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co, int64_t k, int64_t s, int64_t p,
                        int64_t groups = 1) {
  Conv2dGeometry g;
  g.batch = n, g.in_channels = ci, g.in_h = h, g.in_w = w, g.out_channels = co;
  g.kernel_h = g.kernel_w = k, g.stride_h = g.stride_w = s, g.pad_h = g.pad_w = p, g.groups = groups;
  g.out_h = (h + 2 * p - k) / s + 1;
  g.out_w = (w + 2 * p - k) / s + 1;
  return g;
}

std::string describe(const Conv2dGeometry& g) {
  std::ostringstream os;
  os << "x [" << g.batch << ", " << g.in_channels << ", " << g.in_h << ", " << g.in_w << "] c_out " << g.out_channels
     << " kernel " << g.kernel_h << "x" << g.kernel_w << " stride " << g.stride_h << "x" << g.stride_w << " pad "
     << g.pad_h << "x" << g.pad_w << " groups " << g.groups;
  return os.str();
}

std::vector<real> random_values(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<real> v(n);
  for (real& x : v) x = static_cast<real>(gen.uniform() * 2 - 1);
  return v;
}

// Normwise relative agreement, as in test_conv.cpp.
void check_close(const std::vector<real>& a, const std::vector<real>& b, double rtol = 1e-4) {
  REQUIRE(a.size() == b.size());
  double scale = 1, worst = 0;
  for (real v : b) scale = std::max(scale, std::fabs(double(v)));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  CHECK(worst <= rtol * scale);
}

}  // namespace

TEST_CASE("cache sizes come from sysconf, else /sys, else the defaults", "[conv][paths]") {
  CHECK(parse_cache_size("32K\n") == 32 * KiB);
  CHECK(parse_cache_size("512K") == 512 * KiB);
  CHECK(parse_cache_size("8M") == 8 * MiB);
  CHECK(parse_cache_size("49152") == 48 * KiB);
  CHECK(parse_cache_size("") == 0);
  CHECK(parse_cache_size("K") == 0);
  CHECK(parse_cache_size("12Q") == 0);

  const CacheSizes defaults;
  CHECK(defaults.l1d == 32 * KiB);
  CHECK(defaults.l2 == 512 * KiB);
  const CacheSizes from_sysconf = read_cache_sizes(48 * KiB, 2 * MiB, "/nonexistent");
  CHECK(from_sysconf.l1d == 48 * KiB);
  CHECK(from_sysconf.l2 == 2 * MiB);
  {
    // The instruction cache at level 1 is skipped; sysconf's unknowns (0, -1) fall through to /sys.
    const FakeSysCache sys("st_test_conv_paths_cache",
                           {{"1", "Instruction", "64K"}, {"1", "Data", "48K"}, {"2", "Unified", "1280K"}});
    const CacheSizes from_sys = read_cache_sizes(0, -1, sys.dir.string());
    CHECK(from_sys.l1d == 48 * KiB);
    CHECK(from_sys.l2 == 1280 * KiB);
    // sysconf first: /sys only for the size sysconf does not know.
    const CacheSizes mixed = read_cache_sizes(32 * KiB, 0, sys.dir.string());
    CHECK(mixed.l1d == 32 * KiB);
    CHECK(mixed.l2 == 1280 * KiB);
  }
  const CacheSizes unknown = read_cache_sizes(0, 0, "/nonexistent");
  CHECK(unknown.l1d == defaults.l1d);
  CHECK(unknown.l2 == defaults.l2);
  // Implausible answers count as unknown.
  const CacheSizes implausible = read_cache_sizes(1, int64_t(1) << 40, "/nonexistent");
  CHECK(implausible.l1d == defaults.l1d);
  CHECK(implausible.l2 == defaults.l2);

  const CacheSizes& here = cache_sizes();
  CHECK(here.l1d >= 4 * KiB);
  CHECK(here.l2 >= 64 * KiB);
}

TEST_CASE("cache thresholds: the default caches give the byte counts the measurements chose", "[conv][paths]") {
  const CacheThresholds t = cache_thresholds(CacheSizes{});
  CHECK(t.wide_panel_bytes == 32 * KiB);
  CHECK(t.chunked_image_bytes == 512 * KiB);
  CHECK(t.prefetch_bytes == 512 * KiB);
  CHECK(t.whole_dyt_bytes == 1 * MiB);
  CHECK(t.dyt_block_bytes == 64 * KiB);
  // They scale with the caches.
  const CacheThresholds big = cache_thresholds(CacheSizes{48 * KiB, 2 * MiB});
  CHECK(big.wide_panel_bytes == 48 * KiB);
  CHECK(big.chunked_image_bytes == 2 * MiB);
  CHECK(big.whole_dyt_bytes == 4 * MiB);
  CHECK(big.dyt_block_bytes == 96 * KiB);
}

TEST_CASE("path rules on the shapes they were measured on", "[conv][paths]") {
  // Families: Winograd from 128 channels (and where one image fits its chunks), the batched GEMM
  // for deep patches whose last panel leaves lanes empty, the tiles otherwise.
  CHECK(conv_family(geometry(16, 128, 28, 28, 128, 3, 1, 1)) == ConvFamily::kWinograd);
  CHECK(conv_family(geometry(16, 64, 56, 56, 64, 3, 1, 1)) == ConvFamily::kTiles);
  CHECK(conv_family(geometry(1, 128, 224, 224, 128, 3, 1, 1)) != ConvFamily::kWinograd);
  CHECK(conv_family(geometry(128, 16, 32, 32, 16, 3, 1, 1)) == ConvFamily::kTiles);
  // K = 1152 over one row of kPanel + 1 positions: kPacket - 1 of kPanel + kPacket lanes empty.
  CHECK(conv_family(geometry(2, 128, 1, kPanel + 1, 64, 3, 1, 1)) == ConvFamily::kBatchedGemm);
  CHECK(conv_family(geometry(2, 128, 1, 2 * kPanel, 64, 3, 1, 1)) == ConvFamily::kTiles);     // full panels
  CHECK(conv_family(geometry(2, 128, 2, 2, 64, 3, 1, 1)) == ConvFamily::kTiles);              // P <= kPacket
  CHECK(conv_family(geometry(2, 256, 1, kPanel + 1, 64, 3, 1, 1, 2)) == ConvFamily::kTiles);  // groups

  // Input gradient.
  CHECK(input_gradient_path(geometry(2, 16, 32, 32, 16, 2, 2, 0)) == InputGradientPath::kNonOverlapping);
  CHECK(input_gradient_path(geometry(2, 16, 32, 32, 32, 3, 2, 1)) == InputGradientPath::kPhases);
  CHECK(input_gradient_path(geometry(2, 16, 32, 32, 32, 1, 2, 0)) == InputGradientPath::kColumns);  // 1×1
  CHECK(input_gradient_path(geometry(2, 8, 11, 11, 12, 3, 2, 2)) == InputGradientPath::kColumns);   // pad 2
  CHECK(input_gradient_path(geometry(2, 3, 32, 32, 16, 3, 1, 1)) == InputGradientPath::kColumns);   // 3 in
  CHECK(input_gradient_path(geometry(2, 16, 32, 32, 16, 3, 1, 1)) == InputGradientPath::kFlippedForward);
  CHECK(nonoverlapping_runs(geometry(2, 16, 32, 32, 16, 2, 2, 0)) == (16 >= kPacket));
  CHECK_FALSE(nonoverlapping_runs(geometry(2, 16, 8, 8, 16, 2, 2, 0)));  // rows of 4

  // Weight gradient: dots for long rows and few output channels, broadcast tiles otherwise.
  CHECK(weight_gradient_path(geometry(128, 3, 32, 32, 16, 3, 1, 1)) == WeightGradientPath::kDots);
  CHECK(weight_gradient_path(geometry(128, 16, 32, 32, 32, 1, 2, 0)) == WeightGradientPath::kDots);  // K = 16
  CHECK(weight_gradient_path(geometry(128, 64, 8, 8, 64, 3, 1, 1)) == WeightGradientPath::kBroadcastTiles);
  const CacheThresholds t = cache_thresholds(CacheSizes{});
  CHECK(weight_gradient_depth_block(1024, 64, t) == 1024);  // 256 KiB of dy transposed: whole
  CHECK(weight_gradient_depth_block(16900, 48, t) == 336);  // 3.1 MiB: blocks of 64 KiB
  // Per-piece sums: eight of ResNet-20's 16-channel accumulators (9 KiB each) but not its
  // 32-channel ones (36 KiB).
  CHECK(weight_gradient_sums_per_piece(8, 16 * 144));
  CHECK_FALSE(weight_gradient_sums_per_piece(8, 32 * 288));

  // Forward: the layouts, the wide blocks where a panel outgrows L1, S by chunks of channels where
  // it outgrows L2.
  CHECK(plan_forward(geometry(2, 16, 4, 2 * kPanel, 8, 1, 1, 0)).layout == ImageLayout::kInPlace);
  CHECK(plan_forward(geometry(2, 16, 4, 2 * kPanel, 8, 3, 1, 1)).layout == ImageLayout::kPadded);
  CHECK(plan_forward(geometry(2, 16, 8, 2 * kPanel, 8, 3, 2, 1)).layout == ImageLayout::kShifted);
  const RowBlocks wide = row_blocks(geometry(2, 64, 8, 8, 64, 3, 1, 1), cache_thresholds(CacheSizes{KiB, MiB}));
  CHECK(wide.wide == 4);  // 64 = 4 × 14 + 8
  CHECK(wide.narrow == 1);
  const RowBlocks narrow = row_blocks(geometry(2, 64, 8, 8, 32, 3, 1, 1), cache_thresholds(CacheSizes{KiB, MiB}));
  CHECK(narrow.wide == 0);  // 32 is not 14 n + 8 m
  CHECK(narrow.narrow == 4);
  const RowBlocks in_l1 = row_blocks(geometry(2, 64, 8, 8, 64, 3, 1, 1), cache_thresholds(CacheSizes{MiB, MiB}));
  CHECK(in_l1.wide == 0);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  // S = 35 channels × 3 shifts × 50 × 48 floats = 0.96 MiB, K = 315: 16 channels at a time.
  CHECK(plan_forward(geometry(2, 35, 48, 48, 10, 3, 1, 1), t).channel_chunk == 16);
  CHECK(plan_forward(geometry(2, 35, 48, 48, 10, 3, 1, 1), cache_thresholds(CacheSizes{KiB, 2 * MiB})).channel_chunk ==
        35);
  CHECK(plan_forward(geometry(2, 3, 224, 224, 64, 7, 2, 3), t).channel_chunk == 3);  // K = 147: shallow
  omp_set_num_threads(threads);

  // Shifted-image builds.
  const auto patch = [](const Conv2dGeometry& g) { return g.patch(); };
  CHECK(shifted_build(patch(geometry(1, 16, 32, 32, 32, 1, 2, 0))) == ShiftedBuild::kColumn);
  CHECK(shifted_build(patch(geometry(1, 16, 32, 32, 16, 3, 1, 1))) == ShiftedBuild::kSame);
  CHECK(shifted_build(patch(geometry(1, 16, 32, 32, 16, 3, 1, 0))) == ShiftedBuild::kByRow);
  CHECK(shifted_build(patch(geometry(1, 16, 16, 16, 32, 3, 2, 1))) == ShiftedBuild::kByChannel);  // rows of 8
  CHECK(shifted_build(patch(geometry(1, 3, 224, 224, 64, 7, 2, 3))) == ShiftedBuild::kByRow);     // rows of 112
  CHECK(shifted_add_path(patch(geometry(1, 16, 32, 32, 16, 3, 1, 1))) == ShiftedAdd::kByChannel);
  CHECK(shifted_add_path(patch(geometry(1, 16, 16, 16, 32, 3, 2, 1))) == ShiftedAdd::kByChannel);
  CHECK(shifted_add_path(patch(geometry(1, 16, 32, 32, 32, 3, 2, 1))) == ShiftedAdd::kByRow);  // rows of 16
  CHECK(same_copy_masked(8));
  CHECK_FALSE(same_copy_masked(16));
}

namespace {

// Every forward plan that applies to g (the planned one; the shifted, padded and in-place
// layouts; chunks of channels; wide blocks; parts of images), with bias, residual and ReLU.
void check_forward_paths(const Conv2dGeometry& g, uint64_t seed) {
  const int64_t x_size = g.batch * g.in_channels * g.in_plane(), y_size = g.batch * g.out_channels * g.out_plane();
  const std::vector<real> x = random_values(x_size, seed), w = random_values(g.out_channels * g.patch_size(), seed + 1);
  const std::vector<real> b = random_values(g.out_channels, seed + 2), res = random_values(y_size, seed + 3);
  std::vector<real> ref(y_size);
  conv2d_reference(g, x.data(), w.data(), b.data(), ref.data());
  for (int64_t i = 0; i < y_size; ++i) ref[i] = std::max(ref[i] + res[i], real(0));
  std::vector<ForwardPlan> plans;
  const ForwardPlan planned = plan_forward(g);
  plans.push_back(planned);
  ForwardPlan p = planned;
  p.layout = ImageLayout::kShifted, p.channel_chunk = g.in_channels;
  plans.push_back(p);
  if (g.stride_h == 1 && g.stride_w == 1 && g.out_w % kPanel == 0) p.layout = ImageLayout::kPadded, plans.push_back(p);
  if (g.pointwise() && g.out_plane() % kPanel == 0) p.layout = ImageLayout::kInPlace, plans.push_back(p);
  p = planned, p.layout = ImageLayout::kShifted, p.splits = 3, p.channel_chunk = g.in_channels;
  plans.push_back(p);
  if (g.groups == 1 && g.in_channels > 1) p = planned, p.channel_chunk = (g.in_channels + 2) / 3, plans.push_back(p);
  p = planned, p.blocks = row_blocks(g, cache_thresholds(CacheSizes{KiB, MiB}));  // wide blocks where they fit
  plans.push_back(p);
  for (const ForwardPlan& plan : plans) {
    INFO("layout " << int(plan.layout) << " chunk " << plan.channel_chunk << " splits " << plan.splits << " wide "
                   << plan.blocks.wide << " packed " << plan.packed_panels);
    std::vector<real> y(y_size, std::nan(""));
    conv2d_forward_tiles(g, plan, x.data(), pack_tile_weights(g, w.data(), plan.blocks), b.data(), y.data(),
                         /*accumulate=*/false, /*relu=*/true, res.data());
    check_close(y, ref);
  }
}

// Every input-gradient path that applies to g, writing and accumulating.
void check_input_gradient_paths(const Conv2dGeometry& g, uint64_t seed) {
  const int64_t x_size = g.batch * g.in_channels * g.in_plane(), y_size = g.batch * g.out_channels * g.out_plane();
  const std::vector<real> x = random_values(x_size, seed), w = random_values(g.out_channels * g.patch_size(), seed + 1);
  const std::vector<real> dy = random_values(y_size, seed + 2);
  std::vector<real> ref(x_size), dw(w.size()), db(g.out_channels);
  conv2d_backward_reference(g, x.data(), w.data(), dy.data(), ref.data(), dw.data(), db.data());
  std::vector<InputGradientPath> paths = {InputGradientPath::kColumns};
  const bool strided = g.stride_h != 1 || g.stride_w != 1;
  if (g.kernel_h == g.stride_h && g.kernel_w == g.stride_w && g.pad_h == 0 && g.pad_w == 0 && strided)
    paths.push_back(InputGradientPath::kNonOverlapping);
  if (!strided && g.pad_h <= g.kernel_h - 1 && g.pad_w <= g.kernel_w - 1)
    paths.push_back(InputGradientPath::kFlippedForward);
  if (strided && input_gradient_path(g) == InputGradientPath::kPhases) paths.push_back(InputGradientPath::kPhases);
  for (InputGradientPath path : paths) {
    INFO("input gradient path " << int(path));
    std::vector<real> dx(x_size, std::nan(""));
    conv2d_backward_input_tiles(g, path, dy.data(), w.data(), dx.data(), /*accumulate=*/false);
    check_close(dx, ref);
    conv2d_backward_input_tiles(g, path, dy.data(), w.data(), dx.data(), /*accumulate=*/true);
    std::vector<real> twice(ref);
    for (real& v : twice) v *= 2;
    check_close(dx, twice);
  }
}

// Both weight-gradient paths, accumulating onto ones.
void check_weight_gradient_paths(const Conv2dGeometry& g, uint64_t seed) {
  const int64_t x_size = g.batch * g.in_channels * g.in_plane(), y_size = g.batch * g.out_channels * g.out_plane();
  const std::vector<real> x = random_values(x_size, seed), w = random_values(g.out_channels * g.patch_size(), seed + 1);
  const std::vector<real> dy = random_values(y_size, seed + 2);
  std::vector<real> dx(x_size), ref(w.size()), db(g.out_channels);
  conv2d_backward_reference(g, x.data(), w.data(), dy.data(), dx.data(), ref.data(), db.data());
  for (real& v : ref) v += 1;
  for (WeightGradientPath path : {WeightGradientPath::kDots, WeightGradientPath::kBroadcastTiles}) {
    INFO("weight gradient path " << int(path));
    std::vector<real> dw(w.size(), real(1));
    conv2d_backward_weight_tiles(g, path, x.data(), dy.data(), dw.data());
    check_close(dw, ref);
  }
}

}  // namespace

TEST_CASE("every register-tile path, forced, matches the direct-loop reference", "[conv][paths]") {
  const std::vector<Conv2dGeometry> shapes = {
      geometry(3, 16, 8, 2 * kPanel, 24, 3, 1, 1),   // rows of whole panels
      geometry(2, 35, 14, 13, 10, 3, 1, 1),          // partial panels, partial blocks
      geometry(1, 12, 9, 9, 22, 3, 1, 1),            // batch 1: split by panels
      geometry(2, 16, 4, 2 * kPanel, 16, 1, 1, 0),   // 1×1 with whole panels: x read in place
      geometry(2, 8, 6, 7, 12, 1, 1, 0, 2),          // 1×1, groups 2, a partial panel
      geometry(2, 16, 16, 17, 28, 3, 2, 1),          // stride 2: phases, 2 wide blocks of 14
      geometry(2, 8, 13, 14, 6, 5, 3, 1),            // stride 3 by phases, two shifted images of dy
      geometry(2, 8, 11, 9, 12, 3, 2, 2),            // a phase would start below dy: columns only
      geometry(2, 8, 9, 2 * kPanel + 2, 16, 2, 2, 0), // kernel = stride: interleaved runs
      geometry(2, 6, 10, 9, 5, 3, 3, 0),             // ... 3×3, a row and a column past the windows
      geometry(2, 64, 6, 6, 44, 3, 1, 1, 2),         // groups 2, 22 channels each
      geometry(2, 120, 5, 11, 36, 3, 1, 1),          // K = 1080: packed panels in blocks of rows
      geometry(2, 3, 20, 19, 16, 3, 1, 1),           // 3 input channels
  };
  uint64_t seed = 1000;
  for (const Conv2dGeometry& g : shapes) {
    INFO(describe(g));
    check_forward_paths(g, seed += 10);
    check_input_gradient_paths(g, seed += 10);
    check_weight_gradient_paths(g, seed += 10);
  }
}
