// matmul/linear against the naive reference GEMM, all transpose combinations.
#include <catch2/catch.hpp>

#include <limits>

#include "core/kernels/gemm.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace st;

TEST_CASE("gemm (the build's backend) and gemm_eigen match the naive reference for every transpose combination",
          "[linalg]") {
  Generator gen(3);
  using Gemm = void (*)(bool, bool, int64_t, int64_t, int64_t, const real*, const real*, real, real*);
  INFO("backend " << gemm_backend());
  for (Gemm f : {&gemm, &gemm_eigen})
    // The last three are large enough for Eigen and OpenBLAS to run threaded; {5, 4, 0} has no depth.
    for (auto [M, N, K] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {1, 1, 1}, {7, 5, 3}, {5, 4, 0}, {64, 33, 129}, {33, 131, 71}, {257, 96, 300}}) {
      Tensor A = rand_uniform({M * K}, gen, -1, 1), B = rand_uniform({K * N}, gen, -1, 1);
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (real beta : {real(0), real(1), real(0.5)}) {
            Tensor C1 = rand_uniform({M * N}, gen, -1, 1), C2 = C1.clone();
            // beta = 0 must not read C: NaN there must not reach the result.
            if (beta == 0) C1 = Tensor::full({M * N}, std::numeric_limits<real>::quiet_NaN());
            f(ta, tb, M, N, K, A.data(), B.data(), beta, C1.data());
            gemm_reference(ta, tb, M, N, K, A.data(), B.data(), beta, C2.data());
            for (int64_t i = 0; i < M * N; ++i)
              REQUIRE(C1.data()[i] == Approx(C2.data()[i]).epsilon(1e-4).margin(1e-4));
          }
    }
}

TEST_CASE("linear computes x W^T + b", "[linalg]") {
  Tensor x = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor w = Tensor::from_vector({2, 3}, {1, 0, -1, 2, 1, 0});
  Tensor b = Tensor::from_vector({2}, {10, 20});
  CHECK(linear(x, w, b).to_vector() == std::vector<real>{8, 24, 8, 33});
  CHECK(matmul(x, transpose(w, 0, 1)).to_vector() == std::vector<real>{-2, 4, -2, 13});
  CHECK_THROWS_WITH(linear(x, Tensor::ones({2, 4})), Catch::Contains("[2, 3]") && Catch::Contains("[2, 4]"));
}
