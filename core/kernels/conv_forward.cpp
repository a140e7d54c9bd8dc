#include "core/kernels/conv_forward.h"

#include <vector>

#include "core/kernels/conv_tiles.h"
#include "core/kernels/conv_work.h"
#include "core/kernels/im2col.h"

namespace st::conv_detail {

namespace {

// bp [G][Co_pad]: the bias b [G*Co] zero-padded to the blocks' rows (empty when b is null).
std::vector<real> padded_bias(const Conv2dGeometry& g, const real* b, int64_t Co_pad) {
  std::vector<real> bp;
  if (!b) return bp;
  const int64_t Co = g.group_out();
  bp.assign(g.groups * Co_pad, real(0));
  for (int64_t gi = 0; gi < g.groups; ++gi) std::copy(b + gi * Co, b + (gi + 1) * Co, bp.begin() + gi * Co_pad);
  return bp;
}

// ---- S built a chunk of input channels at a time (ForwardPlan::channel_chunk; groups 1)
// Per image and chunk of channels, S_c = the shifted image of those channels; then for each panel
// and block, y[block, panel] (+)= w[block, rows of the chunk] · col_c[:, panel]. The bias goes in
// with the first chunk and the ReLU with the last; the sums over K are split at the chunks' edges,
// so they equal the whole-S ones up to float rounding.

// The convolutions of a full chunk of input channels and of the last one: their shifted-image
// geometry and row offsets.
struct ChannelChunks {
  int64_t size = 0, count = 0;
  PatchGeometry full, last;
  std::vector<int64_t> off_full, off_last;
  ChannelChunks(const Conv2dGeometry& g, int64_t chunk) : size(chunk), count((g.in_channels + chunk - 1) / chunk) {
    Conv2dGeometry g_full = g, g_last = g;
    g_full.in_channels = chunk;
    g_last.in_channels = g.in_channels - (count - 1) * chunk;
    full = g_full.patch(), last = g_last.patch();
    off_full = shifted_offsets(g_full), off_last = shifted_offsets(g_last);
  }
};

// Chunk c of image n: S = its shifted image, then every panel and block adds its rows of col.
// wp and bp: the packed weights and padded bias (bp null: no bias).
void forward_chunk(const Conv2dGeometry& g, const RowBlocks& rb, const ChannelChunks& cc, int64_t c, int64_t n,
                   const real* x, const real* wp, const real* bp, real* y, bool load_c, bool relu, real* S,
                   real* tmp) {
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane(), kk = g.kernel_h * g.kernel_w;
  const bool is_last = c == cc.count - 1;
  const PatchGeometry& pg = is_last ? cc.last : cc.full;
  shifted_image_with_slack(pg, x + n * g.in_channels * g.in_plane() + c * cc.size * g.in_plane(), S);
  const int64_t* off = is_last ? cc.off_last.data() : cc.off_full.data();
  const int64_t k0 = c * cc.size * kk, depth = pg.channels * kk;
  for (int64_t p0 = 0; p0 < P; p0 += kPanel) {
    const int64_t np = std::min(kPanel, P - p0);
    for (int64_t bi = 0; bi < rb.count(); ++bi) {
      const int64_t row0 = rb.row0(bi);
      const int width = rb.width(bi);
      const real* a = wp + row0 * K + k0 * width;
      const real* bias = bp && c == 0 ? bp + row0 : nullptr;
      const int64_t rows = std::min<int64_t>(width, Co - row0);
      block_to_output(width, depth, a, S + p0, off, y + n * Co * P + row0 * P + p0, P, rows, np, load_c, bias,
                      relu && is_last, tmp);
    }
  }
}

void forward_by_channel_chunks(const Conv2dGeometry& g, const ForwardPlan& plan, const real* x, const real* wp,
                               const real* bp, real* y, bool accumulate, bool relu, const real* residual) {
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane();
  const ChannelChunks cc(g, plan.channel_chunk);
  const int64_t s_size = ShiftedLayout(cc.full).size(g.kernel_w);
  const double flops = 2.0 * g.batch * Co * P * K;
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* S = thread_scratch(Scratch::kConvImage, s_size + kPanel);
    real* tmp = thread_scratch(Scratch::kConvTile, kWideMR * kPanel);
    for (int64_t n = begin; n < end; ++n) {
      if (residual) copy_residual_part(residual, y, n, Co, P, 0, P);
      for (int64_t c = 0; c < cc.count; ++c)
        forward_chunk(g, plan.blocks, cc, c, n, x, wp, bp, y, accumulate || residual || c > 0, relu, S, tmp);
    }
  });
}

// ---- The whole image at a time

// What the work items of conv2d_forward_tiles share. Sn is the image's layout (S, the padded
// image or x_n itself); off[gi*K + k] is where row k of group gi's col starts in it, base(p0)
// where the panel at p0 starts (relative to off).
struct ForwardTiles {
  const Conv2dGeometry& g;
  const ForwardPlan& plan;
  const real *x, *wp, *bp;  // bp: the padded bias, or null
  real* y;
  const real* residual;
  bool load_c, relu;
  PaddedLayout pl;
  std::vector<int64_t> off;

  int64_t base(int64_t p0) const { return plan.layout == ImageLayout::kPadded ? pl.position(p0, g.out_w) : p0; }

  // Rows k0 .. k0+kd-1 of group gi's col over the panel at p0, into every block of output channels.
  void panel(int64_t gi, int64_t k0, int64_t kd, int64_t p0, int64_t n, const real* Sn, real* tmp,
             real* packed) const {
    const int64_t Co = g.group_out(), K = g.patch_size(), P = g.out_plane(), Co_pad = plan.blocks.padded();
    const int64_t np = std::min(kPanel, P - p0);
    const bool first = k0 == 0, last = k0 + kd == K;
    // With packed panels the rows are first copied side by side (each kPanel long), so that every
    // block reads them sequentially.
    const bool packed_panel = packed && np == kPanel;
    if (packed_panel)
      for (int64_t k = k0; k < k0 + kd; ++k)
        std::copy_n(Sn + off[gi * K + k] + base(p0), kPanel, packed + (k - k0) * kPanel);
    for (int64_t bi = 0; bi < plan.blocks.count(); ++bi) {
      const int64_t row0 = plan.blocks.row0(bi);
      const int width = plan.blocks.width(bi);
      const real* a = wp + (gi * Co_pad + row0) * K + k0 * width;
      const real* bias = bp && first ? bp + gi * Co_pad + row0 : nullptr;
      const int64_t rows = std::min<int64_t>(width, Co - row0);
      const bool add = load_c || !first, r = relu && last;
      real* out = y + n * g.out_channels * P + (gi * Co + row0) * P + p0;
      if (rows == kMR && packed_panel) {  // packed panels have kMR blocks only (row_blocks)
        tile<kMR, kNV, false, false>(kd, a, nullptr, packed, nullptr, kPanel, out, P, add, bias, nullptr, r);
        continue;
      }
      block_to_output(width, kd, a, Sn + base(p0), off.data() + gi * K + k0, out, P, rows, np, add, bias, r, tmp);
    }
  }

  // Panels [pi0, pi1) of image n.
  void image_part(int64_t n, int64_t pi0, int64_t pi1, const real* Sn, real* tmp, real* packed) const {
    const int64_t K = g.patch_size(), P = g.out_plane(), kc = plan.depth_block;
    const int64_t x_image = g.in_channels * g.in_plane();
    if (residual) copy_residual_part(residual, y, n, g.out_channels, P, pi0 * kPanel, std::min(P, pi1 * kPanel));
    const bool prefetch = plan.prefetch && n + 1 < g.batch;
    SpreadPrefetch next(prefetch ? x + (n + 1) * x_image : nullptr, x_image,
                        g.groups * ((K + kc - 1) / kc) * (pi1 - pi0));
    for (int64_t gi = 0; gi < g.groups; ++gi)
      for (int64_t k0 = 0; k0 < K; k0 += kc) {
        const int64_t kd = std::min(kc, K - k0);
        for (int64_t p0 = pi0 * kPanel; p0 < std::min(P, pi1 * kPanel); p0 += kPanel) {
          next.step();
          panel(gi, k0, kd, p0, n, Sn, tmp, packed);
        }
      }
  }
};

}  // namespace

const real* pack_tile_weights(const Conv2dGeometry& g, const real* w, const RowBlocks& rb) {
  const int64_t Co = g.group_out(), K = g.patch_size();
  return pack_tile_weights(g, rb, [&](int64_t gi, int64_t o, int64_t k) { return w[(gi * Co + o) * K + k]; });
}

const real* pack_tile_weights(const Conv2dGeometry& g, const real* w) { return pack_tile_weights(g, w, row_blocks(g)); }

void conv2d_forward_tiles(const Conv2dGeometry& g, const real* x, const real* wp, const real* b, real* y,
                          bool accumulate, bool relu, const real* residual) {
  conv2d_forward_tiles(g, plan_forward(g), x, wp, b, y, accumulate, relu, residual);
}

void conv2d_forward_tiles(const Conv2dGeometry& g, const ForwardPlan& plan, const real* x, const real* wp,
                          const real* b, real* y, bool accumulate, bool relu, const real* residual) {
  const std::vector<real> bp = padded_bias(g, b, plan.blocks.padded());
  const real* bias = b ? bp.data() : nullptr;
  if (plan.channel_chunk < g.in_channels) {
    forward_by_channel_chunks(g, plan, x, wp, bias, y, accumulate, relu, residual);
    return;
  }
  const PatchGeometry patch = g.patch();
  const ImageLayout layout = plan.layout;
  const ForwardTiles ft{g, plan, x, wp, bias, y, residual, accumulate || residual, relu, PaddedLayout(patch),
                        layout == ImageLayout::kShifted ? shifted_offsets(g) : col_row_offsets<PaddedLayout>(g)};
  const int64_t P = g.out_plane(), panels = (P + kPanel - 1) / kPanel, x_image = g.in_channels * g.in_plane();
  const int64_t s_size = ShiftedLayout(patch).size(g.kernel_w);
  const double flops = 2.0 * g.batch * g.out_channels * P * g.patch_size();
  for_each_piece(g.batch * plan.splits, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* S = layout == ImageLayout::kInPlace  ? nullptr
              : layout == ImageLayout::kPadded ? thread_scratch(Scratch::kConvImage, ft.pl.size())
                                               : shifted_scratch(s_size);
    real* tmp = thread_scratch(Scratch::kConvTile, kWideMR * kPanel);
    real* packed = plan.packed_panels ? thread_scratch(Scratch::kConvPanel, plan.depth_block * kPanel) : nullptr;
    const auto build = [&](const PatchGeometry& pg, const real* xn, real* s) {
      if (layout == ImageLayout::kPadded)
        padded_image(pg, xn, s);
      else if (layout == ImageLayout::kShifted)
        shifted_image(pg, xn, s);
    };
    const auto part = [&](int64_t n, int64_t pi0, int64_t pi1) {
      ft.image_part(n, pi0, pi1, layout == ImageLayout::kInPlace ? x + n * x_image : S, tmp, packed);
    };
    for_each_image_part(patch, x, x_image, panels, plan.splits, begin, end, S, part, build);
  });
}

}  // namespace st::conv_detail
