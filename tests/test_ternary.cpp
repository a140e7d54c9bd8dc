// Ternary export and the ternary baselines: folding the TWN scales into ã (W_b, W_c exactly
// {−1, 0, 1}, same evaluation outputs), TernaryConv2d (TWN / TTQ) forward and factory rules.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "core/autograd.h"
#include "core/ops.h"
#include "layers/strassen.h"
#include "layers/ternary_conv.h"
#include "layers/ternary_linear.h"
#include "models/factory.h"
#include "tests/module_tensor.h"

using namespace st;
using st::test::module_tensor;

namespace {
void require_ternary_codes(const Tensor& t) {
  int64_t nonzero = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const real v = t.data()[i];
    REQUIRE((v == 0 || v == 1 || v == -1));
    nonzero += v != 0;
  }
  REQUIRE(nonzero > 0);
}
double max_rel_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double scale = 0, diff = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    scale = std::max(scale, std::fabs(static_cast<double>(a.data()[i])));
    diff = std::max(diff, std::fabs(static_cast<double>(a.data()[i]) - b.data()[i]));
  }
  return diff / std::max(scale, 1e-12);
}
// A few training-mode forwards so that the hidden BN's running statistics are far from (0, 1).
void warm_up(Layer& layer, const Shape& input, uint64_t seed) {
  NoGradGuard no_grad;
  layer.train();
  Generator gen(seed);
  for (int i = 0; i < 5; ++i) layer(add_scalar(mul_scalar(rand_normal(input, gen), 3), 0.5));
  layer.eval();
}
}  // namespace

TEST_CASE("folding the TWN scales: W_b and W_c become {-1, 0, 1}, evaluation outputs are unchanged", "[ternary]") {
  Conv2dLayerOptions c;
  c.in_channels = 4, c.out_channels = 6, c.kernel_h = c.kernel_w = 3, c.stride = 2, c.padding = 1, c.bias = true;
  for (const int64_t p : {1, 2}) {
    for (const StrassenMode mode : {StrassenMode::SpnTernary, StrassenMode::TernaryFrozen}) {
      INFO("p " << p << " mode " << strassen_mode_name(mode));
      Generator gen(60 + p);
      StrassenOptions o;
      o.hidden = 8, o.out_patch = p, o.groups = 2, o.mode = mode;
      StrassenConv2d layer(c, o, gen);
      module_tensor(layer, "a_hat").copy_(rand_uniform({8}, gen, 0.2, 3));
      module_tensor(layer, "hidden_bn.bias").copy_(rand_uniform({8}, gen, -1, 1));
      warm_up(layer, {3, 4, 9, 7}, 61);
      Generator xg(62);
      const Tensor x = rand_normal({2, 4, 9, 7}, xg);
      NoGradGuard no_grad;
      const Tensor before = layer(x);
      layer.fold_ternary_scales();
      require_ternary_codes(module_tensor(layer, "w_b"));
      require_ternary_codes(module_tensor(layer, "w_c"));
      const Tensor after = layer(x);
      CHECK(max_rel_diff(before, after) < 1e-5);
    }
  }
  for (const bool bn : {true, false}) {
    INFO("StrassenLinear, hidden bn " << bn);
    Generator gen(63);
    StrassenOptions o;
    o.hidden = 7, o.hidden_bn = bn, o.mode = StrassenMode::SpnTernary;
    StrassenLinear layer(5, 3, true, o, gen);
    module_tensor(layer, "a_hat").copy_(rand_uniform({7}, gen, 0.2, 3));
    warm_up(layer, {16, 5}, 64);
    Generator xg(65);
    const Tensor x = rand_normal({4, 5}, xg);
    NoGradGuard no_grad;
    const Tensor before = layer(x);
    layer.fold_ternary_scales();
    require_ternary_codes(module_tensor(layer, "w_b"));
    require_ternary_codes(module_tensor(layer, "w_c"));
    CHECK(max_rel_diff(before, layer(x)) < 1e-5);
  }
}

TEST_CASE("folding a whole Strassen model keeps its predictions; unsupported cases are errors", "[ternary]") {
  ModelOptions m;
  m.name = "resnet_cifar";
  m.resnet.depth = 8, m.resnet.base_width = 4, m.resnet.shortcut = 'B';
  m.strassen.enabled = true;
  m.strassen.out_patch = 2;
  m.strassen.layer.mode = StrassenMode::SpnTernary;
  Generator gen(66);
  auto model = build_model(m, gen);
  warm_up(*model, {8, 3, 12, 12}, 67);
  Generator xg(68);
  const Tensor x = rand_normal({4, 3, 12, 12}, xg);
  NoGradGuard no_grad;
  const Tensor before = (*model)(x);
  CHECK(fold_ternary_scales(*model) == 9);  // 7 convs + 2 projection shortcuts
  const Tensor after = (*model)(x);
  CHECK(max_rel_diff(before, after) < 1e-4);
  CHECK(argmax(before, 1).data()[0] == argmax(after, 1).data()[0]);

  set_strassen_mode(*model, StrassenMode::SpnFloat);
  CHECK_THROWS_WITH(fold_ternary_scales(*model), Catch::Contains("mode spn_fp"));
  m.strassen.layer.quant.rule = TernaryRule::Ttq;
  auto ttq = build_model(m, gen);
  (*ttq)(x);
  CHECK_THROWS_WITH(fold_ternary_scales(*ttq), Catch::Contains("ttq"));
}

TEST_CASE("TernaryConv2d: the forward uses the TWN / TTQ ternary weight; the factory keeps the first conv", "[ternary]") {
  Conv2dLayerOptions c;
  c.in_channels = 4, c.out_channels = 5, c.kernel_h = c.kernel_w = 3, c.stride = 1, c.padding = 1;
  Generator xg(70);
  const Tensor x = rand_normal({2, 4, 6, 6}, xg);
  NoGradGuard no_grad;
  {
    Generator gen(71);
    TernaryConv2d layer(c, {}, gen);
    const Tensor expect = conv2d(x, ternarize_twn(layer.weight()), Tensor(), Conv2dOptions::make(1, 1, 1));
    CHECK(max_rel_diff(layer(x), expect) == 0);
  }
  {
    Generator gen(72);
    TernaryQuantizerOptions q;
    q.rule = TernaryRule::Ttq;
    TernaryConv2d layer(c, q, gen);
    CHECK(module_tensor(layer, "weight_ttq_ready").data()[0] == 0);
    layer(x);
    // Initialised to TWN's α of the weight, then learned separately.
    const real alpha = ternary_codes_twn(layer.weight()).scale;
    CHECK(module_tensor(layer, "weight_pos").data()[0] == Approx(alpha));
    CHECK(module_tensor(layer, "weight_ttq_ready").data()[0] == 1);
    module_tensor(layer, "weight_pos").data()[0] = 0.3f;
    module_tensor(layer, "weight_neg").data()[0] = 0.7f;
    const Tensor q_w =
        ternarize_ttq(layer.weight(), module_tensor(layer, "weight_pos"), module_tensor(layer, "weight_neg"));
    std::set<real> values(q_w.data(), q_w.data() + q_w.numel());
    CHECK(values == std::set<real>{-0.7f, 0.0f, 0.3f});
    CHECK(max_rel_diff(layer(x), conv2d(x, q_w, Tensor(), Conv2dOptions::make(1, 1, 1))) == 0);
  }
  ModelOptions m;
  m.name = "resnet_cifar";
  m.resnet.depth = 8;
  m.ternary.enabled = true;
  Generator gen(73);
  auto model = build_model(m, gen);
  int64_t ternary = 0, plain = 0;
  std::function<void(Module&)> walk = [&](Module& mod) {
    ternary += dynamic_cast<TernaryConv2d*>(&mod) != nullptr;
    plain += dynamic_cast<Conv2d*>(&mod) != nullptr;
    for (auto& [n, ch] : mod.named_children()) walk(*ch);
  };
  walk(*model);
  CHECK(plain == 1);    // the first convolution
  CHECK(ternary == 6);  // the three blocks' convolutions (shortcut A has none)

  // VGG-7 with its hidden FC ternary; the classifier stays full precision.
  ModelOptions v;
  v.name = "vgg7";
  v.vgg.width = 0.0625;
  v.ternary.enabled = true;
  v.ternary.fc = {"fc1"};
  auto vgg = build_model(v, gen);
  int64_t ternary_fc = 0, plain_fc = 0;
  std::function<void(Module&)> walk_fc = [&](Module& mod) {
    ternary_fc += dynamic_cast<TernaryLinear*>(&mod) != nullptr;
    plain_fc += dynamic_cast<Linear*>(&mod) != nullptr;
    for (auto& [n, ch] : mod.named_children()) walk_fc(*ch);
  };
  walk_fc(*vgg);
  CHECK(ternary_fc == 1);
  CHECK(plain_fc == 1);
  Generator vg(74);
  CHECK((*vgg)(rand_normal({2, 3, 32, 32}, vg)).shape() == Shape{2, 10});
}
