// Quantizer forward rules on hand-made weights, and TWN on a large weight against a plain computation.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/ops.h"

using namespace st;

TEST_CASE("TWN: threshold 0.7 mean|w|, scale = mean of the survivors", "[quantize]") {
  // mean|w| = (0.1 + 0.2 + 1.0 + 2.0 + 0.7 + 0.0) / 6 = 4/6; Δ = 0.4667; survivors 1.0, -2.0, 0.7 -> α = 3.7/3.
  Tensor w = Tensor::from_vector({6}, {0.1f, -0.2f, 1.0f, -2.0f, 0.7f, 0.0f});
  const real a = 3.7f / 3;
  const std::vector<real> expected{0, 0, a, -a, a, 0};
  const std::vector<real> got = ternarize_twn(w).to_vector();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expected[i]));
  const TernaryCodes c = ternary_codes_twn(w);
  CHECK(c.codes.to_vector() == std::vector<real>{0, 0, 1, -1, 1, 0});
  CHECK(c.scale == Approx(a));
  // The exported codes times the scale reproduce the training-time forward exactly.
  const Tensor rebuilt = mul_scalar(c.codes, c.scale);
  CHECK(rebuilt.to_vector() == ternarize_twn(w).to_vector());
}

TEST_CASE("TWN on a large weight agrees with a plain double-precision computation", "[quantize]") {
  // Several of the kernel's summation blocks and a partial one.
  Generator gen(11);
  const Tensor w = rand_normal({3, 7, 5, 53}, gen);
  const std::vector<real> v = w.to_vector();
  double abs_sum = 0;
  for (real x : v) abs_sum += std::fabs(x);
  const double delta = 0.7 * abs_sum / static_cast<double>(v.size());
  double kept = 0;
  int count = 0;
  for (real x : v)
    if (std::fabs(x) > delta) kept += std::fabs(x), ++count;
  const TernaryCodes c = ternary_codes_twn(w);
  CHECK(c.scale == Approx(kept / count).epsilon(1e-5));
  const std::vector<real> codes = c.codes.to_vector();
  int mismatches = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const real expected = v[i] > delta ? 1 : (v[i] < -delta ? -1 : 0);
    // An entry within float rounding of the threshold may fall either way.
    if (codes[i] != expected && std::fabs(std::fabs(v[i]) - delta) > 1e-5 * delta) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("fixed threshold and TTQ forward", "[quantize]") {
  Tensor w = Tensor::from_vector({5}, {0.3f, -0.3f, 0.2f, -0.1f, 0.0f});
  CHECK(ternarize_fixed(w, 0.5f).to_vector() == std::vector<real>{0.5f, -0.5f, 0, 0, 0});
  CHECK(ternary_codes_fixed(w, 0.5f).codes.to_vector() == std::vector<real>{1, -1, 0, 0, 0});
  // TTQ with t = 0.5: Δ = 0.15.
  Tensor wp = Tensor::from_vector({1}, {2.0f}), wn = Tensor::from_vector({1}, {3.0f});
  CHECK(ternarize_ttq(w, wp, wn, 0.5f).to_vector() == std::vector<real>{2, -3, 2, 0, 0});
  CHECK_THROWS_WITH(ternarize_ttq(w, Tensor::ones({2}), wn), Catch::Contains("[2]"));
  CHECK_THROWS_WITH(ternarize_fixed(w, 0), Catch::Contains("step"));
}
