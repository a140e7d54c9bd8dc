// st_bench_conv: times one 3x3 convolution, forward and forward+backward, and prints JSON.
//
// The op: x [128, 16, 32, 32] (requires grad), weight [16, 16, 3, 3] (requires grad), no bias,
// stride 1, padding 1 -> [128, 16, 32, 32]; backward seeded with ones. Before timing, the output
// is checked against the naive direct-loop kernel conv2d_reference (core/kernels/conv_reference.h),
// and the program exits non-zero on a mismatch. Each measurement is the median of 20 runs after 3 warm-ups.
//
// FLOPs: forward F = 2*N*C_out*H_out*W_out*C_in*k*k; backward (input and weight gradients) 2F;
// so GFLOP/s of forward+backward is 3F / time. Threads: OpenMP's default (set OMP_NUM_THREADS).
// tools/bench_conv_torch.py measures the same op in PyTorch; bench/compare_conv.sh runs both.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "core/autograd.h"
#include "core/kernels/conv_reference.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace st;

namespace {

constexpr int64_t N = 128, C_IN = 16, C_OUT = 16, H = 32, W = 32, K = 3, STRIDE = 1, PAD = 1;
constexpr int WARMUP = 3, RUNS = 20;

double median_ms(const std::function<void()>& f) {
  for (int i = 0; i < WARMUP; ++i) f();
  std::vector<double> ms;
  for (int i = 0; i < RUNS; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return (ms[RUNS / 2 - 1] + ms[RUNS / 2]) / 2;
}

}  // namespace

int main() {
  static_assert(sizeof(real) == sizeof(float), "the benchmark is for the float build");
  Generator gen(42);
  Tensor x = rand_normal({N, C_IN, H, W}, gen).set_requires_grad(true);
  Tensor w = rand_normal({C_OUT, C_IN, K, K}, gen, 0, 1.0 / std::sqrt(double(C_IN * K * K))).set_requires_grad(true);
  const Conv2dOptions opt = Conv2dOptions::make(STRIDE, PAD);
  const int64_t h_out = (H + 2 * PAD - K) / STRIDE + 1, w_out = (W + 2 * PAD - K) / STRIDE + 1;

  // Check before timing.
  double max_err = 0, max_ref = 0;
  {
    NoGradGuard ng;
    const Tensor out = conv2d(x, w, Tensor(), opt);
    if (out.shape() != Shape{N, C_OUT, h_out, w_out}) {
      std::fprintf(stderr, "conv2d output shape %s, expected [%ld, %ld, %ld, %ld]\n", shape_str(out.shape()).c_str(),
                   long(N), long(C_OUT), long(h_out), long(w_out));
      return 1;
    }
    Conv2dGeometry geo;
    geo.batch = N, geo.in_channels = C_IN, geo.in_h = H, geo.in_w = W;
    geo.out_channels = C_OUT, geo.kernel_h = geo.kernel_w = K;
    geo.stride_h = geo.stride_w = STRIDE, geo.pad_h = geo.pad_w = PAD;
    geo.out_h = h_out, geo.out_w = w_out;
    std::vector<real> ref(out.numel());
    conv2d_reference(geo, x.data(), w.data(), nullptr, ref.data());
    const float* o = out.data();
    for (size_t i = 0; i < ref.size(); ++i) {
      max_err = std::max(max_err, std::fabs(double(o[i]) - ref[i]));
      max_ref = std::max(max_ref, std::fabs(double(ref[i])));
    }
    if (!(max_err <= 1e-5 * std::max(1.0, max_ref))) {
      std::fprintf(stderr, "conv2d differs from the direct loop: max |error| %g (max |ref| %g)\n", max_err, max_ref);
      return 1;
    }
  }

  const Tensor ones = Tensor::ones({N, C_OUT, h_out, w_out});
  const double ms_fwd = median_ms([&] { conv2d(x, w, Tensor(), opt); });
  const double ms_fwd_bwd = median_ms([&] {
    x.zero_grad();
    w.zero_grad();
    conv2d(x, w, Tensor(), opt).backward(ones);
  });

  const double flops_fwd = 2.0 * N * C_OUT * h_out * w_out * C_IN * K * K;
  std::printf(
      "{\"impl\": \"strassennets\", \"threads\": %d, \"x\": [%ld, %ld, %ld, %ld], \"weight\": [%ld, %ld, %ld, %ld], "
      "\"stride\": %ld, \"pad\": %ld, \"check_max_abs_err\": %.3g, \"ms_fwd\": %.3f, \"ms_fwd_bwd\": %.3f, "
      "\"gflops_fwd\": %.2f, \"gflops_fwd_bwd\": %.2f}\n",
      omp_get_max_threads(), long(N), long(C_IN), long(H), long(W), long(C_OUT), long(C_IN), long(K), long(K),
      long(STRIDE), long(PAD), max_err, ms_fwd, ms_fwd_bwd, flops_fwd / (ms_fwd * 1e6),
      3 * flops_fwd / (ms_fwd_bwd * 1e6));
  return 0;
}
