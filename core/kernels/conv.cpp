#include "core/kernels/conv.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "core/kernels/gemm.h"

namespace st {

namespace {

using Vec = Eigen::Matrix<real, Eigen::Dynamic, 1>;

// Split the batch over threads only when there is more than one image to share; a single image
// is better served by Eigen's own threading inside its GEMM.
inline bool batch_parallel(int64_t batch) { return batch > 1 && omp_get_max_threads() > 1 && !omp_in_parallel(); }

// Calls f(n, col) for every image n, where col is a scratch buffer of col_size elements owned by
// the calling thread (nullptr when col_size is 0).
template <class F>
void for_each_image(int64_t batch, int64_t col_size, F&& f) {
  if (!batch_parallel(batch)) {
    std::vector<real> col(col_size);
    for (int64_t n = 0; n < batch; ++n) f(n, col.data());
    return;
  }
#pragma omp parallel
  {
    std::vector<real> col(col_size);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < batch; ++n) f(n, col.data());
  }
}

// y (= or +=) conv2d(x, w) + b for every image.
void conv2d_forward_impl(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y,
                         bool accumulate) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  const bool pointwise = g.pointwise();
  const PatchGeometry patch = g.patch();
  for_each_image(g.batch, pointwise ? 0 : K * G * P, [&](int64_t n, real* col) {
    const real* xn = x + n * x_image;
    real* yn = y + n * y_image;
    // cols: [G*K, P], the im2col of image n (or the image itself for a pointwise conv).
    const real* cols = xn;
    if (!pointwise) {
      im2col(patch, xn, col);
      cols = col;
    }
    // The bias goes in first so that the GEMM can accumulate onto it.
    if (b) {
      for (int64_t c = 0; c < g.out_channels; ++c) {
        real* row = yn + c * P;
        if (accumulate)
          for (int64_t p = 0; p < P; ++p) row[p] += b[c];
        else
          std::fill(row, row + P, b[c]);
      }
    }
    const real beta = (b || accumulate) ? real(1) : real(0);
    for (int64_t gi = 0; gi < G; ++gi)
      gemm(false, false, Co, P, K, w + gi * Co * K, cols + gi * K * P, beta, yn + gi * Co * P);
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

void conv2d_forward(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y) {
  conv2d_forward_impl(g, x, w, b, y, /*accumulate=*/false);
}

void conv2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  const bool pointwise = g.pointwise();
  const PatchGeometry patch = g.patch();
  for_each_image(g.batch, pointwise ? 0 : K * G * P, [&](int64_t n, real* col) {
    const real* dyn = dy + n * y_image;
    real* dxn = dx + n * x_image;
    if (pointwise) {
      // dx_n is its own column matrix: accumulate the GEMM straight into it.
      for (int64_t gi = 0; gi < G; ++gi)
        gemm(true, false, K, P, Co, w + gi * Co * K, dyn + gi * Co * P, 1, dxn + gi * K * P);
      return;
    }
    // col [G*K, P] = w_g^T · dy_g per group, then scattered back onto the image.
    for (int64_t gi = 0; gi < G; ++gi)
      gemm(true, false, K, P, Co, w + gi * Co * K, dyn + gi * Co * P, 0, col + gi * K * P);
    col2im(patch, col, dxn);
  });
}

void conv2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  const int64_t G = g.groups, Co = g.group_out(), K = g.patch_size(), P = g.out_plane();
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = g.out_channels * P;
  const int64_t w_size = g.out_channels * K;
  const bool pointwise = g.pointwise();
  const PatchGeometry patch = g.patch();
  const int64_t col_size = pointwise ? 0 : K * G * P;

  // dw_acc += dy_n,g [Co, P] · cols_g^T [P, K] for one image.
  auto accumulate_image = [&](int64_t n, real* col, real* dw_acc) {
    const real* cols = x + n * x_image;
    if (!pointwise) {
      im2col(patch, cols, col);
      cols = col;
    }
    const real* dyn = dy + n * y_image;
    for (int64_t gi = 0; gi < G; ++gi)
      gemm(false, true, Co, K, P, dyn + gi * Co * P, cols + gi * K * P, 1, dw_acc + gi * Co * K);
  };

  if (!batch_parallel(g.batch)) {
    std::vector<real> col(col_size);
    for (int64_t n = 0; n < g.batch; ++n) accumulate_image(n, col.data(), dw);
    return;
  }
  // Thread 0 accumulates into dw itself; the others into private buffers added afterwards.
  std::vector<std::vector<real>> partial;
#pragma omp parallel
  {
    const int t = omp_get_thread_num();
#pragma omp single
    partial.resize(omp_get_num_threads());  // implicit barrier: every thread sees the resize
    real* acc = dw;
    if (t > 0) {
      partial[t].assign(w_size, real(0));
      acc = partial[t].data();
    }
    std::vector<real> col(col_size);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.batch; ++n) accumulate_image(n, col.data(), acc);
  }
  Eigen::Map<Vec> total(dw, w_size);
  for (size_t t = 1; t < partial.size(); ++t)
    if (!partial[t].empty()) total += Eigen::Map<const Vec>(partial[t].data(), w_size);
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
  std::fill(y, y + y_size, real(0));
  conv2d_backward_input(g, x, w, y);
  if (!b) return;
  const int64_t P = g.in_plane();
#pragma omp parallel for schedule(static) if (y_size > 32768 && !omp_in_parallel())
  for (int64_t nc = 0; nc < g.batch * g.in_channels; ++nc) {
    real* row = y + nc * P;
    const real bc = b[nc % g.in_channels];
    for (int64_t p = 0; p < P; ++p) row[p] += bc;
  }
}

void conv_transpose2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx) {
  conv2d_forward_impl(g, dy, w, nullptr, dx, /*accumulate=*/true);
}

void conv_transpose2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  conv2d_backward_weight(g, dy, x, dw);
}

}  // namespace st
