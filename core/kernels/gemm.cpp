#include "core/kernels/gemm.h"

#include <Eigen/Core>

namespace st {

namespace {
using RowMat = Eigen::Matrix<real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<RowMat>;
using ConstMap = Eigen::Map<const RowMat>;
}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B, real beta,
          real* C) {
  Map c(C, M, N);
  if (beta == 0)
    c.setZero();
  else if (beta != 1)
    c *= beta;
  if (K == 0) return;
  ConstMap a(A, trans_a ? K : M, trans_a ? M : K);
  ConstMap b(B, trans_b ? N : K, trans_b ? K : N);
  if (!trans_a && !trans_b)
    c.noalias() += a * b;
  else if (trans_a && !trans_b)
    c.noalias() += a.transpose() * b;
  else if (!trans_a && trans_b)
    c.noalias() += a * b.transpose();
  else
    c.noalias() += a.transpose() * b.transpose();
}

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B,
                    real beta, real* C) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const real av = trans_a ? A[k * M + i] : A[i * K + k];
        const real bv = trans_b ? B[j * K + k] : B[k * N + j];
        acc += static_cast<double>(av) * bv;
      }
      C[i * N + j] = static_cast<real>((beta == 0 ? 0.0 : beta * C[i * N + j]) + acc);
    }
}

}  // namespace st
