// Quantizer backward passes: TTQ scales by finite differences (the forward is smooth in them);
// the latent weights' straight-through rules checked element by element against §3.
#include "layers/ternary_conv.h"
#include "layers/ternary_linear.h"
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

namespace {
// Latent weights kept away from the thresholds so the codes are stable under perturbation.
Tensor latent(uint64_t seed) {
  Tensor w = random_tensor({4, 3, 3, 3}, seed);
  for (int64_t i = 0; i < w.numel(); ++i) {
    real& v = w.data()[i];
    if (std::fabs(std::fabs(v) - 0.35) < 0.05) v *= 1.3;
  }
  return w;
}
}  // namespace

TEST_CASE("gradcheck TTQ w.r.t. its learned scales", "[grad][quantize]") {
  Tensor w = latent(1);
  Tensor wp = Tensor::from_vector({1}, {0.8}), wn = Tensor::from_vector({1}, {1.3});
  check_gradients([w](const std::vector<Tensor>& v) { return ternarize_ttq(w, v[0], v[1], 0.05); }, {wp, wn});
  // Inside a larger expression, so the upstream gradient is not uniform.
  Tensor x = random_tensor({2, 4, 3, 3}, 2);
  check_gradients(
      [w](const std::vector<Tensor>& v) {
        Tensor q = ternarize_ttq(w, v[0], v[1], 0.3);
        return mul(q, q);
      },
      {wp, wn});
}

TEST_CASE("straight-through gradients of the latent weights", "[grad][quantize]") {
  Tensor w = latent(3).set_requires_grad(true);
  Tensor up = random_tensor(w.shape(), 4);
  SECTION("TWN and fixed pass the gradient unchanged") {
    for (int kind = 0; kind < 2; ++kind) {
      w.zero_grad();
      Tensor q = kind == 0 ? ternarize_twn(w) : ternarize_fixed(w, 0.5);
      sum(mul(q, up)).backward();
      for (int64_t i = 0; i < w.numel(); ++i) REQUIRE(w.grad().data()[i] == Approx(up.data()[i]));
    }
  }
  SECTION("TTQ scales by wp, 1, wn on positive, zero, negative codes") {
    Tensor wp = Tensor::from_vector({1}, {0.8}).set_requires_grad(true);
    Tensor wn = Tensor::from_vector({1}, {1.3}).set_requires_grad(true);
    const real t = 0.3;
    sum(mul(ternarize_ttq(w, wp, wn, t), up)).backward();
    real max_abs = 0;
    for (real v : w.to_vector()) max_abs = std::max(max_abs, std::fabs(v));
    int64_t pos = 0, neg = 0, zero = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
      const real v = w.data()[i], g = up.data()[i];
      const real expected = v > t * max_abs ? 0.8 * g : (v < -t * max_abs ? 1.3 * g : g);
      pos += v > t * max_abs, neg += v < -t * max_abs, zero += std::fabs(v) <= t * max_abs;
      REQUIRE(w.grad().data()[i] == Approx(expected));
    }
    CHECK(pos > 0);
    CHECK(neg > 0);
    CHECK(zero > 0);
  }
}

TEST_CASE("gradcheck TernaryConv2d (TTQ): input and the learned scales", "[grad][quantize]") {
  Generator gen(50);
  Conv2dLayerOptions o;
  o.in_channels = 4, o.out_channels = 3, o.kernel_h = o.kernel_w = 3, o.stride = 2, o.padding = 1, o.bias = true;
  TernaryQuantizerOptions q;
  q.rule = TernaryRule::Ttq;
  auto layer = std::make_shared<TernaryConv2d>(o, q, gen);
  const Tensor x = random_tensor({2, 4, 7, 6}, 51);
  (*layer)(x);
  std::vector<Tensor> params;
  for (auto& [name, t] : layer->named_parameters())
    if (name != "weight") params.push_back(t);
  REQUIRE(params.size() == 3);  // bias, weight_pos, weight_neg
  check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; }, {x},
                              params);
}

TEST_CASE("gradcheck TernaryLinear (TTQ): input, bias and the learned scales", "[grad][quantize]") {
  Generator gen(52);
  TernaryQuantizerOptions q;
  q.rule = TernaryRule::Ttq;
  auto layer = std::make_shared<TernaryLinear>(LinearOptions{6, 4, true}, q, gen);
  const Tensor x = random_tensor({5, 6}, 53);
  (*layer)(x);
  std::vector<Tensor> params;
  for (auto& [name, t] : layer->named_parameters())
    if (name != "weight") params.push_back(t);
  REQUIRE(params.size() == 3);
  check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; }, {x},
                              params);
}
