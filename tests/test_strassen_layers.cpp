// StrassenConv2d / StrassenLinear: shapes, modes, clipping, frozen weights; the StrassenLayer
// interface (ternary matrices, the model walks).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "analysis/op_count.h"
#include "core/autograd.h"
#include "core/ops.h"
#include "layers/sequential.h"
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

namespace {

// The weight a ternary matrix stands for: scale_pos where the code is 1, −scale_neg where it is −1.
Tensor expand(const TernaryMatrix& m) {
  Tensor w = Tensor::empty(m.codes.shape());
  for (int64_t i = 0; i < w.numel(); ++i) {
    const real c = m.codes.data()[i];
    REQUIRE((c == 0 || c == 1 || c == -1));
    w.data()[i] = c > 0 ? m.scale_pos : c < 0 ? -m.scale_neg : real(0);
  }
  return w;
}

// `layer` (ternary mode, evaluation) against `twin` (identical parameters) in spn_fp with W_b,
// W_c replaced by the expanded ternary_matrices() of `layer`: the export form is the weight the
// ternary forward uses.
template <class L>
void check_export_form(L& layer, L& twin, const Tensor& x) {
  NoGradGuard no_grad;
  layer.eval(), twin.eval();
  layer(x);  // sets TTQ's scales from the weights; then different ones, positive and negative
  if (layer.options().quant.rule == TernaryRule::Ttq) {
    module_tensor(layer, "w_b_pos").fill_(real(0.7)), module_tensor(layer, "w_b_neg").fill_(real(1.3));
    module_tensor(layer, "w_c_pos").fill_(real(1.1)), module_tensor(layer, "w_c_neg").fill_(real(0.4));
  }
  const Tensor y = layer(x);
  const std::vector<TernaryMatrix> m = static_cast<const StrassenLayer&>(layer).ternary_matrices();
  REQUIRE(m.size() == 2);
  CHECK(m[0].name == "w_b");
  CHECK(m[1].name == "w_c");
  for (const TernaryMatrix& t : m) {
    CHECK(t.codes.shape() == module_tensor(layer, t.name).shape());
    module_tensor(twin, t.name).copy_(expand(t));
  }
  twin.set_mode(StrassenMode::SpnFloat);
  const Tensor z = twin(x);
  for (int64_t i = 0; i < y.numel(); ++i) CHECK(z.data()[i] == Approx(y.data()[i]).margin(1e-5));
}

TernaryQuantizerOptions rule(TernaryRule r) {
  TernaryQuantizerOptions q;
  q.rule = r;
  q.fixed_step = real(0.05);
  return q;
}

// Two StrassenLinear products summed, switched and exported as one layer: the shape of a layer
// made of several SPNs (an LSTM gate's input and hidden products).
struct TwoProducts : Layer, StrassenLayer {
  std::shared_ptr<StrassenLinear> a, b;
  TwoProducts(const StrassenOptions& o, Generator& gen) {
    a = register_module("a", std::make_shared<StrassenLinear>(6, 4, false, o, gen));
    b = register_module("b", std::make_shared<StrassenLinear>(6, 4, true, o, gen));
  }
  Tensor forward(const Tensor& x) override { return add((*a)(x), (*b)(x)); }
  std::string describe() const override { return "TwoProducts"; }
  StrassenMode mode() const override { return a->mode(); }
  void set_mode(StrassenMode m) override { a->set_mode(m), b->set_mode(m); }
  void fold_ternary_scales() override { a->fold_ternary_scales(), b->fold_ternary_scales(); }
  std::vector<TernaryMatrix> ternary_matrices() const override {
    std::vector<TernaryMatrix> m;
    for (auto& [prefix, l] : {std::pair{"a.", a}, std::pair{"b.", b}})
      for (TernaryMatrix t : l->ternary_matrices()) t.name = prefix + t.name, m.push_back(t);
    return m;
  }
  // Both products see the pair's input.
  LayerCost cost(const std::vector<CallShapes>& calls) const override {
    LayerCost c = a->cost(calls);
    c += b->cost(calls);
    c.type = "TwoProducts";
    return c;
  }
};

}  // namespace

TEST_CASE("StrassenLayer::ternary_matrices: {-1, 0, 1} codes and scales of the weights the ternary forward uses",
          "[strassen]") {
  for (const TernaryRule r : {TernaryRule::Twn, TernaryRule::Fixed, TernaryRule::Ttq}) {
    for (const StrassenMode mode : {StrassenMode::SpnTernary, StrassenMode::TernaryFrozen}) {
      INFO("rule " << ternary_rule_name(r) << ", mode " << strassen_mode_name(mode));
      StrassenOptions o = spn(8, 2, 2, mode);
      o.quant = rule(r);
      Generator g1(21), g2(21), xg(22);
      StrassenConv2d conv(conv_opts(4, 6, 2, true), o, g1), conv_twin(conv_opts(4, 6, 2, true), o, g2);
      check_export_form(conv, conv_twin, rand_normal({2, 4, 9, 7}, xg));
      StrassenLinear lin(10, 7, true, o, g1), lin_twin(10, 7, true, o, g2);
      check_export_form(lin, lin_twin, rand_normal({3, 10}, xg));
    }
  }
  // After folding, the codes are the weights and the scales 1.
  Generator gen(23);
  StrassenLinear lin(10, 7, true, spn(12, 1, 1, StrassenMode::SpnTernary), gen);
  lin.fold_ternary_scales();
  for (const TernaryMatrix& t : lin.ternary_matrices()) {
    CHECK(t.codes.to_vector() == module_tensor(lin, t.name).to_vector());
    CHECK(t.scale_pos == 1);
    CHECK(t.scale_neg == 1);
  }
}

TEST_CASE("set_strassen_mode and fold_ternary_scales reach every StrassenLayer, not inside one", "[strassen]") {
  Generator gen(24);
  Sequential net;
  auto conv = net.add(std::make_shared<StrassenConv2d>(conv_opts(3, 4, 1), spn(4, 1, 1), gen));
  net.add(std::make_shared<Conv2d>(conv_opts(4, 6, 1), gen));
  auto pair = net.add(std::make_shared<TwoProducts>(spn(5, 1, 1), gen));
  const std::vector<StrassenLayer*> found = find_strassen_layers(net);
  REQUIRE(found.size() == 2);
  CHECK(found[0] == conv.get());
  CHECK(found[1] == pair.get());  // the StrassenLinear inside it are the pair's to switch
  CHECK(set_strassen_mode(net, StrassenMode::SpnTernary) == 2);
  CHECK(conv->mode() == StrassenMode::SpnTernary);
  CHECK(pair->a->mode() == StrassenMode::SpnTernary);
  CHECK(pair->b->mode() == StrassenMode::SpnTernary);
  CHECK(pair->ternary_matrices().size() == 4);
  CHECK(pair->ternary_matrices()[2].name == "b.w_b");
  CHECK(fold_ternary_scales(net) == 2);
  for (const std::string name : {"0.w_b", "0.w_c", "2.a.w_b", "2.a.w_c", "2.b.w_b", "2.b.w_c"})
    for (real v : module_tensor(net, name).to_vector()) REQUIRE((v == 0 || v == 1 || v == -1));
  set_strassen_mode(net, StrassenMode::SpnFloat);
  CHECK_THROWS_WITH(fold_ternary_scales(net), Catch::Contains("mode spn_fp"));
  CHECK(parse_strassen_mode("ternary_b") == StrassenMode::TernaryB);
  CHECK_THROWS_WITH(parse_strassen_mode("tern"), Catch::Contains("unknown Strassen mode 'tern'"));
}

TEST_CASE("count_model counts a StrassenLayer made of several SPNs as one row", "[strassen][count]") {
  Generator gen(25);
  TwoProducts pair(spn(5, 1, 1, StrassenMode::SpnTernary), gen);
  const ModelCount m = count_model(pair, {3, 6});
  REQUIRE(m.layers.size() == 1);  // the StrassenLinear inside are the pair's
  const LayerCount& row = m.layers[0];
  CHECK(row.type == "TwoProducts");
  CHECK(row.calls == 1);
  CHECK(row.output == Shape{3, 4});
  CHECK(row.mults == 2 * 3 * (5 + 4));  // per SPN and row: r + out
  CHECK(row.adds == 2 * 3 * (5 * 6 + 4 * 5));
  CHECK(row.ternary_params == 2 * (5 * 6 + 4 * 5));
  CHECK(row.params == pair.num_parameters() - 2 * 4 * 6);  // everything but the dense weights
  CHECK(m.unused_params == 2 * 4 * 6);
  CHECK(m.strassen_layers == 1);
  CHECK(pair.mode() == StrassenMode::SpnTernary);  // restored after the dense shape pass
  CHECK(pair.b->mode() == StrassenMode::SpnTernary);
}
