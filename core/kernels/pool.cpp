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

void max_pool2d_forward(const PoolGeometry& g, const real* x, real* y, int64_t* argmax) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  parallel_for(g.planes, plane_grain(out_plane * g.kernel_h * g.kernel_w), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const real* xp = x + p * in_plane;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const Window w = window(g, oh, ow, g.in_h, g.in_w, 0, 0);
          real best = -std::numeric_limits<real>::infinity();
          int64_t best_i = w.h0 * g.in_w + w.w0;
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) {
              const real v = xp[ih * g.in_w + iw];
              if (v > best || std::isnan(v)) best = v, best_i = ih * g.in_w + iw;
            }
          const int64_t o = p * out_plane + oh * g.out_w + ow;
          y[o] = best;
          if (argmax) argmax[o] = best_i;
        }
    }
  });
}

void max_pool2d_backward(const PoolGeometry& g, const real* dy, const int64_t* argmax, real* dx) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  parallel_for(g.planes, plane_grain(out_plane), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      real* dxp = dx + p * in_plane;
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
