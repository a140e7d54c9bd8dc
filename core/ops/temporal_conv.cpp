#include "core/ops/temporal_conv.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/gemm.h"
#include "core/kernels/parallel.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

struct Geometry {
  int64_t N, L, E, F, w;
  int64_t positions() const { return L - w + 1; }  // P: windows per word
  int64_t window() const { return w * E; }         // K: values per window
};

// Words per GEMM block: about this many windows, so that a block's windows [rows, K] and
// responses [rows, F] stay within L2 for the widths and filter counts of Kim et al.'s models.
constexpr int64_t kBlockWindows = 512;

// Words [n0, n1): y[n, f] = max_t z[n, t, f] with z = windows · weight^T, and arg[n, f] the first
// t reaching it. cols [(n1 − n0)·P, K] and z [(n1 − n0)·P, F] are scratch.
void forward_block(const Geometry& g, const real* x, const real* weight, int64_t n0, int64_t n1, real* cols, real* z,
                   real* y, int32_t* arg) {
  const int64_t P = g.positions(), K = g.window(), F = g.F;
  // A window of word n at position t is the K values of x from (n·L + t)·E on.
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t t = 0; t < P; ++t)
      std::memcpy(cols + ((n - n0) * P + t) * K, x + (n * g.L + t) * g.E, sizeof(real) * K);
  gemm(false, true, (n1 - n0) * P, F, K, cols, weight, 0, z);
  for (int64_t n = n0; n < n1; ++n) {
    const real* zn = z + (n - n0) * P * F;
    real* yn = y + n * F;
    int32_t* an = arg + n * F;
    std::copy(zn, zn + F, yn);
    std::fill(an, an + F, 0);
    for (int64_t t = 1; t < P; ++t)
      for (int64_t f = 0; f < F; ++f)
        if (zn[t * F + f] > yn[f]) yn[f] = zn[t * F + f], an[f] = static_cast<int32_t>(t);
  }
}

// y [N, F] and arg [N, F]. Blocks have a fixed number of words, so that the results do not depend
// on the number of threads; within a parallel region the GEMM runs on the calling thread.
void forward(const Geometry& g, const real* x, const real* weight, real* y, int32_t* arg) {
  const int64_t P = g.positions();
  const int64_t words = std::max<int64_t>(1, kBlockWindows / P);
  const int64_t blocks = (g.N + words - 1) / words;
  parallel_for(blocks, 2, [&](int64_t b0, int64_t b1) {
    std::vector<real> cols(words * P * g.window()), z(words * P * g.F);
    for (int64_t b = b0; b < b1; ++b)
      forward_block(g, x, weight, b * words, std::min(g.N, (b + 1) * words), cols.data(), z.data(), y, arg);
  });
}

// dweight[f, :] += sum_n dy[n, f] · (the window of word n at arg[n, f]). Threads split the filters,
// and each filter sums its words in order.
void backward_weight(const Geometry& g, const real* x, const real* dy, const int32_t* arg, real* dweight) {
  const int64_t K = g.window(), F = g.F;
  parallel_for(F, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, g.N * K)), [&](int64_t f0, int64_t f1) {
    for (int64_t f = f0; f < f1; ++f) {
      real* dw = dweight + f * K;
      for (int64_t n = 0; n < g.N; ++n) {
        const real d = dy[n * F + f];
        const real* win = x + (n * g.L + arg[n * F + f]) * g.E;
        for (int64_t j = 0; j < K; ++j) dw[j] += d * win[j];
      }
    }
  });
}

// dx[window of word n at arg[n, f]] += dy[n, f] · weight[f, :]. Threads split the words (the
// windows of one word overlap, those of two words never do), filters in order.
void backward_input(const Geometry& g, const real* weight, const real* dy, const int32_t* arg, real* dx) {
  const int64_t K = g.window(), F = g.F;
  parallel_for(g.N, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, F * K)), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t f = 0; f < F; ++f) {
        const real d = dy[n * F + f];
        const real* wf = weight + f * K;
        real* dwin = dx + (n * g.L + arg[n * F + f]) * g.E;
        for (int64_t j = 0; j < K; ++j) dwin[j] += d * wf[j];
      }
  });
}

Geometry check_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ST_CHECK(x.defined() && weight.defined(), "conv_max_over_time: x and weight must be defined");
  ST_CHECK(x.dim() == 3 && weight.dim() == 3, "conv_max_over_time: expected x [N, L, E] and weight [F, w, E], got x "
                                                  << shape_str(x.shape()) << " and weight " << shape_str(weight.shape()));
  const Geometry g{x.size(0), x.size(1), x.size(2), weight.size(0), weight.size(1)};
  ST_CHECK(weight.size(2) == g.E, "conv_max_over_time: weight " << shape_str(weight.shape()) << " does not match x "
                                                                << shape_str(x.shape()) << " (last axes differ)");
  ST_CHECK(g.F > 0 && g.w >= 1 && g.w <= g.L, "conv_max_over_time: weight "
                                                  << shape_str(weight.shape()) << " needs F >= 1 and a width in [1, L = "
                                                  << g.L << "] (x " << shape_str(x.shape()) << ")");
  ST_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == g.F),
           "conv_max_over_time: bias " << shape_str(bias.shape()) << " does not match weight "
                                       << shape_str(weight.shape()));
  return g;
}

}  // namespace

Tensor conv_max_over_time(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ProfileScope prof("conv_max_over_time");
  const Geometry g = check_geometry(x, weight, bias);
  Tensor y = Tensor::empty({g.N, g.F});
  auto arg = std::make_shared<std::vector<int32_t>>(g.N * g.F);
  forward(g, x.data(), weight.data(), y.data(), arg->data());
  if (bias.defined()) {  // max_t (z_t + b) = max_t z_t + b
    real* py = y.data();
    const real* pb = bias.data();
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t f = 0; f < g.F; ++f) py[n * g.F + f] += pb[f];
  }
  if (!needs_graph({&x, &weight, &bias})) return y;
  const Tensor sx = x.detach(), sw = weight.detach();
  record_node("conv_max_over_time", {x, weight, bias}, {y}, [x, weight, bias, sx, sw, g, arg](const std::vector<Tensor>& gr) {
    if (!gr[0].defined()) return;
    const real* dy = gr[0].data();
    if (x.requires_grad()) backward_input(g, sw.data(), dy, arg->data(), grad_buffer(x).data());
    if (weight.requires_grad()) backward_weight(g, sx.data(), dy, arg->data(), grad_buffer(weight).data());
    if (bias.defined() && bias.requires_grad()) {
      real* db = grad_buffer(bias).data();
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t f = 0; f < g.F; ++f) db[f] += dy[n * g.F + f];
    }
  });
  return y;
}

}  // namespace st
