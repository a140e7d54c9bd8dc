#include "core/ops/linalg.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/gemm.h"
#include "core/kernels/parallel.h"
#include "core/ops/elementwise.h"
#include "core/ops/profiler.h"
#include "core/ops/reduce.h"
#include "core/ops/shape_ops.h"

namespace st {

namespace {

// C[b] (+)= op(A[b]) op(B[b]) for every batch entry; stride 0 reuses one matrix for all entries.
// Entries are spread over threads when each product is small, else Eigen parallelises each one.
void batched_gemm(int64_t batch, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const real* A, int64_t sa,
                  const real* B, int64_t sb, real beta, real* C, int64_t sc) {
  const bool small = M * N * K < (1 << 18);
  auto run = [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) gemm(ta, tb, M, N, K, A + i * sa, B + i * sb, beta, C + i * sc);
  };
  if (small)
    parallel_for(batch, 2, run);
  else
    run(0, batch);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  ProfileScope prof("matmul");
  const bool batched = a.dim() == 3;
  ST_CHECK((a.dim() == 2 && b.dim() == 2) || (a.dim() == 3 && (b.dim() == 2 || b.dim() == 3)),
           "matmul: unsupported shapes " << shape_str(a.shape()) << " and " << shape_str(b.shape())
                                         << " (expected [M, K] x [K, N], [B, M, K] x [B, K, N] or [B, M, K] x [K, N])");
  const int64_t batch = batched ? a.size(0) : 1;
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  ST_CHECK(b.size(-2) == K && (b.dim() == 2 || b.size(0) == batch),
           "matmul: shapes " << shape_str(a.shape()) << " and " << shape_str(b.shape()) << " do not match");
  const int64_t sb = b.dim() == 3 ? K * N : 0;
  Tensor out = Tensor::empty(batched ? Shape{batch, M, N} : Shape{M, N});
  batched_gemm(batch, false, false, M, N, K, a.data(), M * K, b.data(), sb, 0, out.data(), M * N);
  if (!needs_graph({&a, &b})) return out;
  Tensor sa_ = a.detach(), sb_ = b.detach();
  record_node("matmul", {a, b}, {out}, [a, b, sa_, sb_, batch, M, N, K, sb](const std::vector<Tensor>& g) {
    const real* dout = g[0].data();
    if (a.requires_grad())  // dA[b] += dC[b] B[b]^T
      batched_gemm(batch, false, true, M, K, N, dout, M * N, sb_.data(), sb, 1, grad_buffer(a).data(), M * K);
    if (b.requires_grad()) {
      if (sb != 0) {  // dB[b] += A[b]^T dC[b]
        batched_gemm(batch, true, false, K, N, M, sa_.data(), M * K, dout, M * N, 1, grad_buffer(b).data(), K * N);
      } else {  // shared B: dB += sum_b A[b]^T dC[b] = A_flat^T dC_flat over all batch rows
        gemm(true, false, K, N, batch * M, sa_.data(), dout, 1, grad_buffer(b).data());
      }
    }
  });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ProfileScope prof("linear");
  ST_CHECK(weight.dim() == 2, "linear: weight must be [out, in], got " << shape_str(weight.shape()));
  ST_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1),
           "linear: input " << shape_str(x.shape()) << " does not match weight " << shape_str(weight.shape())
                            << " (last input axis must equal weight's in-features)");
  const int64_t in = weight.size(1), out_f = weight.size(0);
  ST_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out_f),
           "linear: bias " << shape_str(bias.shape()) << " does not match weight " << shape_str(weight.shape()));
  const int64_t rows = x.numel() / std::max<int64_t>(in, 1);
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor out = Tensor::empty(out_shape);
  // y[rows, out] = x[rows, in] W^T, then + b per row.
  gemm(false, true, rows, out_f, in, x.data(), weight.data(), 0, out.data());
  if (bias.defined()) {
    real* po = out.data();
    const real* pb = bias.data();
    parallel_for(rows, 256, [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r)
        for (int64_t j = 0; j < out_f; ++j) po[r * out_f + j] += pb[j];
    });
  }
  if (!needs_graph({&x, &weight, &bias})) return out;
  Tensor sx = x.detach(), sw = weight.detach();
  record_node("linear", {x, weight, bias}, {out},
              [x, weight, bias, sx, sw, rows, in, out_f](const std::vector<Tensor>& g) {
                const real* dy = g[0].data();
                if (x.requires_grad()) gemm(false, false, rows, in, out_f, dy, sw.data(), 1, grad_buffer(x).data());
                if (weight.requires_grad())
                  gemm(true, false, out_f, in, rows, dy, sx.data(), 1, grad_buffer(weight).data());
                if (bias.defined() && bias.requires_grad()) {
                  real* db = grad_buffer(bias).data();
                  for (int64_t r = 0; r < rows; ++r)
                    for (int64_t j = 0; j < out_f; ++j) db[j] += dy[r * out_f + j];
                }
              });
  return out;
}

}  // namespace st
