// The public convolution entry points (conv.h): each asks conv_paths.h which family of kernels
// takes the geometry and calls it. The register-tile kernels are in conv_forward.cpp,
// conv_input_gradient.cpp and conv_weight_gradient.cpp.
#include "core/kernels/conv.h"

#include <omp.h>

#include <Eigen/Core>

#include "core/kernels/conv_forward.h"
#include "core/kernels/conv_gemm.h"
#include "core/kernels/conv_input_gradient.h"
#include "core/kernels/conv_paths.h"
#include "core/kernels/conv_weight_gradient.h"
#include "core/kernels/conv_winograd.h"

namespace st {

using namespace conv_detail;

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
  switch (conv_family(g)) {
    case ConvFamily::kWinograd:
      return conv2d_forward_winograd(g, x, w, b, y, relu, residual);
    case ConvFamily::kBatchedGemm:
      return conv2d_forward_gemm(g, x, w, b, y, relu, /*chunk=*/0, residual);
    case ConvFamily::kTiles:
      return conv2d_forward_tiles(g, x, pack_tile_weights(g, w), b, y, /*accumulate=*/false, relu, residual);
  }
}

void conv2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add) {
  switch (conv_family(g)) {
    case ConvFamily::kWinograd:
      return conv2d_backward_input_winograd(g, dy, w, dx, add);
    case ConvFamily::kBatchedGemm:
      return conv2d_backward_input_gemm(g, dy, w, dx, add);
    case ConvFamily::kTiles:
      return conv2d_backward_input_tiles(g, dy, w, dx, add);
  }
}

void conv2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  switch (conv_family(g)) {
    case ConvFamily::kWinograd:
      return conv2d_backward_weight_winograd(g, x, dy, dw);
    case ConvFamily::kBatchedGemm:
      return conv2d_backward_weight_gemm(g, x, dy, dw);
    case ConvFamily::kTiles:
      return conv2d_backward_weight_tiles(g, x, dy, dw);
  }
}

void conv_bias_backward(const real* dy, int64_t batch, int64_t channels, int64_t plane, real* db) {
  using Vec = Eigen::Matrix<real, Eigen::Dynamic, 1>;
  // One channel per iteration: each db[c] is written by one thread, summing its images in order.
#pragma omp parallel for schedule(static) if (batch * channels * plane > kParallelCopyValues && !omp_in_parallel())
  for (int64_t c = 0; c < channels; ++c) {
    real s = 0;
    for (int64_t n = 0; n < batch; ++n) s += Eigen::Map<const Vec>(dy + (n * channels + c) * plane, plane).sum();
    db[c] += s;
  }
}

// The transposed conv's forward and input gradient run on the register tiles whatever the
// geometry (conv_family is not asked), its weight gradient through conv2d_backward_weight.
void conv_transpose2d_forward(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y) {
  const int64_t y_size = g.batch * g.in_channels * g.in_plane();
  conv2d_backward_input_tiles(g, x, w, y, /*accumulate=*/false);  // writes y without reading it first
  if (!b) return;
  const int64_t P = g.in_plane();
#pragma omp parallel for schedule(static) if (y_size > kParallelCopyValues && !omp_in_parallel())
  for (int64_t nc = 0; nc < g.batch * g.in_channels; ++nc) {
    real* row = y + nc * P;
    const real bc = b[nc % g.in_channels];
    for (int64_t p = 0; p < P; ++p) row[p] += bc;
  }
}

void conv_transpose2d_backward_input(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add) {
  conv2d_forward_tiles(g, dy, pack_tile_weights(g, w), nullptr, dx, add);
}

void conv_transpose2d_backward_weight(const Conv2dGeometry& g, const real* x, const real* dy, real* dw) {
  conv2d_backward_weight(g, dy, x, dw);
}

}  // namespace st
