// st_bench_conv: times the ResNet-20 and VGG-7 (CIFAR, batch 128) and ResNet-18 (ImageNet, batch 16)
// convolutions, forward and forward+backward, and prints one JSON line per shape.
//
//   st_bench_conv [--case NAME|all] [--runs N] [--breakdown]
//
// No case has a bias (a batch norm follows each conv in both networks); x and the weight both
// require grad and the backward is seeded with ones. Cases (NAME: x -> y, kernel):
//   conv1       [128,3,32,32]  -> [128,16,32,32], 3x3 stride 1 pad 1  (the first conv)
//   s1_16       [128,16,32,32] -> [128,16,32,32], 3x3 stride 1 pad 1  (stage 1)
//   s1_32       [128,32,16,16] -> [128,32,16,16], 3x3 stride 1 pad 1  (stage 2)
//   s1_64       [128,64,8,8]   -> [128,64,8,8],   3x3 stride 1 pad 1  (stage 3)
//   s2_16_32    [128,16,32,32] -> [128,32,16,16], 3x3 stride 2 pad 1  (stage 1 -> 2)
//   s2_32_64    [128,32,16,16] -> [128,64,8,8],   3x3 stride 2 pad 1  (stage 2 -> 3)
//   proj_16_32  [128,16,32,32] -> [128,32,16,16], 1x1 stride 2 pad 0  (projection shortcut)
//   proj_32_64  [128,32,16,16] -> [128,64,8,8],   1x1 stride 2 pad 0
//   r18_conv1   [16,3,224,224] -> [16,64,112,112], 7x7 stride 2 pad 3 (ResNet-18's stem)
//   r18_64      [16,64,56,56]  -> [16,64,56,56],   3x3 stride 1 pad 1 (layer1)
//   r18_64_128  [16,64,56,56]  -> [16,128,28,28],  3x3 stride 2 pad 1 (layer2's first conv)
//   r18_128     [16,128,28,28] -> [16,128,28,28],  3x3 stride 1 pad 1 (layer2)
//   r18_128_256 [16,128,28,28] -> [16,256,14,14],  3x3 stride 2 pad 1
//   r18_256     [16,256,14,14] -> [16,256,14,14],  3x3 stride 1 pad 1 (layer3)
//   r18_256_512 [16,256,14,14] -> [16,512,7,7],    3x3 stride 2 pad 1
//   r18_512     [16,512,7,7]   -> [16,512,7,7],    3x3 stride 1 pad 1 (layer4)
//   r18_ds_128, r18_ds_256, r18_ds_512: the 1x1 stride-2 downsample shortcuts into layers 2-4
//   vgg_128     [128,128,32,32] -> [128,128,32,32], 3x3 stride 1 pad 1 (VGG-7's second conv)
//   vgg_256     [128,256,16,16] -> [128,256,16,16], 3x3 stride 1 pad 1 (its fourth)
//   vgg_256_512 [128,256,8,8]   -> [128,512,8,8],   3x3 stride 1 pad 1 (its fifth)
//   vgg_512     [128,512,8,8]   -> [128,512,8,8],   3x3 stride 1 pad 1 (its sixth)
// Before timing, each case checks the kernels (forward, input and weight gradients) on the first
// 8 images against the naive direct loops of core/kernels/conv_reference.h, as do twelve small
// irregular shapes that reach the kernels' other paths; the program exits non-zero on a mismatch. Each measurement is the median (and the minimum) of --runs runs
// (default 30) after 3 warm-ups; on a busy machine the minimum is the steadier of the two.
//
// --breakdown adds, per case, the time of each kernel called on its own through core/kernels/conv.h
// (forward, input gradient, weight gradient, bias gradient), of the kernels' data-movement stages
// (shifted_image and its adjoint shifted_image_add, core/kernels/im2col.h; the rest of a kernel is
// its GEMM), and of the stages of the previous im2col + Eigen GEMM implementation (im2col, the
// three GEMMs, col2im), which remain as building blocks, so that before and after can be compared
// stage by stage. Every stage runs over the batch on all threads with per-thread buffers.
//
// FLOPs: forward F = 2*N*C_out*H_out*W_out*C_in*k*k; backward (input and weight gradients) 2F;
// so GFLOP/s of forward+backward is 3F / time. Threads: OpenMP's default (set OMP_NUM_THREADS).
// tools/bench_conv_torch.py measures the same cases in PyTorch; bench/compare_conv.sh runs both.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/kernels/conv_reference.h"
#include "core/kernels/gemm.h"
#include "core/kernels/im2col.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/tuned_environment.h"

using namespace st;

namespace {

struct Case {
  const char* name;
  int64_t batch, c_in, h, w, c_out, k, stride, pad;
};

const Case kCases[] = {
    {"conv1", 128, 3, 32, 32, 16, 3, 1, 1},          {"s1_16", 128, 16, 32, 32, 16, 3, 1, 1},
    {"s1_32", 128, 32, 16, 16, 32, 3, 1, 1},         {"s1_64", 128, 64, 8, 8, 64, 3, 1, 1},
    {"s2_16_32", 128, 16, 32, 32, 32, 3, 2, 1},      {"s2_32_64", 128, 32, 16, 16, 64, 3, 2, 1},
    {"proj_16_32", 128, 16, 32, 32, 32, 1, 2, 0},    {"proj_32_64", 128, 32, 16, 16, 64, 1, 2, 0},
    {"r18_conv1", 16, 3, 224, 224, 64, 7, 2, 3},     {"r18_64", 16, 64, 56, 56, 64, 3, 1, 1},
    {"r18_64_128", 16, 64, 56, 56, 128, 3, 2, 1},    {"r18_128", 16, 128, 28, 28, 128, 3, 1, 1},
    {"r18_128_256", 16, 128, 28, 28, 256, 3, 2, 1},  {"r18_256", 16, 256, 14, 14, 256, 3, 1, 1},
    {"r18_256_512", 16, 256, 14, 14, 512, 3, 2, 1},  {"r18_512", 16, 512, 7, 7, 512, 3, 1, 1},
    {"r18_ds_128", 16, 64, 56, 56, 128, 1, 2, 0},    {"r18_ds_256", 16, 128, 28, 28, 256, 1, 2, 0},
    {"r18_ds_512", 16, 256, 14, 14, 512, 1, 2, 0},
    {"vgg_128", 128, 128, 32, 32, 128, 3, 1, 1},     {"vgg_256", 128, 256, 16, 16, 256, 3, 1, 1},
    {"vgg_256_512", 128, 256, 8, 8, 512, 3, 1, 1},   {"vgg_512", 128, 512, 8, 8, 512, 3, 1, 1},
};

constexpr int WARMUP = 3;
int g_runs = 30;

// Wall time (median and minimum) and the median CPU time of the whole process, all threads: with
// OMP_WAIT_POLICY=passive (no spinning at barriers) the CPU time is the work done, which other
// processes competing for the cores disturb far less than the wall time.
struct Timing {
  double median, min, cpu;
};

double cpu_now_ms() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

Timing time_ms(const std::function<void()>& f) {
  for (int i = 0; i < WARMUP; ++i) f();
  std::vector<double> ms, cpu;
  for (int i = 0; i < g_runs; ++i) {
    const double c0 = cpu_now_ms();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(cpu_now_ms() - c0);
  }
  return {median_of(ms), *std::min_element(ms.begin(), ms.end()), median_of(cpu)};
}

Conv2dGeometry geometry(const Case& c, int64_t batch) {
  Conv2dGeometry g;
  g.batch = batch, g.in_channels = c.c_in, g.in_h = c.h, g.in_w = c.w;
  g.out_channels = c.c_out, g.kernel_h = g.kernel_w = c.k;
  g.stride_h = g.stride_w = c.stride, g.pad_h = g.pad_w = c.pad;
  g.out_h = (c.h + 2 * c.pad - c.k) / c.stride + 1;
  g.out_w = (c.w + 2 * c.pad - c.k) / c.stride + 1;
  return g;
}

// Normwise: max |a - ref| <= 1e-5 * max(1, max |ref|) (sums of up to a few thousand products).
bool close(const char* what, const Case& c, const std::vector<real>& a, const std::vector<real>& ref) {
  double err = 0, scale = 1;
  for (size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::fabs(double(a[i]) - ref[i]));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  if (err <= 1e-5 * scale) return true;
  std::fprintf(stderr, "%s: %s differs from the direct loop: max |error| %g (max |ref| %g)\n", c.name, what, err,
               scale);
  return false;
}

// The kernels of geometry g on inputs x and w against conv2d_reference / conv2d_backward_reference.
bool check_geometry(const char* name, const Conv2dGeometry& g, const real* x, const real* w) {
  const int64_t x_size = g.batch * g.in_channels * g.in_plane(), y_size = g.batch * g.out_channels * g.out_plane();
  const int64_t w_size = g.out_channels * g.patch_size();
  Generator gen(7);
  const Tensor dy = rand_normal({y_size}, gen);
  std::vector<real> y(y_size), y_ref(y_size), dx(x_size, 0), dx_ref(x_size), dw(w_size, 0), dw_ref(w_size);
  conv2d_forward(g, x, w, nullptr, y.data());
  conv2d_backward_input(g, dy.data(), w, dx.data());
  conv2d_backward_weight(g, x, dy.data(), dw.data());
  conv2d_reference(g, x, w, nullptr, y_ref.data());
  conv2d_backward_reference(g, x, w, dy.data(), dx_ref.data(), dw_ref.data(), nullptr);
  const Case c{name, 0, 0, 0, 0, 0, 0, 0, 0};
  return close("forward", c, y, y_ref) && close("input gradient", c, dx, dx_ref) &&
         close("weight gradient", c, dw, dw_ref);
}

// Irregular shapes that reach the kernels' other paths and edge cases (partial panels and row
// blocks, groups, padding 0 and 2, strides 2 and 3, wide rows, a batch of one split over the
// threads), checked once before any timing.
bool check_irregular() {
  struct Irregular {
    const char* name;
    int64_t n, c_in, h, w, c_out, k, stride, pad, groups;
  };
  const Irregular shapes[] = {
      {"irregular s2 9x11", 3, 16, 9, 11, 24, 3, 2, 1, 1},     {"irregular s1 7x7 Ci 8", 3, 8, 7, 7, 8, 3, 1, 1, 1},
      {"irregular s1 pad 2", 5, 16, 10, 6, 16, 3, 1, 2, 1},    {"irregular s1 pad 0", 3, 16, 9, 7, 20, 3, 1, 0, 1},
      {"irregular k5 s2 groups 2", 2, 16, 13, 13, 32, 5, 2, 2, 2}, {"irregular 1x1 s2", 3, 24, 9, 9, 16, 1, 2, 0, 1},
      {"irregular s3 wide", 2, 16, 7, 50, 16, 3, 3, 1, 1},     {"irregular s2 wide", 2, 16, 8, 40, 16, 3, 2, 1, 1},
      {"irregular Ci 3", 3, 3, 11, 13, 16, 3, 1, 1, 1},        {"irregular s1 groups 4", 2, 32, 6, 10, 32, 3, 1, 1, 4},
      {"irregular batch 1", 1, 32, 19, 21, 24, 3, 1, 1, 1},   {"irregular batch 1 s2", 1, 32, 24, 20, 32, 3, 2, 1, 1},
  };
  for (const Irregular& s : shapes) {
    Conv2dGeometry g;
    g.batch = s.n, g.in_channels = s.c_in, g.in_h = s.h, g.in_w = s.w;
    g.out_channels = s.c_out, g.kernel_h = g.kernel_w = s.k;
    g.stride_h = g.stride_w = s.stride, g.pad_h = g.pad_w = s.pad, g.groups = s.groups;
    g.out_h = (s.h + 2 * s.pad - s.k) / s.stride + 1;
    g.out_w = (s.w + 2 * s.pad - s.k) / s.stride + 1;
    Generator gen(11);
    const Tensor x = rand_normal({g.batch * g.in_channels * g.in_plane()}, gen);
    const Tensor w = rand_normal({g.out_channels * g.patch_size()}, gen);
    if (!check_geometry(s.name, g, x.data(), w.data())) return false;
  }
  return true;
}

// The kernels on the first 8 images (4 for batch 16) against conv2d_reference / conv2d_backward_reference.
bool check(const Case& c, const Tensor& x, const Tensor& w) {
  return check_geometry(c.name, geometry(c, std::min<int64_t>(8, c.batch / 4)), x.data(), w.data());
}

void print_timing(const char* key, const Timing& t, bool last = false) {
  std::printf("\"%s\": %.3f, \"%s_min\": %.3f, \"%s_cpu\": %.3f%s", key, t.median, key, t.min, key, t.cpu,
              last ? "" : ", ");
}

// Calls f(n, buf) for every image on all threads (static chunks), buf a per-thread scratch buffer.
template <class F>
void over_batch(int64_t batch, int64_t col_size, F&& f) {
#pragma omp parallel
  {
    std::vector<real> col(col_size);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < batch; ++n) f(n, col.data());
  }
}

// The breakdown (see the file comment). Every stage runs over the batch on all threads, with
// per-thread buffers, as the kernels run it.
void breakdown(const Case& c, const Tensor& x, const Tensor& w) {
  const int64_t N = c.batch;
  const Conv2dGeometry g = geometry(c, N);
  const PatchGeometry patch = g.patch();
  const int64_t Co = g.out_channels, K = g.patch_size(), P = g.out_plane();
  const int64_t x_image = g.in_channels * g.in_plane(), y_image = Co * P;
  const int64_t s_size = ShiftedLayout(patch).size(g.kernel_w);
  std::vector<real> y(N * y_image), dx(N * x_image, 0), dw(Co * K, 0), db(Co, 0);
  Generator gen(7);
  const Tensor dy = rand_normal({N * y_image}, gen);

  std::printf("{\"case\": \"%s\", \"breakdown\": {", c.name);
  // The kernels.
  print_timing("k_forward", time_ms([&] { conv2d_forward(g, x.data(), w.data(), nullptr, y.data()); }));
  print_timing("k_backward_input", time_ms([&] { conv2d_backward_input(g, dy.data(), w.data(), dx.data()); }));
  print_timing("k_backward_weight", time_ms([&] { conv2d_backward_weight(g, x.data(), dy.data(), dw.data()); }));
  print_timing("k_bias", time_ms([&] { conv_bias_backward(dy.data(), N, Co, P, db.data()); }));
  // Their data-movement stages: the shifted image (forward, weight gradient; the stride-1 input
  // gradient builds it of dy) and its adjoint (the input gradient for other strides); the rest of
  // each kernel is its register-tile GEMM.
  print_timing("shifted_image", time_ms([&] {
                 over_batch(N, s_size, [&](int64_t n, real* s) { shifted_image(patch, x.data() + n * x_image, s); });
               }));
  print_timing("shifted_image_add", time_ms([&] {
                 over_batch(N, s_size, [&](int64_t n, real* s) { shifted_image_add(patch, s, dx.data() + n * x_image); });
               }));
  // The previous implementation (im2col + Eigen GEMM per image, col2im), stage by stage, each
  // stage reading or writing a per-thread column buffer that stays in cache as it did there.
  print_timing("old_im2col", time_ms([&] {
                 over_batch(N, K * P, [&](int64_t n, real* col) { im2col(patch, x.data() + n * x_image, col); });
               }));
  // y_n [Co, P] = w [Co, K] · col [K, P]
  print_timing("old_gemm_forward", time_ms([&] {
                 over_batch(N, K * P, [&](int64_t n, real* col) {
                   gemm(false, false, Co, P, K, w.data(), col, 0, y.data() + n * y_image);
                 });
               }));
  // col [K, P] = w^T · dy_n
  print_timing("old_gemm_backward_input", time_ms([&] {
                 over_batch(N, K * P, [&](int64_t n, real* col) {
                   gemm(true, false, K, P, Co, w.data(), dy.data() + n * y_image, 0, col);
                 });
               }));
  print_timing("old_col2im", time_ms([&] {
                 over_batch(N, K * P, [&](int64_t n, real* col) { col2im(patch, col, dx.data() + n * x_image); });
               }));
  // acc [Co, K] += dy_n [Co, P] · col^T (one accumulator per thread, at the end of its buffer)
  print_timing("old_gemm_backward_weight",
               time_ms([&] {
                 over_batch(N, K * P + Co * K, [&](int64_t n, real* col) {
                   gemm(false, true, Co, K, P, dy.data() + n * y_image, col, 1, col + K * P);
                 });
               }),
               true);
  std::printf("}}\n");
}

int usage() {
  std::fprintf(stderr, "usage: st_bench_conv [--case NAME|all] [--runs N] [--breakdown]\n  cases:");
  for (const Case& c : kCases) std::fprintf(stderr, " %s", c.name);
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  static_assert(sizeof(real) == sizeof(float), "the benchmark is for the float build");
  reexec_with_tuned_environment(argv);  // as strassen does: the same OpenBLAS kernels and OpenMP waits
  std::string which = "all";
  bool with_breakdown = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--case" && i + 1 < argc)
      which = argv[++i];
    else if (a == "--runs" && i + 1 < argc)
      g_runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--breakdown")
      with_breakdown = true;
    else
      return usage();
  }

  if (!check_irregular()) return 1;
  bool found = false;
  for (const Case& c : kCases) {
    if (which != "all" && which != c.name) continue;
    found = true;
    const int64_t N = c.batch;
    Generator gen(42);
    Tensor x = rand_normal({N, c.c_in, c.h, c.w}, gen).set_requires_grad(true);
    Tensor w = rand_normal({c.c_out, c.c_in, c.k, c.k}, gen, 0, 1.0 / std::sqrt(double(c.c_in * c.k * c.k)))
                   .set_requires_grad(true);
    if (!check(c, x, w)) return 1;

    const Conv2dOptions opt = Conv2dOptions::make(c.stride, c.pad);
    const Conv2dGeometry g = geometry(c, N);
    const Tensor ones = Tensor::ones({N, c.c_out, g.out_h, g.out_w});
    const Timing fwd = time_ms([&] { conv2d(x, w, Tensor(), opt); });
    const Timing fwd_bwd = time_ms([&] {
      x.zero_grad();
      w.zero_grad();
      conv2d(x, w, Tensor(), opt).backward(ones);
    });
    const double flops_fwd = 2.0 * N * c.c_out * g.out_plane() * c.c_in * c.k * c.k;
    std::printf(
        "{\"impl\": \"strassennets\", \"case\": \"%s\", \"threads\": %d, \"x\": [%ld, %ld, %ld, %ld], "
        "\"weight\": [%ld, %ld, %ld, %ld], \"stride\": %ld, \"pad\": %ld, ",
        c.name, omp_get_max_threads(), long(N), long(c.c_in), long(c.h), long(c.w), long(c.c_out), long(c.c_in),
        long(c.k), long(c.k), long(c.stride), long(c.pad));
    print_timing("ms_fwd", fwd);
    print_timing("ms_fwd_bwd", fwd_bwd);
    std::printf("\"gflops_fwd\": %.2f, \"gflops_fwd_bwd\": %.2f}\n", flops_fwd / (fwd.median * 1e6),
                3 * flops_fwd / (fwd_bwd.median * 1e6));
    std::fflush(stdout);
    if (with_breakdown) breakdown(c, x, w);
    std::fflush(stdout);
  }
  if (!found) return usage();
  return 0;
}
