#include "core/kernels/conv_input_gradient.h"

#include <algorithm>
#include <vector>

#include "core/kernels/conv_forward.h"
#include "core/kernels/conv_tiles.h"
#include "core/kernels/conv_work.h"
#include "core/kernels/im2col.h"

namespace st::conv_detail {

namespace {

// ---- What the column-wise paths (kColumns, kNonOverlapping) share

// wt [G][blocks][Co][kMR]: wt[gi][bi][co][r] = w[gi*Co + co][order[bi*kMR + r]], zero past K
// (order: the col row at each position t; empty for t itself). A block's kMR rows of col are then
// one register tile over depth Co: col_g[block, panel] = wt_g[block] · dy_g[:, panel].
std::vector<real> column_weight_blocks(const Conv2dGeometry& g, const real* w, const std::vector<int64_t>& order) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), blocks = round_up(K, kMR) / kMR;
  std::vector<real> wt(G * blocks * Co * kMR, real(0));
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t t = 0; t < K; ++t)
        wt[((gi * blocks + t / kMR) * Co + co) * kMR + t % kMR] =
            w[(gi * Co + co) * K + (order.empty() ? t : order[t])];
  return wt;
}

// The rows of dy_n [channels, P] at the panel p0 .. p0+np-1, as a register tile's B operand:
// base + boff[c] is channel c's row, ld the distance between rows. A full panel is read in place
// (rows P apart); the last, partial one through a zero-padded copy in dyp (rows kPanel apart),
// since in place it could run off the end of dy.
struct DyPanel {
  const real* base;
  const int64_t* boff;
  int64_t ld;
};
// The row offsets of one group's channels in place (c·P) and in the padded copy (c·kPanel).
struct DyRows {
  std::vector<int64_t> in_place, padded;
  DyRows(int64_t Co, int64_t P) : in_place(Co), padded(Co) {
    for (int64_t co = 0; co < Co; ++co) in_place[co] = co * P, padded[co] = co * kPanel;
  }
};
DyPanel dy_panel(const real* dyn, int64_t channels, int64_t P, int64_t p0, int64_t np, real* dyp, const DyRows& rows) {
  if (np == kPanel) return {dyn + p0, rows.in_place.data(), P};
  for (int64_t c = 0; c < channels; ++c) {
    std::copy(dyn + c * P + p0, dyn + c * P + P, dyp + c * kPanel);
    std::fill(dyp + c * kPanel + np, dyp + (c + 1) * kPanel, real(0));
  }
  return {dyp, rows.padded.data(), kPanel};
}

// ---- kColumns
// Per image and panel, col_g [K, kPanel] = w_g^T · dy_g[:, panel] is added row by row into dS
// (each col row is a run of dS, as in S), and dS folded onto dx_n by shifted_image_add. The col
// rows go in the order (i, j, ci) rather than (ci, i, j): then the kMR rows of a block belong to
// kMR different channels (when Ci >= kMR), so their runs of dS are disjoint and the register tile
// can add its result straight into dS. Other blocks, and the last partial panel, go through a
// small buffer and are added row by row.
struct ColumnsInput {
  const Conv2dGeometry& g;
  std::vector<int64_t> perm;  // perm[t] = the col row (ci*kH + i)*kW + j at t = (i*kW + j)*Ci + ci
  std::vector<real> wt;       // column_weight_blocks in the order perm
  std::vector<int64_t> off;   // shifted_offsets(g)
  DyRows rows;

  ColumnsInput(const Conv2dGeometry& g, const real* w)
      : g(g), perm(g.patch_size()), off(shifted_offsets(g)), rows(g.group_out(), g.out_plane()) {
    const int64_t Ci = g.group_in(), kk = g.kernel_h * g.kernel_w;
    for (int64_t ci = 0; ci < Ci; ++ci)
      for (int64_t ij = 0; ij < kk; ++ij) perm[ij * Ci + ci] = ci * kk + ij;
    wt = column_weight_blocks(g, w, perm);
  }

  // Group gi's columns over the panel at p0 (np positions, dy rows at B) into dS.
  void group_panel(int64_t gi, const DyPanel& B, int64_t p0, int64_t np, real* dS, real* col) const {
    const int64_t Co = g.group_out(), K = g.patch_size(), blocks = round_up(K, kMR) / kMR;
    const bool direct_blocks = g.group_in() >= kMR;  // a full block then holds kMR distinct channels
    const real* bg = B.base + gi * Co * B.ld;
    const int64_t* row_off = off.data() + gi * K;
    for (int64_t bi = 0; bi < blocks; ++bi) {
      const real* a = wt.data() + (gi * blocks + bi) * Co * kMR;
      const int64_t n_rows = std::min<int64_t>(kMR, K - bi * kMR);
      if (direct_blocks && n_rows == kMR && np == kPanel) {
        real* crow[kMR];
        for (int r = 0; r < kMR; ++r) crow[r] = dS + row_off[perm[bi * kMR + r]] + p0;
        tile<kMR, kNV, false, true, true>(Co, a, nullptr, bg, B.boff, 0, nullptr, 0, true, nullptr, crow);
        continue;
      }
      panel_tile<kMR>(np, Co, a, bg, B.boff, col, kPanel, false, nullptr, false);
      for (int64_t r = 0; r < n_rows; ++r) {
        real* d = dS + row_off[perm[bi * kMR + r]] + p0;
        const real* c = col + r * kPanel;
        for (int64_t q = 0; q < np; ++q) d[q] += c[q];
      }
    }
  }
};

// dx += the input gradient by columns.
void backward_input_by_columns(const Conv2dGeometry& g, const real* dy, const real* w, real* dx) {
  const int64_t P = g.out_plane(), x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  const PatchGeometry patch = g.patch();
  const int64_t s_size = ShiftedLayout(patch).size(g.kernel_w);
  const ColumnsInput ci(g, w);
  const double flops = 2.0 * g.batch * g.out_channels * P * g.patch_size();
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* dS = thread_scratch(Scratch::kConvImage, s_size);
    real* col = thread_scratch(Scratch::kConvTile, kMR * kPanel);
    real* dyp = thread_scratch(Scratch::kConvPanel, g.out_channels * kPanel);
    for (int64_t n = begin; n < end; ++n) {
      std::fill(dS, dS + s_size, real(0));
      for (int64_t p0 = 0; p0 < P; p0 += kPanel) {
        const int64_t np = std::min(kPanel, P - p0);
        const DyPanel B = dy_panel(dy + n * y_image, g.out_channels, P, p0, np, dyp, ci.rows);
        for (int64_t gi = 0; gi < g.groups; ++gi) ci.group_panel(gi, B, p0, np, dS, col);
      }
      shifted_image_add(patch, dS, dx + n * x_image);
    }
  });
}

// ---- Interleaving column phases into rows of dx (kPhases, kNonOverlapping)

// d[x] (= or += when ADD) src[x % sw][x / sw] for x < width: one row of dx from its column
// phases. Stride 2 is written out as two streams so that the stores vectorise as an interleave.
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

// ---- kNonOverlapping
// Every dx element is one dot product, dx[ci][oh*s_h + i][ow*s_w + j] = Σ_co w[co][ci][i][j] ·
// dy[co][oh][ow], so each panel's columns w_g^T · dy_g[:, panel] go straight to their pixels
// (strided stores, or interleaved runs where nonoverlapping_runs) with no adjoint image to zero,
// add into and fold. Rows and columns past the last window get no gradient (zero when writing).
struct NonOverlappingInput {
  const Conv2dGeometry& g;
  std::vector<real> wt;        // column_weight_blocks in col order
  std::vector<int64_t> row_at; // where col row k = (ci, i, j) of group gi lands in dx_n, less the position's offset
  DyRows rows;
  bool runs;                   // nonoverlapping_runs(g)

  NonOverlappingInput(const Conv2dGeometry& g, const real* w)
      : g(g), wt(column_weight_blocks(g, w, {})), row_at(g.groups * g.patch_size()),
        rows(g.group_out(), g.out_plane()), runs(nonoverlapping_runs(g)) {
    const int64_t Ci = g.group_in(), K = g.patch_size(), kk = g.kernel_h * g.kernel_w;
    for (int64_t gi = 0; gi < g.groups; ++gi)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t ci = k / kk, i = (k / g.kernel_w) % g.kernel_h, j = k % g.kernel_w;
        row_at[gi * K + k] = ((gi * Ci + ci) * g.in_h + i) * g.in_w + j;
      }
  }

  // Rows r0 .. r0+n_rows-1 of col (np positions from p0, rows kPanel apart) into dx_n; at[q] is
  // position q's window corner in dx_n.
  void block_to_dx(int64_t r0, int64_t n_rows, const real* col, int64_t p0, int64_t np, const int64_t* at,
                   real* dxn, bool add) const {
    const int64_t kw = g.kernel_w;
    if (runs) {
      const real* src[kMR];
      for (int64_t r = 0; r < n_rows; r += kw) {
        real* d = dxn + row_at[r0 + r];
        for (int64_t q0 = 0; q0 < np;) {
          const int64_t len = std::min(np - q0, g.out_w - (p0 + q0) % g.out_w);
          for (int64_t j = 0; j < kw; ++j) src[j] = col + (r + j) * kPanel + q0;
          interleave_row(src, kw, kw * len, d + at[q0], add);
          q0 += len;
        }
      }
      return;
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      real* d = dxn + row_at[r0 + r];
      const real* c = col + r * kPanel;
      if (add)
        for (int64_t q = 0; q < np; ++q) d[at[q]] += c[q];
      else
        for (int64_t q = 0; q < np; ++q) d[at[q]] = c[q];
    }
  }

  // Image n: every panel's columns, block by block, into dx_n.
  void image(int64_t n, const real* dy, real* dx, bool add, real* col, real* dyp) const {
    const int64_t Co = g.group_out(), K = g.patch_size(), P = g.out_plane(), blocks = round_up(K, kMR) / kMR;
    const real* dyn = dy + n * g.out_channels * P;
    real* dxn = dx + n * g.in_channels * g.in_plane();
    int64_t at[kPanel];  // offset in dx of each panel position's window corner
    for (int64_t p0 = 0; p0 < P; p0 += kPanel) {
      const int64_t np = std::min(kPanel, P - p0);
      for (int64_t q = 0; q < np; ++q)
        at[q] = ((p0 + q) / g.out_w) * g.stride_h * g.in_w + ((p0 + q) % g.out_w) * g.stride_w;
      const DyPanel B = dy_panel(dyn, g.out_channels, P, p0, np, dyp, rows);
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const real* bg = B.base + gi * Co * B.ld;
        for (int64_t bi = 0; bi < blocks; ++bi) {
          panel_tile<kMR>(np, Co, wt.data() + (gi * blocks + bi) * Co * kMR, bg, B.boff, col, kPanel, false,
                          nullptr, false);
          block_to_dx(gi * K + bi * kMR, std::min<int64_t>(kMR, K - bi * kMR), col, p0, np, at, dxn, add);
        }
      }
    }
  }
};

void backward_input_nonoverlapping(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add) {
  const int64_t x_image = g.in_channels * g.in_plane();
  if (!add && (g.out_h * g.stride_h < g.in_h || g.out_w * g.stride_w < g.in_w))
    std::fill(dx, dx + g.batch * x_image, real(0));
  const NonOverlappingInput no(g, w);
  const double flops = 2.0 * g.batch * g.out_channels * g.out_plane() * g.patch_size();
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* col = thread_scratch(Scratch::kConvTile, kMR * kPanel);
    real* dyp = thread_scratch(Scratch::kConvPanel, g.out_channels * kPanel);
    for (int64_t n = begin; n < end; ++n) no.image(n, dy, dx, add, col, dyp);
  });
}

// ---- kPhases
// The input pixels with the same (row, column) remainders mod the stride form a phase; each
// receives a fixed subset of the kernel taps, so each phase of dx is a stride-1 correlation of dy
// with that part of the kernel (flipped, channel roles swapped): for a 3×3 kernel at stride 2,
// 1×1, 1×2, 2×1 and 2×2 sub-kernels, the 9 taps in all, so no products are wasted. Per image, the
// phases run on the forward's register tiles over a shifted image of dy (one for all the phases
// whose rows are equally long: one in all when the input's width is a multiple of the stride)
// into a buffer, and the phases are interleaved into dx_n once.
struct Phase {
  PhaseTaps r, c;
  int64_t group = -1;     // the shifted image it reads (-1: no tap reaches the phase)
  int64_t K = 0, P = 0;   // its patch size (out_channels/G * taps) and positions
  int64_t at = 0;         // where its [in_channels, P] output starts in the image's buffer
  std::vector<real> wp;   // [G][blocks][K][kMR]: kMR-row blocks only (not RowBlocks)
  std::vector<int64_t> off;
};

struct PhasesInput {
  const Conv2dGeometry& g;
  std::vector<Phase> phases;          // [s_h][s_w]
  std::vector<PatchGeometry> shared;  // the shifted images of dy [out_channels, out_h, out_w], stride 1
  int64_t out_size = 0, s_max = 0, row_max = 0;

  PhasesInput(const Conv2dGeometry& g, const real* w) : g(g), phases(g.stride_h * g.stride_w) {
    group_phases();
    for (const PatchGeometry& t : shared) s_max = std::max(s_max, ShiftedLayout(t).size(t.kernel_w));
    for (Phase& ph : phases) {
      row_max = std::max(row_max, ph.c.extent);
      if (ph.group >= 0) pack_phase(ph, w);
    }
  }

  // The phases sharing a row length read one shifted image of dy, with the padding and kernel
  // extent that cover all of them: tap (t', u') of a phase with pads (pt, pl) is its row
  // t' - pt + pad_h and column u' - pl + pad_w.
  void group_phases() {
    for (int64_t ry = 0; ry < g.stride_h; ++ry)
      for (int64_t rx = 0; rx < g.stride_w; ++rx) {
        Phase& ph = phases[ry * g.stride_w + rx];
        ph.r = phase_taps(ry, g.stride_h, g.kernel_h, g.pad_h, g.in_h);
        ph.c = phase_taps(rx, g.stride_w, g.kernel_w, g.pad_w, g.in_w);
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
  }

  // The phase's size, place in the buffer, and its patch: column k = (co*T + t')*U + u' for group
  // gi is kernel tap (first_i + sh*(T-1-t'), first_j + sw*(U-1-u')) of w, read from S at
  // off[gi*K + k].
  void pack_phase(Phase& ph, const real* w) {
    const int64_t G = g.groups, Ci = g.group_in(), Co = g.group_out(), blocks = round_up(Ci, kMR) / kMR;
    const PatchGeometry& t = shared[ph.group];
    const ShiftedLayout L(t);
    const int64_t T = ph.r.taps, U = ph.c.taps;
    ph.K = Co * T * U;
    ph.P = ph.r.extent * ph.c.extent;
    ph.at = out_size;
    out_size += g.in_channels * ph.P;
    ph.off.resize(G * ph.K);
    ph.wp.assign(G * blocks * ph.K * kMR, real(0));
    for (int64_t gi = 0; gi < G; ++gi)
      for (int64_t co = 0; co < Co; ++co)
        for (int64_t tt = 0; tt < T; ++tt)
          for (int64_t uu = 0; uu < U; ++uu) {
            const int64_t k = (co * T + tt) * U + uu;
            ph.off[gi * ph.K + k] = L.offset(gi * Co + co, tt - ph.r.pad() + t.pad_h, uu - ph.c.pad() + t.pad_w);
            const int64_t i = ph.r.first + g.stride_h * (T - 1 - tt), j = ph.c.first + g.stride_w * (U - 1 - uu);
            for (int64_t ci = 0; ci < Ci; ++ci)
              ph.wp[((gi * blocks + ci / kMR) * ph.K + k) * kMR + ci % kMR] =
                  w[(((gi * Co + co) * Ci + ci) * g.kernel_h + i) * g.kernel_w + j];
          }
  }

  // One phase's [in_channels, P] output of image n, from the shifted images S into out.
  void run_phase(const Phase& ph, const real* S, real* out, real* tmp) const {
    const int64_t Ci = g.group_in(), blocks = round_up(Ci, kMR) / kMR;
    const real* s = S + ph.group * (s_max + kPanel);
    for (int64_t p0 = 0; p0 < ph.P; p0 += kPanel) {
      const int64_t np = std::min(kPanel, ph.P - p0);
      for (int64_t gi = 0; gi < g.groups; ++gi)
        for (int64_t bi = 0; bi < blocks; ++bi) {
          const int64_t rows = std::min<int64_t>(kMR, Ci - bi * kMR);
          tile_to_output<kMR>(ph.K, ph.wp.data() + (gi * blocks + bi) * ph.K * kMR, s + p0, ph.off.data() + gi * ph.K,
                              out + (gi * Ci + bi * kMR) * ph.P + p0, ph.P, rows, np, false, nullptr, false, tmp);
        }
    }
  }

  // Image n: the shifted images of dy_n, every phase into buf, the phases interleaved into dx_n.
  // buf [out_size + row_max]: the phases' outputs, then a zero row for the phases no tap reaches;
  // src: s_w pointers.
  void image(int64_t n, const real* dy, real* dx, bool accumulate, real* S, real* tmp, real* buf,
             std::vector<const real*>& src) const {
    const real* dyn = dy + n * g.out_channels * g.out_plane();
    for (size_t si = 0; si < shared.size(); ++si) shifted_image_with_slack(shared[si], dyn, S + si * (s_max + kPanel));
    for (const Phase& ph : phases)
      if (ph.group >= 0) run_phase(ph, S, buf + ph.at, tmp);
    real* dxn = dx + n * g.in_channels * g.in_plane();
    const int64_t sh = g.stride_h, sw = g.stride_w;
    for (int64_t c = 0; c < g.in_channels; ++c)
      for (int64_t y = 0; y < g.in_h; ++y) {
        for (int64_t rx = 0; rx < sw; ++rx) {
          const Phase& ph = phases[(y % sh) * sw + rx];
          src[rx] = ph.group >= 0 ? buf + ph.at + c * ph.P + (y / sh) * ph.c.extent : buf + out_size;
        }
        interleave_row(src.data(), sw, g.in_w, dxn + (c * g.in_h + y) * g.in_w, accumulate);
      }
  }
};

void backward_input_by_phases(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool accumulate) {
  const PhasesInput pi(g, w);
  const double flops = 2.0 * g.batch * g.out_channels * g.out_plane() * g.patch_size();
  for_each_piece(g.batch, flops, [&](int64_t, int64_t begin, int64_t end) {
    real* S = thread_scratch(Scratch::kConvImage, int64_t(pi.shared.size()) * (pi.s_max + kPanel));
    real* tmp = thread_scratch(Scratch::kConvTile, kMR * kPanel);
    real* buf = thread_scratch(Scratch::kConvPhases, pi.out_size + pi.row_max);
    std::fill(buf + pi.out_size, buf + pi.out_size + pi.row_max, real(0));
    std::vector<const real*> src(g.stride_w);
    for (int64_t n = begin; n < end; ++n) pi.image(n, dy, dx, accumulate, S, tmp, buf, src);
  });
}

// ---- kFlippedForward
// The input gradient is itself a convolution, of dy [batch, out_channels, out_h, out_w] with the
// kernel flipped and each group's channel roles swapped,
//   wf [in_channels, Co, kH, kW]: wf[gi*Ci + ci][co][i][j] = w[gi*Co + co][ci][kH-1-i][kW-1-j],
// and padding k-1-p, whose output is exactly in_h × in_w. Running it through the forward tiles
// writes each dx element once, where im2col's adjoint would add into it kH*kW times.
void backward_input_flipped(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool accumulate) {
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
  const real* wfp = pack_tile_weights(t, row_blocks(t), [&](int64_t gi, int64_t ci, int64_t k) {
    return w[(gi * Co * Ci + ci) * kh * kw + flip[k]];
  });
  conv2d_forward_tiles(t, dy, wfp, nullptr, dx, accumulate);
}

}  // namespace

PhaseTaps phase_taps(int64_t phase, int64_t stride, int64_t kernel, int64_t pad, int64_t in) {
  PhaseTaps p;
  p.first = (phase + pad) % stride;
  p.taps = p.first < kernel ? (kernel - 1 - p.first) / stride + 1 : 0;
  p.shift = (phase + pad - p.first) / stride;
  p.extent = phase < in ? (in - phase + stride - 1) / stride : 0;
  return p;
}

void conv2d_backward_input_tiles(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool accumulate) {
  conv2d_backward_input_tiles(g, input_gradient_path(g), dy, w, dx, accumulate);
}

void conv2d_backward_input_tiles(const Conv2dGeometry& g, InputGradientPath path, const real* dy, const real* w,
                                 real* dx, bool accumulate) {
  switch (path) {
    case InputGradientPath::kNonOverlapping:
      return backward_input_nonoverlapping(g, dy, w, dx, accumulate);
    case InputGradientPath::kPhases:
      return backward_input_by_phases(g, dy, w, dx, accumulate);
    case InputGradientPath::kColumns:
      if (!accumulate) std::fill(dx, dx + g.batch * g.in_channels * g.in_plane(), real(0));
      return backward_input_by_columns(g, dy, w, dx);
    case InputGradientPath::kFlippedForward:
      return backward_input_flipped(g, dy, w, dx, accumulate);
  }
}

}  // namespace st::conv_detail
