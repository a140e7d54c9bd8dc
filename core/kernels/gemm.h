#pragma once
// GEMM on raw row-major buffers:
//   C[M,N] = beta * C + A' * B'   with A' = A[M,K] or A^T (A stored [K,M]), B' = B[K,N] or B^T.
// (beta = 0: C's old values are not read.) gemm goes to the backend chosen at build time
// (CMake STRASSEN_GEMM): OpenBLAS's OpenMP build or Eigen. Both parallelise large products
// themselves and run single-threaded inside an OpenMP region.
#include <cstdint>

#include "core/real.h"

namespace st {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B, real beta,
          real* C);

// Eigen's product through maps (the backend when OpenBLAS is not used; kept for comparison).
void gemm_eigen(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B,
                real beta, real* C);

// "openblas" or "eigen": the backend gemm uses.
const char* gemm_backend();

// OpenBLAS picks its kernels when it is loaded, from OPENBLAS_CORETYPE or its own CPU detection,
// and version 0.3.21 (Debian 12) detects CPUs newer than it knows as generic "Prescott", whose
// sgemm is 5x slower on an AVX-512 machine. When that happened (and the variable is unset) this
// names the core type that matches the CPU's instruction sets ("SkylakeX" for AVX-512, "Haswell"
// for AVX2 + FMA), for a program to re-execute itself with; otherwise, and in an Eigen build, null.
const char* openblas_core_override();

// The naive triple loop (reference for tests and benchmarks).
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const real* A, const real* B,
                    real beta, real* C);

}  // namespace st
