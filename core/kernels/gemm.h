#pragma once
// GEMM on raw row-major buffers through Eigen maps:
//   C[M,N] = beta * C + A' * B'   with A' = A[M,K] or A^T (A stored [K,M]), B' = B[K,N] or B^T.
// Eigen parallelises large products itself; inside an OpenMP region it runs single-threaded.
#include <cstdint>

#include "core/real.h"

namespace st {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B, real beta,
          real* C);

// The naive triple loop (reference for tests and benchmarks).
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B,
                    real beta, real* C);

}  // namespace st
