// Shapes: element counts are overflow-checked (extents come from files and configs).
#include <catch2/catch.hpp>

#include "core/error.h"
#include "core/shape.h"
#include "core/tensor.h"

using namespace st;

TEST_CASE("shape_numel multiplies the extents and refuses a product that overflows", "[tensor]") {
  CHECK(shape_numel({}) == 1);
  CHECK(shape_numel({2, 3, 4}) == 24);
  CHECK(shape_numel({0, int64_t(1) << 40, int64_t(1) << 40}) == 0);
  CHECK(shape_numel({int64_t(1) << 30, int64_t(1) << 30}) == int64_t(1) << 60);
  CHECK_THROWS_WITH(shape_numel({int64_t(1) << 32, int64_t(1) << 32}), Catch::Contains("[4294967296, 4294967296]"));
  CHECK_THROWS_WITH(shape_numel({int64_t(1) << 31, int64_t(1) << 31, 3}), Catch::Contains("2^60"));
  CHECK_THROWS_WITH(shape_numel({3, -1}), Catch::Contains("[3, -1]"));
  // A tensor of such a shape is refused before anything is allocated.
  CHECK_THROWS_AS(Tensor::empty({int64_t(1) << 40, int64_t(1) << 40}), Error);
}
