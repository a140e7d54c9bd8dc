// discover/: the exactness check (Brent equations) on known algorithms, the addition count, the
// SPN forward against the algorithms it encodes, Adam's update rule, and small searches.
#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "discover/adam.h"
#include "discover/matmul_spn.h"

using namespace st;

namespace {

Tensor to_tensor(const std::vector<int>& v, const Shape& shape) {
  return Tensor::from_vector(shape, std::vector<real>(v.begin(), v.end()));
}

// Largest |spn_forward(alg) − vec(A B)| over `samples` random pairs, computed independently of
// make_product_data (plain loops).
double max_product_error(const MatmulAlgorithm& alg, int64_t samples) {
  const int64_t n = alg.n, nn = n * n, r = alg.r;
  Generator gen(7);
  const Tensor a = rand_normal({samples, nn}, gen), b = rand_normal({samples, nn}, gen);
  const Tensor y = spn_forward(to_tensor(alg.wa, {r, nn}), to_tensor(alg.wb, {r, nn}), to_tensor(alg.wc, {nn, r}), a, b);
  double worst = 0;
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double c = 0;
        for (int64_t k = 0; k < n; ++k) c += a.data()[s * nn + i * n + k] * b.data()[s * nn + k * n + j];
        worst = std::max(worst, std::abs(c - y.data()[s * nn + i * n + j]));
      }
  return worst;
}

}  // namespace

TEST_CASE("matrix-multiplication tensor has n^3 ones", "[discover]") {
  for (int64_t n : {1, 2, 3}) {
    int64_t ones = 0;
    for (int64_t x = 0; x < n * n; ++x)
      for (int64_t y = 0; y < n * n; ++y)
        for (int64_t z = 0; z < n * n; ++z) ones += matmul_tensor_entry(n, x, y, z);
    CHECK(ones == n * n * n);
  }
  // A12 · B21 contributes to C11; A12 · B11 to nothing.
  CHECK(matmul_tensor_entry(2, 1, 2, 0) == 1);
  CHECK(matmul_tensor_entry(2, 1, 0, 0) == 0);
}

TEST_CASE("Strassen's algorithm satisfies all 64 Brent equations and costs 18 additions", "[discover]") {
  const MatmulAlgorithm s = strassen_algorithm();
  const BrentCheck c = check_brent(s);
  CHECK(c.equations == 64);
  CHECK(c.violated == 0);
  CHECK(c.exact());
  CHECK(count_additions(s) == 18);
  CHECK(max_product_error(s, 64) < 1e-4);
  const std::string text = format_algorithm(s);
  CHECK_THAT(text, Catch::Contains("M1 = (A11 + A22) * (B11 + B22)"));
  CHECK_THAT(text, Catch::Contains("M6 = (-A11 + A21) * (B11 + B12)"));
  CHECK_THAT(text, Catch::Contains("C11 = M1 + M4 - M5 + M7"));
}

TEST_CASE("every one-entry change of Strassen's algorithm breaks exactness", "[discover]") {
  const MatmulAlgorithm s = strassen_algorithm();
  int64_t changes = 0;
  for (std::vector<int> MatmulAlgorithm::*part : {&MatmulAlgorithm::wa, &MatmulAlgorithm::wb, &MatmulAlgorithm::wc})
    for (size_t i = 0; i < (s.*part).size(); ++i)
      for (int value : {-1, 0, 1}) {
        if (value == (s.*part)[i]) continue;
        MatmulAlgorithm p = s;
        (p.*part)[i] = value;
        const BrentCheck c = check_brent(p);
        CHECK_FALSE(c.exact());
        CHECK(c.residual_sq > 0);
        ++changes;
      }
  CHECK(changes == 3 * 28 * 2);
}

TEST_CASE("the schoolbook algorithm with r = n^3 is exact; dropping a product is not", "[discover]") {
  for (int64_t n : {1, 2, 3}) {
    const MatmulAlgorithm alg = naive_algorithm(n);
    CHECK(alg.r == n * n * n);
    CHECK(check_brent(alg).exact());
    // Each factor is one entry (no additions); each C_il sums n products.
    CHECK(count_additions(alg) == n * n * (n - 1));
    CHECK(max_product_error(alg, 16) < 1e-4);
    if (n > 1) {
      MatmulAlgorithm dropped = alg;
      for (int64_t o = 0; o < n * n; ++o) dropped.wc[o * alg.r + 0] = 0;  // product 0 unused
      const BrentCheck c = check_brent(dropped);
      CHECK(c.violated == 1);  // A11 · B11 no longer reaches C11
      CHECK(c.residual_sq == 1);
    }
  }
}

TEST_CASE("check_brent rejects mismatched sizes", "[discover]") {
  MatmulAlgorithm s = strassen_algorithm();
  s.wc.pop_back();
  CHECK_THROWS_WITH(check_brent(s), Catch::Contains("28"));
}

TEST_CASE("SPN loss of integer weights is the Brent residual on standard-normal products", "[discover]") {
  // E‖Σ_{x,y} D[x,y,:] a_x b_y‖² = ‖D‖² for independent standard-normal a, b: the data loss
  // estimates the exact residual, which is what makes an L2 fit on random products a search for
  // exact algorithms.
  MatmulAlgorithm p = strassen_algorithm();
  p.wc[0] = 0, p.wa[5] = 1;  // two changes
  const int64_t r = p.r;
  const ProductData d = make_product_data(2, 40000, 3);
  const double loss = spn_loss(to_tensor(p.wa, {r, 4}), to_tensor(p.wb, {r, 4}), to_tensor(p.wc, {4, r}), d.a, d.b, d.c).item();
  const double expected = static_cast<double>(check_brent(p).residual_sq);
  CHECK(expected > 0);
  CHECK(loss == Approx(expected).epsilon(0.05));
}

TEST_CASE("Adam follows PyTorch's update rule", "[discover]") {
  Tensor p = Tensor::from_vector({2}, {1.0f, -2.0f}).set_requires_grad(true);
  Adam adam({p}, AdamOptions{0.1});
  // Step 1: m = 0.1 g, v = 0.001 g²; m̂ = g, v̂ = g²: p -= 0.1 · g / (|g| + 1e-8).
  p.set_grad(Tensor::from_vector({2}, {0.5f, -4.0f}));
  adam.step();
  CHECK(p.data()[0] == Approx(0.9));
  CHECK(p.data()[1] == Approx(-1.9));
  // Step 2 with g = 1 for the first entry: m = 0.09·0.5 + 0.1 = 0.145, v = 0.999·0.00025 + 0.001.
  p.set_grad(Tensor::from_vector({2}, {1.0f, 0.0f}));
  adam.step();
  const double m = 0.145 / (1 - 0.81), v = (0.999 * 0.00025 + 0.001) / (1 - 0.999 * 0.999);
  CHECK(p.data()[0] == Approx(0.9 - 0.1 * m / (std::sqrt(v) + 1e-8)));
  CHECK_THROWS_WITH(Adam({p}, AdamOptions{-1.0}), Catch::Contains("-1"));
}

TEST_CASE("discover options name the bad value", "[discover]") {
  DiscoverOptions o;
  CHECK(o.problem().empty());
  o.n = 0;
  CHECK_THAT(o.problem(), Catch::Contains("--n must be at least 1, got 0"));
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("--n"));
  o = DiscoverOptions();
  o.r = 17;  // n = 2: more than 2 n³
  CHECK_THAT(o.problem(), Catch::Contains("--r 17"));
  o = DiscoverOptions();
  o.samples = 0;
  CHECK_THAT(o.problem(), Catch::Contains("--samples"));
  CHECK_THROWS_WITH(discover_matmul(DiscoverOptions(), 0), Catch::Contains("restarts"));
}

TEST_CASE("a small search rediscovers an exact 2x2 algorithm with 7 products", "[discover]") {
  DiscoverOptions o;
  o.samples = 20000;  // a fifth of the default keeps the test well under a second
  o.seed = 9;
  const DiscoverResult res = discover_matmul(o, 4);
  REQUIRE(res.restarts.size() == 4);
  CHECK(res.exact_count >= 1);
  const RestartResult& best = res.restarts[res.best];
  REQUIRE(best.check.exact());
  // Independently re-checked, and it really multiplies.
  CHECK(check_brent(best.algorithm).exact());
  CHECK(max_product_error(best.algorithm, 64) < 1e-4);
  CHECK(best.additions == count_additions(best.algorithm));
  CHECK(best.additions >= 15);  // fewer is impossible for 7 products without reuse (Probert)
  // The first exact restart is the one reported.
  for (int64_t k = 0; k < res.best; ++k) CHECK_FALSE(res.restarts[k].check.exact());
}

TEST_CASE("a restart's result does not depend on the thread count", "[discover]") {
  DiscoverOptions o;
  o.samples = 5000;
  o.fp_epochs = 8, o.ternary_epochs = 4;
  o.seed = 5;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const DiscoverResult one = discover_matmul(o, 3);
  omp_set_num_threads(2);
  const DiscoverResult two = discover_matmul(o, 3);
  omp_set_num_threads(threads);
  const ProductData data = make_product_data(o.n, o.samples, o.seed);
  const RestartResult alone = discover_restart(o, data, 2);
  for (int64_t k = 0; k < 3; ++k) {
    CHECK(one.restarts[k].fp_loss == two.restarts[k].fp_loss);
    CHECK(one.restarts[k].algorithm.wa == two.restarts[k].algorithm.wa);
    CHECK(one.restarts[k].algorithm.wc == two.restarts[k].algorithm.wc);
  }
  CHECK(alone.fp_loss == one.restarts[2].fp_loss);
  CHECK(alone.algorithm.wb == one.restarts[2].algorithm.wb);
  // Different restarts start from different weights.
  CHECK(one.restarts[0].fp_loss != one.restarts[1].fp_loss);
}
