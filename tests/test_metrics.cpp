// count_correct: ties and NaN never count as correct (a zero or NaN model must score 0, not 100 %).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "train/metrics.h"

using namespace st;

TEST_CASE("count_correct: the label must beat every other logit strictly", "[metrics]") {
  // Row 0: label 2 is the unique maximum. Row 1: label 0 is second. Row 2: label 1 ties the max.
  const Tensor logits = Tensor::from_vector({3, 4}, {0, 1, 5, 2, /**/ 3, 4, 0, 0, /**/ 1, 7, 7, 0});
  const TopK k = count_correct(logits, {2, 0, 1});
  CHECK(k.top1 == 1);
  CHECK(k.top5 == 3);  // 4 classes: top-5 holds every finite label that fewer than 5 logits reach
}

TEST_CASE("count_correct: an all-equal row (all weights zero) is not correct", "[metrics]") {
  const Tensor zeros = Tensor::zeros({4, 10});
  const TopK k = count_correct(zeros, {0, 3, 5, 9});
  CHECK(k.top1 == 0);
  CHECK(k.top5 == 0);
  // Five classes tie at the top with the label: top-5 holds it only if fewer than 5 others reach it.
  const Tensor five = Tensor::from_vector({1, 10}, {1, 1, 1, 1, 1, 0, 0, 0, 0, 0});
  CHECK(count_correct(five, {0}).top5 == 1);
  const Tensor six = Tensor::from_vector({1, 10}, {1, 1, 1, 1, 1, 1, 0, 0, 0, 0});
  CHECK(count_correct(six, {0}).top5 == 0);
}

TEST_CASE("count_correct: any NaN in the row is not correct", "[metrics]") {
  const real nan = std::numeric_limits<real>::quiet_NaN();
  const Tensor all_nan = Tensor::full({2, 10}, nan);
  CHECK(count_correct(all_nan, {0, 1}).top1 == 0);
  CHECK(count_correct(all_nan, {0, 1}).top5 == 0);
  // The label's logit is the clear maximum, but another logit is NaN.
  const Tensor one_nan = Tensor::from_vector({1, 3}, {9, nan, 0});
  CHECK(count_correct(one_nan, {0}).top1 == 0);
  CHECK(count_correct(one_nan, {0}).top5 == 0);
  // A label outside the row is an error naming the sample.
  CHECK_THROWS_WITH(count_correct(Tensor::zeros({2, 3}), {0, 3}), Catch::Contains("sample 1") && Catch::Contains("3"));
}
