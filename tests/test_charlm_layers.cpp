// The character-aware language model's op and layers (float build): conv_max_over_time against
// conv2d + max (whose kernels have their own naive references).
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/ops/temporal_conv.h"
#include "core/rng.h"

using namespace st;

namespace {

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(double(a.data()[i]) - b.data()[i]));
  return worst;
}

Tensor leaf(const Shape& shape, Generator& gen, double a = 1) {
  return rand_uniform(shape, gen, -a, a).set_requires_grad(true);
}

// The reference: x [N, L, E] as N one-channel images L×E, the weight [F, w, E] as F kernels w×E,
// so that conv2d gives [N, F, L − w + 1, 1]; then the max over the positions.
Tensor conv_max_reference(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t N = x.size(0), L = x.size(1), E = x.size(2), F = w.size(0), k = w.size(1);
  const Tensor y = conv2d(reshape(x, {N, 1, L, E}), reshape(w, {F, 1, k, E}), b);
  return reshape(max(y, 2), {N, F});
}

struct ConvCase {
  int64_t N, L, E, F, w;
  bool bias;
};

}  // namespace

TEST_CASE("conv_max_over_time matches conv2d then max, forward and backward", "[charlm][ops]") {
  const std::vector<ConvCase> cases = {{7, 21, 15, 50, 1, true},  {7, 21, 15, 20, 7, true}, {3, 5, 4, 6, 5, false},
                                       {60, 21, 15, 25, 3, true}, {1, 1, 3, 2, 1, true},   {40, 9, 2, 3, 4, false}};
  for (const ConvCase& c : cases) {
    INFO("N " << c.N << " L " << c.L << " E " << c.E << " F " << c.F << " w " << c.w << " bias " << c.bias);
    Generator gen(c.N * 100 + c.w);
    Tensor x = leaf({c.N, c.L, c.E}, gen), w = leaf({c.F, c.w, c.E}, gen, 0.3);
    Tensor b = c.bias ? leaf({c.F}, gen) : Tensor();
    const Tensor dy = rand_uniform({c.N, c.F}, gen, -1, 1);

    const Tensor y = conv_max_over_time(x, w, b);
    REQUIRE(y.shape() == Shape{c.N, c.F});
    sum(mul(y, dy)).backward();
    const Tensor dx = x.grad().clone(), dw = w.grad().clone(), db = c.bias ? b.grad().clone() : Tensor();
    x.zero_grad(), w.zero_grad();
    if (c.bias) b.zero_grad();

    const Tensor want = conv_max_reference(x, w, b);
    sum(mul(want, dy)).backward();
    CHECK(max_abs_diff(y, want) < 1e-5);
    CHECK(max_abs_diff(dx, x.grad()) < 1e-5);
    CHECK(max_abs_diff(dw, w.grad()) < 1e-4);
    if (c.bias) CHECK(max_abs_diff(db, b.grad()) < 1e-4);
  }
}

TEST_CASE("conv_max_over_time: results do not depend on the number of threads", "[charlm][ops]") {
  Generator gen(5);
  Tensor x = leaf({300, 21, 15}, gen), w = leaf({64, 3, 15}, gen, 0.3), b = leaf({64}, gen);
  const Tensor dy = rand_uniform({300, 64}, gen, -1, 1);
  const int threads = omp_get_max_threads();
  std::vector<std::vector<real>> runs;
  for (int t : {1, 2}) {
    omp_set_num_threads(t);
    x.zero_grad(), w.zero_grad(), b.zero_grad();
    const Tensor y = conv_max_over_time(x, w, b);
    sum(mul(y, dy)).backward();
    std::vector<real> all = y.to_vector();
    for (const Tensor& g : {x.grad(), w.grad(), b.grad()}) {
      const std::vector<real> v = g.to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    runs.push_back(all);
  }
  omp_set_num_threads(threads);
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("conv_max_over_time: empty batch, no graph without grad, shape errors", "[charlm][ops]") {
  Generator gen(6);
  const Tensor w = rand_uniform({4, 3, 5}, gen, -1, 1);
  CHECK(conv_max_over_time(Tensor::zeros({0, 8, 5}), w, Tensor()).shape() == Shape{0, 4});
  {
    Tensor x = leaf({2, 8, 5}, gen);
    NoGradGuard ng;
    CHECK_FALSE(conv_max_over_time(x, w, Tensor()).requires_grad());
  }
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 8, 6}), w, Tensor()), Catch::Contains("[4, 3, 5]") &&
                                                                                  Catch::Contains("[2, 8, 6]"));
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 2, 5}), w, Tensor()), Catch::Contains("L = 2"));
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 8}), w, Tensor()), Catch::Contains("[N, L, E]"));
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 8, 5}), w, Tensor::zeros({3})), Catch::Contains("bias [3]"));
}
