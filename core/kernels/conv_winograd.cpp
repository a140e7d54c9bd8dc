#include "core/kernels/conv_winograd.h"

#include <omp.h>

#include <algorithm>

#include "core/kernels/conv_paths.h"
#include "core/kernels/gemm.h"
#include "core/kernels/scratch.h"

namespace st {

namespace {

using conv_detail::kParallelWinogradWeights;
using conv_detail::kWinogradChunkValues;

constexpr int kXi = 16;  // positions of a 4×4 transformed tile

// The tiles of one output plane: th rows of tw tiles (a last row or column of tiles may hang one
// position over the plane's edge).
struct Tiling {
  int64_t th = 0, tw = 0;
  explicit Tiling(const Conv2dGeometry& g) : th((g.out_h + 1) / 2), tw((g.out_w + 1) / 2) {}
  int64_t per_image() const { return th * tw; }
};

// The values one image adds to V and M (which hold at most kWinogradChunkValues together).
int64_t values_per_image(const Conv2dGeometry& g) {
  return kXi * (g.in_channels + g.out_channels) * Tiling(g).per_image();
}
int64_t chunk_images(const Conv2dGeometry& g, int64_t chunk) {
  if (chunk <= 0) chunk = kWinogradChunkValues / values_per_image(g);
  return std::max<int64_t>(1, std::min(g.batch, chunk));
}

// The distance between the 16 planes ξ of U, V and M (each [rows][cols] contiguous): rows·cols
// rounded up to an odd number of 64-byte lines, since a multiple of 4 KiB (e.g. 256 channels ×
// 196 tiles) puts the 16 streams a transform reads or writes into the same cache sets (901fc8c).
int64_t xi_stride(int64_t n) {
  constexpr int64_t line = 64 / sizeof(real);
  const int64_t lines = (n + line - 1) / line;
  return (lines | 1) * line;
}

bool split(int64_t items) { return items > 1 && omp_get_max_threads() > 1 && !omp_in_parallel(); }

// Calls f(i, c, buf) for every image i < nb and channel c < C of a chunk, spread over the threads,
// with buf the thread's scratch of buf_size values.
template <class F>
void for_each_plane(int64_t nb, int64_t C, int64_t buf_size, F&& f) {
#pragma omp parallel if (split(nb * C))
  {
    real* buf = thread_scratch(Scratch::kWinogradRows, buf_size);
#pragma omp for schedule(static)
    for (int64_t item = 0; item < nb * C; ++item) f(item / C, item % C, buf);
  }
}

// rows[ξ] = where channel c's tiles from t0 on start in plane ξ of a [16][C][T] buffer (V, M).
template <class Real>
void xi_rows(Real* base, int64_t C, int64_t T, int64_t c, int64_t t0, Real* rows[16]) {
  const int64_t stride = xi_stride(C * T);
  for (int xi = 0; xi < 16; ++xi) rows[xi] = base + xi * stride + c * T + t0;
}

// The plane src [h][w] placed at (top, left) in a zero plane of rows × 2L, split into its even and
// odd columns: e [rows][L] holds padded columns 0, 2, 4, ..., o [rows][L] columns 1, 3, 5, ...; so
// that the transforms below, whose tiles step two columns at a time, read contiguous arrays. The
// padded plane (pad, 2·rows·L values) is built first, so that the split is one long loop.
void split_columns(const real* src, int64_t h, int64_t w, int64_t top, int64_t left, int64_t rows, int64_t L,
                   real* pad, real* e, real* o) {
  std::fill(pad, pad + 2 * rows * L, real(0));
  for (int64_t y = 0; y < h; ++y) {
    const int64_t r = y + top;
    if (r >= 0 && r < rows) std::copy(src + y * w, src + (y + 1) * w, pad + r * 2 * L + left);
  }
  for (int64_t k = 0; k < rows * L; ++k) e[k] = pad[2 * k], o[k] = pad[2 * k + 1];
}

// U [16][Co][Ci]: U_ξ[co][ci] = (G g G^T)[ξ] for the kernel g = w[co][ci]. Input channels go in
// blocks of kWBlock: their kernels are first transposed to [9][kWBlock], so that the arithmetic and
// the stores run along ci.
constexpr int64_t kWBlock = 16;
void weight_transform(const Conv2dGeometry& g, const real* w, real* U) {
  const int64_t Co = g.out_channels, Ci = g.in_channels, blocks = (Ci + kWBlock - 1) / kWBlock;
  const int64_t su = xi_stride(Co * Ci);
#pragma omp parallel for schedule(static) if (split(Co * blocks) && Co * Ci > kParallelWinogradWeights)
  for (int64_t item = 0; item < Co * blocks; ++item) {
    const int64_t co = item / blocks, c0 = item % blocks * kWBlock, n = std::min(kWBlock, Ci - c0);
    real k[9][kWBlock], t[4][3][kWBlock];
    for (int64_t j = 0; j < n; ++j)
      for (int q = 0; q < 9; ++q) k[q][j] = w[(co * Ci + c0 + j) * 9 + q];
    for (int c = 0; c < 3; ++c)  // G g, column c
      for (int64_t j = 0; j < n; ++j) {
        const real g0 = k[c][j], g1 = k[3 + c][j], g2 = k[6 + c][j];
        t[0][c][j] = g0;
        t[1][c][j] = real(0.5) * (g0 + g1 + g2);
        t[2][c][j] = real(0.5) * (g0 - g1 + g2);
        t[3][c][j] = g2;
      }
    for (int a = 0; a < 4; ++a) {  // (G g) G^T, row a
      real* u0 = U + (a * 4 + 0) * su + co * Ci + c0;
      real* u1 = U + (a * 4 + 1) * su + co * Ci + c0;
      real* u2 = U + (a * 4 + 2) * su + co * Ci + c0;
      real* u3 = U + (a * 4 + 3) * su + co * Ci + c0;
      for (int64_t j = 0; j < n; ++j) {
        const real t0 = t[a][0][j], t1 = t[a][1][j], t2 = t[a][2][j];
        u0[j] = t0;
        u1[j] = real(0.5) * (t0 + t1 + t2);
        u2[j] = real(0.5) * (t0 - t1 + t2);
        u3[j] = t2;
      }
    }
  }
}

// dw[co][ci] += G^T dU[·][co][ci] G, the adjoint of weight_transform, in the same blocks.
void weight_transform_adjoint(const Conv2dGeometry& g, const real* dU, real* dw) {
  const int64_t Co = g.out_channels, Ci = g.in_channels, blocks = (Ci + kWBlock - 1) / kWBlock;
  const int64_t su = xi_stride(Co * Ci);
#pragma omp parallel for schedule(static) if (split(Co * blocks) && Co * Ci > kParallelWinogradWeights)
  for (int64_t item = 0; item < Co * blocks; ++item) {
    const int64_t co = item / blocks, c0 = item % blocks * kWBlock, n = std::min(kWBlock, Ci - c0);
    real q[4][3][kWBlock], k[9][kWBlock];
    for (int a = 0; a < 4; ++a) {  // dU G, row a
      const real* u0 = dU + (a * 4 + 0) * su + co * Ci + c0;
      const real* u1 = dU + (a * 4 + 1) * su + co * Ci + c0;
      const real* u2 = dU + (a * 4 + 2) * su + co * Ci + c0;
      const real* u3 = dU + (a * 4 + 3) * su + co * Ci + c0;
      for (int64_t j = 0; j < n; ++j) {
        q[a][0][j] = u0[j] + real(0.5) * (u1[j] + u2[j]);
        q[a][1][j] = real(0.5) * (u1[j] - u2[j]);
        q[a][2][j] = real(0.5) * (u1[j] + u2[j]) + u3[j];
      }
    }
    for (int c = 0; c < 3; ++c)  // G^T (dU G), column c
      for (int64_t j = 0; j < n; ++j) {
        k[c][j] = q[0][c][j] + real(0.5) * (q[1][c][j] + q[2][c][j]);
        k[3 + c][j] = real(0.5) * (q[1][c][j] - q[2][c][j]);
        k[6 + c][j] = real(0.5) * (q[1][c][j] + q[2][c][j]) + q[3][c][j];
      }
    for (int64_t j = 0; j < n; ++j)
      for (int t = 0; t < 9; ++t) dw[(co * Ci + c0 + j) * 9 + t] += k[t][j];
  }
}

// V [16][Ci][T] (T = nb tiles-per-image, tile t = i·per_image + row·tw + column) = B^T d B for
// every input channel and tile of images n0 .. n0+nb-1 of x. Per channel, the padded plane is
// split into its even and odd columns (split_columns): tile k of a row of tiles reads padded
// columns 2k .. 2k+3 = e[k], o[k], e[k+1], o[k+1] of the four rows under it.
void input_transform(const Conv2dGeometry& g, const Tiling& tl, const real* x, int64_t n0, int64_t nb, real* V) {
  const int64_t C = g.in_channels, H = g.in_h, W = g.in_w, TP = tl.per_image(), T = nb * TP, L = tl.tw + 1;
  const int64_t rows = 2 * tl.th + 2;
  for_each_plane(nb, C, 4 * rows * L, [&](int64_t i, int64_t c, real* buf) {
    real* E = buf + 2 * rows * L;
    real* O = E + rows * L;
    split_columns(x + ((n0 + i) * C + c) * H * W, H, W, g.pad_h, g.pad_w, rows, L, buf, E, O);
    for (int64_t th = 0; th < tl.th; ++th) {
      const real* e[4] = {E + 2 * th * L, E + (2 * th + 1) * L, E + (2 * th + 2) * L, E + (2 * th + 3) * L};
      const real* o[4] = {O + 2 * th * L, O + (2 * th + 1) * L, O + (2 * th + 2) * L, O + (2 * th + 3) * L};
      // B^T down the rows (r0 - r2, r1 + r2, r2 - r1, r1 - r3), then along the columns.
      const int64_t t0 = i * TP + th * tl.tw;
      real* v[16];
      xi_rows(V, C, T, c, t0, v);
#pragma GCC ivdep  // the 16 rows are disjoint
      for (int64_t k = 0; k < tl.tw; ++k) {
        real d[4][4];
        for (int a = 0; a < 4; ++a) d[a][0] = e[a][k], d[a][1] = o[a][k], d[a][2] = e[a][k + 1], d[a][3] = o[a][k + 1];
        real r[4][4];
        for (int b = 0; b < 4; ++b) {
          r[0][b] = d[0][b] - d[2][b];
          r[1][b] = d[1][b] + d[2][b];
          r[2][b] = d[2][b] - d[1][b];
          r[3][b] = d[1][b] - d[3][b];
        }
        for (int a = 0; a < 4; ++a) {
          v[a * 4 + 0][k] = r[a][0] - r[a][2];
          v[a * 4 + 1][k] = r[a][1] + r[a][2];
          v[a * 4 + 2][k] = r[a][2] - r[a][1];
          v[a * 4 + 3][k] = r[a][1] - r[a][3];
        }
      }
    }
  });
}

// dx (+= when add, else =) B dV B^T, the adjoint of input_transform, for images n0 .. n0+nb-1.
// Per channel the tiles' 4×4 contributions are summed into a padded plane kept as even and odd
// columns (row r of tile k reaches even and odd columns k and k+1), whose part inside the image
// then goes to dx.
void input_transform_adjoint(const Conv2dGeometry& g, const Tiling& tl, const real* dV, int64_t n0, int64_t nb,
                             real* dx, bool add) {
  const int64_t C = g.in_channels, H = g.in_h, W = g.in_w, TP = tl.per_image(), T = nb * TP, L = tl.tw + 1;
  const int64_t rows = 2 * tl.th + 2, TW = tl.tw;
  for_each_plane(nb, C, 2 * rows * L + 16 * TW + 2 * L, [&](int64_t i, int64_t c, real* acc_e) {
    real* acc_o = acc_e + rows * L;
    real* dd = acc_o + rows * L;  // [4 rows][4 columns][TW tiles]
    real* row = dd + 16 * TW;     // one padded row, 2L wide
    std::fill(acc_e, acc_e + 2 * rows * L, real(0));
    for (int64_t th = 0; th < tl.th; ++th) {
      const int64_t t0 = i * TP + th * TW;
      const real* v[16];
      xi_rows(dV, C, T, c, t0, v);
      // h = dV B (columns d0, d1 - d2 + d3, d1 + d2 - d0, -d3 of each row a), then B^T h by the
      // same combinations down the rows.
#pragma GCC ivdep  // the 16 rows are disjoint
      for (int64_t k = 0; k < TW; ++k) {
        real h[4][4];
        for (int a = 0; a < 4; ++a) {
          const real d0 = v[a * 4][k], d1 = v[a * 4 + 1][k], d2 = v[a * 4 + 2][k], d3 = v[a * 4 + 3][k];
          h[a][0] = d0, h[a][1] = d1 - d2 + d3, h[a][2] = d1 + d2 - d0, h[a][3] = -d3;
        }
        for (int j = 0; j < 4; ++j) {
          dd[(0 * 4 + j) * TW + k] = h[0][j];
          dd[(1 * 4 + j) * TW + k] = h[1][j] - h[2][j] + h[3][j];
          dd[(2 * 4 + j) * TW + k] = h[1][j] + h[2][j] - h[0][j];
          dd[(3 * 4 + j) * TW + k] = -h[3][j];
        }
      }
      for (int r = 0; r < 4; ++r) {
        real* e = acc_e + (2 * th + r) * L;
        real* o = acc_o + (2 * th + r) * L;
        const real* d = dd + r * 4 * TW;
        for (int64_t k = 0; k < TW; ++k) e[k] += d[k];
        for (int64_t k = 0; k < TW; ++k) o[k] += d[TW + k];
        for (int64_t k = 0; k < TW; ++k) e[k + 1] += d[2 * TW + k];
        for (int64_t k = 0; k < TW; ++k) o[k + 1] += d[3 * TW + k];
      }
    }
    real* dxc = dx + ((n0 + i) * C + c) * H * W;
    for (int64_t yy = 0; yy < H; ++yy) {
      const real* e = acc_e + (yy + g.pad_h) * L;
      const real* o = acc_o + (yy + g.pad_h) * L;
      for (int64_t k = 0; k < L; ++k) row[2 * k] = e[k], row[2 * k + 1] = o[k];
      const real* src = row + g.pad_w;
      real* d = dxc + yy * W;
      if (add)
        for (int64_t xx = 0; xx < W; ++xx) d[xx] += src[xx];
      else
        std::copy(src, src + W, d);
    }
  });
}

// y (images n0 .. n0+nb-1) = A^T M A per tile, + bias (+ residual), then ReLU; the parts of tiles
// past the plane's edge are dropped.
void output_transform(const Conv2dGeometry& g, const Tiling& tl, const real* M, int64_t n0, int64_t nb, const real* b,
                      real* y, bool relu, const real* residual) {
  const int64_t C = g.out_channels, OH = g.out_h, OW = g.out_w, TP = tl.per_image(), T = nb * TP, TW = tl.tw;
  for_each_plane(nb, C, 4 * TW, [&](int64_t i, int64_t c, real* out) {
    const real bias = b ? b[c] : real(0);
    const int64_t plane = ((n0 + i) * C + c) * OH * OW;
    for (int64_t th = 0; th < tl.th; ++th) {
      const int64_t t0 = i * TP + th * TW;
      const real* m[16];
      xi_rows(M, C, T, c, t0, m);
      // A^T down the rows (m0 + m1 + m2, m1 - m2 - m3), then along the columns.
#pragma GCC ivdep  // the 16 rows are disjoint
      for (int64_t k = 0; k < TW; ++k) {
        real s[2][4];
        for (int bb = 0; bb < 4; ++bb) {
          const real m0 = m[bb][k], m1 = m[4 + bb][k], m2 = m[8 + bb][k], m3 = m[12 + bb][k];
          s[0][bb] = m0 + m1 + m2;
          s[1][bb] = m1 - m2 - m3;
        }
        for (int r = 0; r < 2; ++r) {
          out[r * 2 * TW + 2 * k] = s[r][0] + s[r][1] + s[r][2];
          out[r * 2 * TW + 2 * k + 1] = s[r][1] - s[r][2] - s[r][3];
        }
      }
      for (int r = 0; r < 2 && 2 * th + r < OH; ++r) {
        const int64_t at = plane + (2 * th + r) * OW;
        const real* src = out + r * 2 * TW;
        real* d = y + at;
        if (residual) {
          const real* res = residual + at;
          for (int64_t xx = 0; xx < OW; ++xx) d[xx] = src[xx] + bias + res[xx];
        } else {
          for (int64_t xx = 0; xx < OW; ++xx) d[xx] = src[xx] + bias;
        }
        if (relu)
          for (int64_t xx = 0; xx < OW; ++xx) d[xx] = std::max(d[xx], real(0));
      }
    }
  });
}

// dM [16][Co][T] = A dY A^T per tile of dy (images n0 .. n0+nb-1), the adjoint of
// output_transform (dy past the plane's edge counts as zero).
void output_transform_adjoint(const Conv2dGeometry& g, const Tiling& tl, const real* dy, int64_t n0, int64_t nb,
                              real* dM) {
  const int64_t C = g.out_channels, OH = g.out_h, OW = g.out_w, TP = tl.per_image(), T = nb * TP, TW = tl.tw;
  const int64_t rows = 2 * tl.th;
  for_each_plane(nb, C, 4 * rows * TW, [&](int64_t i, int64_t c, real* buf) {
    real* E = buf + 2 * rows * TW;
    real* O = E + rows * TW;
    split_columns(dy + ((n0 + i) * C + c) * OH * OW, OH, OW, 0, 0, rows, TW, buf, E, O);
    for (int64_t th = 0; th < tl.th; ++th) {
      const real* ev[2] = {E + 2 * th * TW, E + (2 * th + 1) * TW};
      const real* od[2] = {O + 2 * th * TW, O + (2 * th + 1) * TW};
      // Along the row (d0, d0 + d1, d0 - d1, -d1), then down the columns (e0, e0 + e1,
      // e0 - e1, -e1).
      const int64_t t0 = i * TP + th * TW;
      real* m[16];
      xi_rows(dM, C, T, c, t0, m);
#pragma GCC ivdep  // the 16 rows are disjoint
      for (int64_t k = 0; k < TW; ++k) {
        real e[2][4];
        for (int r = 0; r < 2; ++r) {
          const real d0 = ev[r][k], d1 = od[r][k];
          e[r][0] = d0, e[r][1] = d0 + d1, e[r][2] = d0 - d1, e[r][3] = -d1;
        }
        for (int bb = 0; bb < 4; ++bb) {
          m[bb][k] = e[0][bb];
          m[4 + bb][k] = e[0][bb] + e[1][bb];
          m[8 + bb][k] = e[0][bb] - e[1][bb];
          m[12 + bb][k] = -e[1][bb];
        }
      }
    }
  });
}

// Calls f(n0, nb, V, M) for consecutive chunks of images, V [16][Ci][nb·per_image] and
// M [16][Co][nb·per_image] the calling thread's buffers.
template <class F>
void for_each_chunk_of_images(const Conv2dGeometry& g, const Tiling& tl, int64_t chunk, F&& f) {
  const int64_t nb_max = chunk_images(g, chunk), T = nb_max * tl.per_image();
  real* V = thread_scratch(Scratch::kWinogradV, kXi * xi_stride(g.in_channels * T));
  real* M = thread_scratch(Scratch::kWinogradM, kXi * xi_stride(g.out_channels * T));
  for (int64_t n0 = 0; n0 < g.batch; n0 += nb_max) f(n0, std::min(nb_max, g.batch - n0), V, M);
}

// Runs f(ξ) for the 16 positions of the transformed tile, spread over the threads.
template <class F>
void for_each_xi(F&& f) {
#pragma omp parallel for schedule(dynamic, 1) if (split(kXi))
  for (int xi = 0; xi < kXi; ++xi) f(xi);
}

}  // namespace

bool winograd_applies(const Conv2dGeometry& g) {
  return g.groups == 1 && g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1 &&
         g.pad_h <= 2 && g.pad_w <= 2 && g.out_h == g.in_h + 2 * g.pad_h - 2 && g.out_w == g.in_w + 2 * g.pad_w - 2 &&
         g.out_h > 0 && g.out_w > 0;
}

bool winograd_image_fits_chunk(const Conv2dGeometry& g) {
  return values_per_image(g) <= kWinogradChunkValues;
}

void conv2d_forward_winograd(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y, bool relu,
                             const real* residual, int64_t chunk) {
  const Tiling tl(g);
  const int64_t Co = g.out_channels, Ci = g.in_channels;
  const int64_t su = xi_stride(Co * Ci);
  real* U = thread_scratch(Scratch::kWinogradU, kXi * su);
  weight_transform(g, w, U);
  for_each_chunk_of_images(g, tl, chunk, [&](int64_t n0, int64_t nb, real* V, real* M) {
    const int64_t T = nb * tl.per_image();
    input_transform(g, tl, x, n0, nb, V);
    for_each_xi([&](int xi) {
      gemm(false, false, Co, T, Ci, U + xi * su, V + xi * xi_stride(Ci * T), 0, M + xi * xi_stride(Co * T));
    });
    output_transform(g, tl, M, n0, nb, b, y, relu, residual);
  });
}

void conv2d_backward_input_winograd(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add,
                                    int64_t chunk) {
  const Tiling tl(g);
  const int64_t Co = g.out_channels, Ci = g.in_channels;
  const int64_t su = xi_stride(Co * Ci);
  real* U = thread_scratch(Scratch::kWinogradU, kXi * su);
  weight_transform(g, w, U);
  for_each_chunk_of_images(g, tl, chunk, [&](int64_t n0, int64_t nb, real* dV, real* dM) {
    const int64_t T = nb * tl.per_image();
    output_transform_adjoint(g, tl, dy, n0, nb, dM);
    for_each_xi([&](int xi) {
      gemm(true, false, Ci, T, Co, U + xi * su, dM + xi * xi_stride(Co * T), 0, dV + xi * xi_stride(Ci * T));
    });
    input_transform_adjoint(g, tl, dV, n0, nb, dx, add);
  });
}

void conv2d_backward_weight_winograd(const Conv2dGeometry& g, const real* x, const real* dy, real* dw,
                                     int64_t chunk) {
  const Tiling tl(g);
  const int64_t Co = g.out_channels, Ci = g.in_channels;
  const int64_t su = xi_stride(Co * Ci);
  real* dU = thread_scratch(Scratch::kWinogradU, kXi * su);
  bool first = true;
  for_each_chunk_of_images(g, tl, chunk, [&](int64_t n0, int64_t nb, real* V, real* dM) {
    const int64_t T = nb * tl.per_image();
    input_transform(g, tl, x, n0, nb, V);
    output_transform_adjoint(g, tl, dy, n0, nb, dM);
    const real beta = first ? real(0) : real(1);
    for_each_xi([&](int xi) {
      gemm(false, true, Co, Ci, T, dM + xi * xi_stride(Co * T), V + xi * xi_stride(Ci * T), beta, dU + xi * su);
    });
    first = false;
  });
  weight_transform_adjoint(g, dU, dw);
}

}  // namespace st
