#include "core/kernels/conv_gemm.h"

#include <omp.h>

#include <algorithm>

#include "core/kernels/conv_paths.h"
#include "core/kernels/gemm.h"
#include "core/kernels/im2col.h"
#include "core/kernels/scratch.h"

namespace st {

namespace {

using conv_detail::kGemmColumnValues;
using conv_detail::kParallelCopyValues;

// Images per chunk: the caller's choice, or as many as col's budget (conv_paths.h) allows; at
// least one.
int64_t chunk_images(const Conv2dGeometry& g, int64_t chunk) {
  if (chunk <= 0) chunk = kGemmColumnValues / std::max<int64_t>(1, g.patch_size() * g.out_plane());
  return std::max<int64_t>(1, std::min(g.batch, chunk));
}

// col [K, nb*P] = im2col of images n0 .. n0+nb-1 side by side.
void batched_im2col(const Conv2dGeometry& g, const real* x, int64_t n0, int64_t nb, real* col) {
  const PatchGeometry patch = g.patch();
  const int64_t x_image = g.in_channels * g.in_plane(), P = g.out_plane();
#pragma omp parallel for schedule(static) if (nb > 1 && !omp_in_parallel())
  for (int64_t i = 0; i < nb; ++i) im2col(patch, x + (n0 + i) * x_image, col + i * P, nb * P);
}

// m [C, nb*P] <-> t (NCHW, images n0 .. n0+nb-1, C channels of P positions).
void gather_planes(const real* t, int64_t C, int64_t P, int64_t n0, int64_t nb, real* m) {
#pragma omp parallel for schedule(static) if (C * nb * P > kParallelCopyValues && !omp_in_parallel())
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < nb; ++i) std::copy_n(t + ((n0 + i) * C + c) * P, P, m + (c * nb + i) * P);
}

// Calls f(n0, nb, col, m) for consecutive chunks of nb images starting at n0, with col [K, nb*P]
// and m [Co, nb*P] the calling thread's buffers.
template <class F>
void for_each_image_chunk(const Conv2dGeometry& g, int64_t chunk, F&& f) {
  const int64_t nb_max = chunk_images(g, chunk), cols = nb_max * g.out_plane();
  real* col = thread_scratch(Scratch::kGemmColumns, g.patch_size() * cols);
  real* m = thread_scratch(Scratch::kGemmPlanes, g.out_channels * cols);
  for (int64_t n0 = 0; n0 < g.batch; n0 += nb_max) f(n0, std::min(nb_max, g.batch - n0), col, m);
}

}  // namespace

void conv2d_forward_gemm(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y, bool relu,
                         int64_t chunk, const real* residual) {
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane();
  for_each_image_chunk(g, chunk, [&](int64_t n0, int64_t nb, real* col, real* out) {
    batched_im2col(g, x, n0, nb, col);
    gemm(false, false, Co, nb * P, K, w, col, 0, out);
    // out [Co, nb*P] -> y, plus the bias and the residual, then the ReLU.
#pragma omp parallel for schedule(static) if (Co * nb * P > kParallelCopyValues && !omp_in_parallel())
    for (int64_t i = 0; i < nb; ++i)
      for (int64_t co = 0; co < Co; ++co) {
        const real* src = out + (co * nb + i) * P;
        real* dst = y + ((n0 + i) * Co + co) * P;
        const real* res = residual ? residual + ((n0 + i) * Co + co) * P : nullptr;
        const real bc = b ? b[co] : real(0);
        for (int64_t p = 0; p < P; ++p) {
          const real v = res ? src[p] + bc + res[p] : src[p] + bc;
          dst[p] = relu ? std::max(v, real(0)) : v;
        }
      }
  });
}

void conv2d_backward_input_gemm(const Conv2dGeometry& g, const real* dy, const real* w, real* dx, bool add,
                                int64_t chunk) {
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane();
  const int64_t x_image = g.in_channels * g.in_plane();
  const PatchGeometry patch = g.patch();
  if (!add) std::fill(dx, dx + g.batch * x_image, real(0));
  for_each_image_chunk(g, chunk, [&](int64_t n0, int64_t nb, real* col, real* dyc) {
    gather_planes(dy, Co, P, n0, nb, dyc);
    gemm(true, false, K, nb * P, Co, w, dyc, 0, col);
#pragma omp parallel for schedule(static) if (nb > 1 && !omp_in_parallel())
    for (int64_t i = 0; i < nb; ++i) col2im(patch, col + i * P, dx + (n0 + i) * x_image, nb * P);
  });
}

void conv2d_backward_weight_gemm(const Conv2dGeometry& g, const real* x, const real* dy, real* dw,
                                 int64_t chunk) {
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane();
  for_each_image_chunk(g, chunk, [&](int64_t n0, int64_t nb, real* col, real* dyc) {
    batched_im2col(g, x, n0, nb, col);
    gather_planes(dy, Co, P, n0, nb, dyc);
    gemm(false, true, Co, K, nb * P, dyc, col, 1, dw);
  });
}

}  // namespace st
