#include "core/kernels/pool.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/kernels/parallel.h"

namespace st {

namespace {

using Vec = Eigen::Matrix<real, Eigen::Dynamic, 1>;

// Planes per thread chunk: enough that each chunk does ~16K element visits.
inline int64_t plane_grain(int64_t work_per_plane) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work_per_plane)); }

// Window of output (oh, ow) clipped to [0, limit) on each axis.
struct Window {
  int64_t h0, h1, w0, w1;
};
inline Window window(const PoolGeometry& g, int64_t oh, int64_t ow, int64_t limit_h, int64_t limit_w, int64_t lo_h,
                     int64_t lo_w) {
  const int64_t hs = oh * g.stride_h - g.pad_h, ws = ow * g.stride_w - g.pad_w;
  return {std::max(hs, lo_h), std::min(hs + g.kernel_h, limit_h), std::max(ws, lo_w),
          std::min(ws + g.kernel_w, limit_w)};
}

// The averaging divisor of window (oh, ow).
inline real avg_divisor(const PoolGeometry& g, bool count_include_pad, int64_t oh, int64_t ow) {
  const Window w = count_include_pad ? window(g, oh, ow, g.in_h + g.pad_h, g.in_w + g.pad_w, -g.pad_h, -g.pad_w)
                                     : window(g, oh, ow, g.in_h, g.in_w, 0, 0);
  return static_cast<real>((w.h1 - w.h0) * (w.w1 - w.w0));
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool ceil_mode) {
  const int64_t span = in + 2 * pad - kernel;
  if (span < 0 || stride < 1) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

namespace {

// Output row oh of one plane for the outputs ow in [ow0, ow1), whose windows' columns all lie inside
// the image; rows are clipped to [h0, h1). The window's elements are visited in the reference's
// order (row-major: the first maximum wins, and so does a NaN), each for the whole row of outputs
// at once, so that the inner loop runs along the row in SIMD lanes, without branches (the
// comparisons of pooled ReLU outputs are unpredictable). y_row and argmax_row hold the running
// maxima and their indices.
template <bool ARGMAX>
void max_pool_row_inside(const PoolGeometry& g, const real* xp, int64_t h0, int64_t h1, int64_t ow0, int64_t ow1,
                         real* y_row, int32_t* argmax_row) {
  const int64_t sw = g.stride_w;
  for (int64_t ow = ow0; ow < ow1; ++ow) {
    y_row[ow] = -std::numeric_limits<real>::infinity();
    if (ARGMAX) argmax_row[ow] = static_cast<int32_t>(h0 * g.in_w + ow * sw - g.pad_w);
  }
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t base = ih * g.in_w + j - g.pad_w;  // + ow * sw: the element of output ow
      const real* xr = xp + base;
#pragma omp simd
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const real v = xr[ow * sw];
        const bool take = v > y_row[ow] || v != v;
        y_row[ow] = take ? v : y_row[ow];
        if (ARGMAX) argmax_row[ow] = take ? static_cast<int32_t>(base + ow * sw) : argmax_row[ow];
      }
    }
}

// Output (oh, ow) of one plane, its window clipped to the image.
void max_pool_clipped(const PoolGeometry& g, const real* xp, int64_t oh, int64_t ow, real* y, int32_t* argmax) {
  const Window w = window(g, oh, ow, g.in_h, g.in_w, 0, 0);
  real best = -std::numeric_limits<real>::infinity();
  int64_t best_i = w.h0 * g.in_w + w.w0;
  for (int64_t ih = w.h0; ih < w.h1; ++ih)
    for (int64_t iw = w.w0; iw < w.w1; ++iw) {
      const real v = xp[ih * g.in_w + iw];
      if (v > best || std::isnan(v)) best = v, best_i = ih * g.in_w + iw;
    }
  *y = best;
  if (argmax) *argmax = static_cast<int32_t>(best_i);
}

}  // namespace

void max_pool2d_forward(const PoolGeometry& g, const real* x, real* y, int32_t* argmax) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  // The outputs whose windows' columns lie inside the image: ow in [ow_lo, ow_hi).
  const int64_t ow_lo = std::min(g.out_w, (g.pad_w + g.stride_w - 1) / g.stride_w);
  const int64_t span = g.in_w + g.pad_w - g.kernel_w;
  const int64_t ow_hi = span < 0 ? ow_lo : std::max(ow_lo, std::min(g.out_w, span / g.stride_w + 1));
  parallel_for(g.planes, plane_grain(out_plane * g.kernel_h * g.kernel_w), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const real* xp = x + p * in_plane;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const int64_t o = p * out_plane + oh * g.out_w;
        const int64_t hs = oh * g.stride_h - g.pad_h;
        const int64_t h0 = std::max<int64_t>(hs, 0), h1 = std::min(hs + g.kernel_h, g.in_h);
        if (argmax)
          max_pool_row_inside<true>(g, xp, h0, h1, ow_lo, ow_hi, y + o, argmax + o);
        else
          max_pool_row_inside<false>(g, xp, h0, h1, ow_lo, ow_hi, y + o, nullptr);
        // The windows clipped at the left and right edges, one at a time.
        for (int64_t ow = 0; ow < ow_lo; ++ow)
          max_pool_clipped(g, xp, oh, ow, y + o + ow, argmax ? argmax + o + ow : nullptr);
        for (int64_t ow = ow_hi; ow < g.out_w; ++ow)
          max_pool_clipped(g, xp, oh, ow, y + o + ow, argmax ? argmax + o + ow : nullptr);
      }
    }
  });
}

void max_pool2d_backward(const PoolGeometry& g, const real* dy, const int32_t* argmax, real* dx, bool add) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  parallel_for(g.planes, plane_grain(out_plane), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      real* dxp = dx + p * in_plane;
      // Zeroed plane by plane, just before its scatter, while it stays in cache (ResNet-18's
      // gradient is 51 MB: zeroing it all first was a pass of its own through memory).
      if (!add) std::fill(dxp, dxp + in_plane, real(0));
      for (int64_t o = p * out_plane; o < (p + 1) * out_plane; ++o) dxp[argmax[o]] += dy[o];
    }
  });
}

void avg_pool2d_forward(const PoolGeometry& g, bool count_include_pad, const real* x, real* y) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  parallel_for(g.planes, plane_grain(out_plane * g.kernel_h * g.kernel_w), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const real* xp = x + p * in_plane;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const Window w = window(g, oh, ow, g.in_h, g.in_w, 0, 0);
          real s = 0;
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) s += xp[ih * g.in_w + iw];
          y[p * out_plane + oh * g.out_w + ow] = s / avg_divisor(g, count_include_pad, oh, ow);
        }
    }
  });
}

void avg_pool2d_backward(const PoolGeometry& g, bool count_include_pad, const real* dy, real* dx) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  parallel_for(g.planes, plane_grain(out_plane * g.kernel_h * g.kernel_w), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      real* dxp = dx + p * in_plane;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const Window w = window(g, oh, ow, g.in_h, g.in_w, 0, 0);
          const real d = dy[p * out_plane + oh * g.out_w + ow] / avg_divisor(g, count_include_pad, oh, ow);
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) dxp[ih * g.in_w + iw] += d;
        }
    }
  });
}

void global_avg_pool2d_forward(int64_t planes, int64_t plane_size, const real* x, real* y) {
  const real inv = real(1) / static_cast<real>(plane_size);
  parallel_for(planes, plane_grain(plane_size), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) y[p] = Eigen::Map<const Vec>(x + p * plane_size, plane_size).sum() * inv;
  });
}

void global_avg_pool2d_backward(int64_t planes, int64_t plane_size, const real* dy, real* dx) {
  const real inv = real(1) / static_cast<real>(plane_size);
  parallel_for(planes, plane_grain(plane_size), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      Eigen::Map<Vec>(dx + p * plane_size, plane_size).array() += dy[p] * inv;
  });
}

}  // namespace st
