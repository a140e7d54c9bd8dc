#include "core/kernels/gemm.h"

#include <Eigen/Core>
#include <algorithm>

#if ST_GEMM_OPENBLAS
#include <cblas.h>
#include <strings.h>

#include <cstdlib>
#endif

namespace st {

namespace {
using RowMat = Eigen::Matrix<real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<RowMat>;
using ConstMap = Eigen::Map<const RowMat>;
}  // namespace

void gemm_eigen(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B,
                real beta, real* C) {
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

#if ST_GEMM_OPENBLAS

namespace {
// Row-major cblas ?gemm for the build's scalar type.
inline void cblas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, const float* a,
                       blasint lda, const float* b, blasint ldb, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, n);
}
inline void cblas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, const double* a,
                       blasint lda, const double* b, blasint ldb, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, n);
}
}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B, real beta,
          real* C) {
  if (M == 0 || N == 0) return;
  const blasint m = static_cast<blasint>(M), n = static_cast<blasint>(N), k = static_cast<blasint>(K);
  const blasint lda = static_cast<blasint>(std::max<int64_t>(1, trans_a ? M : K));
  const blasint ldb = static_cast<blasint>(std::max<int64_t>(1, trans_b ? K : N));
  cblas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, A, lda, B, ldb, beta,
             C);
}

const char* gemm_backend() { return "openblas"; }

const char* openblas_core_override() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return nullptr;
  // OpenBLAS 0.3.21 falls back to its generic "Prescott" kernels on CPUs newer than it knows.
  if (strcasecmp(openblas_get_corename(), "prescott") != 0) return nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

#else

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B, real beta,
          real* C) {
  gemm_eigen(trans_a, trans_b, M, N, K, A, B, beta, C);
}

const char* gemm_backend() { return "eigen"; }

const char* openblas_core_override() { return nullptr; }

#endif

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
