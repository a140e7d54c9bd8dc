// StrassenConv2d / StrassenLinear: shapes, modes, clipping, frozen weights.
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/strassen.h"
#include "tests/module_tensor.h"

using namespace st;
using st::test::module_tensor;

namespace {
Conv2dLayerOptions conv_opts(int64_t in, int64_t out, int64_t stride, bool bias = false) {
  Conv2dLayerOptions o;
  o.in_channels = in, o.out_channels = out, o.kernel_h = o.kernel_w = 3, o.stride = stride, o.padding = 1, o.bias = bias;
  return o;
}
StrassenOptions spn(int64_t r, int64_t p, int64_t g, StrassenMode mode = StrassenMode::SpnFloat) {
  StrassenOptions o;
  o.hidden = r, o.out_patch = p, o.groups = g, o.mode = mode;
  return o;
}
}  // namespace

TEST_CASE("StrassenConv2d output matches the original layer's shape", "[strassen]") {
  Generator gen(1);
  for (int64_t p : {1, 2})
    for (int64_t g : {1, 2})
      for (int64_t s : {1, 2})
        for (int64_t hw : {7, 8, 9, 32}) {
          INFO("p " << p << " g " << g << " stride " << s << " size " << hw);
          StrassenConv2d layer(conv_opts(4, 6, s), spn(8, p, g), gen);
          Tensor x = rand_normal({2, 4, hw, hw + 1}, gen);
          Tensor y = layer(x);
          const int64_t out_h = (hw + 2 - 3) / s + 1, out_w = (hw + 1 + 2 - 3) / s + 1;
          REQUIRE(y.shape() == Shape{2, 6, out_h, out_w});
          layer.set_mode(StrassenMode::Dense);
          REQUIRE(layer(x).shape() == y.shape());
        }
}

TEST_CASE("Dense mode is the plain convolution with the layer's weight", "[strassen]") {
  Generator gen(2);
  StrassenConv2d layer(conv_opts(3, 5, 2, true), spn(5, 1, 1, StrassenMode::Dense), gen);
  module_tensor(layer, "bias").copy_(rand_normal({5}, gen));
  Tensor x = rand_normal({2, 3, 9, 9}, gen);
  Tensor expected = conv2d(x, module_tensor(layer, "weight"), module_tensor(layer, "bias"), Conv2dOptions::make(2, 1));
  CHECK(layer(x).to_vector() == expected.to_vector());
}

TEST_CASE("StrassenConv2d inference with the hidden batch norm folded into W_b equals the layers one by one",
          "[strassen]") {
  Generator gen(7);
  for (int64_t p : {1, 2})
    for (int64_t g : {1, 2})
      for (int64_t s : {1, 2})
        for (StrassenMode mode : {StrassenMode::SpnFloat, StrassenMode::SpnTernary}) {
          INFO("p " << p << " g " << g << " stride " << s << " mode " << strassen_mode_name(mode));
          StrassenConv2d layer(conv_opts(4, 6, s, /*bias=*/true), spn(8, p, g, mode), gen);
          // Running statistics away from (0, 1), and ã, β and the bias away from their initial values.
          for (int i = 0; i < 3; ++i) layer(rand_normal({4, 4, 9, 9}, gen, 0.5f, 2.0f));
          module_tensor(layer, "a_hat").copy_(rand_uniform({8}, gen, 0.2f, 3.0f));
          module_tensor(layer, "hidden_bn.bias").copy_(rand_normal({8}, gen));
          module_tensor(layer, "bias").copy_(rand_normal({6}, gen));
          layer.eval();
          const Tensor x = rand_normal({2, 4, 9, 10}, gen);
          const std::vector<real> by_layers = layer(x).to_vector();  // grad mode on: conv, then batch norm
          std::vector<real> folded;
          {
            NoGradGuard no_grad;
            folded = layer(x).to_vector();
          }
          REQUIRE(folded.size() == by_layers.size());
          for (size_t i = 0; i < folded.size(); ++i) CHECK(folded[i] == Approx(by_layers[i]).margin(1e-4).epsilon(1e-4));
        }
}

TEST_CASE("a_hat is clipped to [0, 100] before each forward", "[strassen]") {
  Generator gen(3);
  StrassenConv2d layer(conv_opts(2, 3, 1), spn(4, 1, 1), gen);
  Tensor a = module_tensor(layer, "a_hat");
  a.copy_(Tensor::from_vector({4}, {-5, 0.5f, 200, 7}));
  layer(rand_normal({2, 2, 5, 5}, gen));
  CHECK(a.to_vector() == std::vector<real>{0, 0.5f, 100, 7});
}

TEST_CASE("frozen ternary mode trains only a_hat, the hidden BN and the bias", "[strassen]") {
  Generator gen(4);
  StrassenConv2d layer(conv_opts(3, 4, 1, true), spn(6, 2, 1, StrassenMode::TernaryFrozen), gen);
  sum(square(layer(rand_normal({2, 3, 8, 8}, gen)))).backward();
  CHECK_FALSE(module_tensor(layer, "w_b").grad().defined());
  CHECK_FALSE(module_tensor(layer, "w_c").grad().defined());
  CHECK_FALSE(module_tensor(layer, "weight").grad().defined());
  CHECK(module_tensor(layer, "a_hat").grad().defined());
  CHECK(module_tensor(layer, "hidden_bn.bias").grad().defined());
  CHECK(module_tensor(layer, "bias").grad().defined());
  layer.zero_grad();
  layer.set_mode(StrassenMode::SpnTernary);
  sum(square(layer(rand_normal({2, 3, 8, 8}, gen)))).backward();
  CHECK(module_tensor(layer, "w_b").grad().defined());
  CHECK(module_tensor(layer, "w_c").grad().defined());
}

TEST_CASE("StrassenLinear shapes, modes and errors", "[strassen]") {
  Generator gen(5);
  StrassenLinear layer(10, 7, true, spn(12, 1, 1), gen);
  Tensor x = rand_normal({4, 10}, gen);
  CHECK(layer(x).shape() == Shape{4, 7});
  layer.set_mode(StrassenMode::Dense);
  CHECK(layer(x).to_vector() == linear(x, module_tensor(layer, "weight"), module_tensor(layer, "bias")).to_vector());
  layer.set_mode(StrassenMode::SpnTernary);
  CHECK_THROWS_WITH(layer(rand_normal({2, 3, 10}, gen)), Catch::Contains("[2, 3, 10]"));
  StrassenOptions no_bn = spn(12, 1, 1);
  no_bn.hidden_bn = false;
  StrassenLinear seq(10, 7, false, no_bn, gen);
  CHECK(seq(rand_normal({2, 3, 10}, gen)).shape() == Shape{2, 3, 7});
  CHECK_THROWS_WITH(StrassenLinear(10, 7, true, spn(0, 1, 1), gen), Catch::Contains("r = 0"));
}
