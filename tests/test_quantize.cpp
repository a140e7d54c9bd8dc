// Quantizer forward rules on hand-made weights.
#include <catch2/catch.hpp>

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
