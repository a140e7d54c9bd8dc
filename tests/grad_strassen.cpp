// Gradient checks of the StrassenNets layers (double build): every parameter and the input in
// full-precision SPN mode; the input, ã, the hidden BN and the bias in ternary mode (the latent
// weights get straight-through gradients, checked in grad_quantize.cpp).
#include "layers/strassen.h"
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

namespace {
Conv2dLayerOptions conv_opts(int64_t in, int64_t out, int64_t stride) {
  Conv2dLayerOptions o;
  o.in_channels = in, o.out_channels = out, o.kernel_h = o.kernel_w = 3, o.stride = stride, o.padding = 1, o.bias = true;
  return o;
}
std::vector<Tensor> params_except(const Module& m, const std::vector<std::string>& skip) {
  std::vector<Tensor> out;
  for (auto& [name, t] : m.named_parameters())
    if (std::find(skip.begin(), skip.end(), name) == skip.end()) out.push_back(t);
  return out;
}
}  // namespace

TEST_CASE("gradcheck StrassenConv2d (p, g, stride, odd sizes)", "[grad][strassen]") {
  struct Case {
    int64_t p, g, s, h, w;
  };
  for (const Case c : {Case{1, 1, 1, 5, 6}, Case{2, 1, 1, 7, 6}, Case{1, 2, 2, 7, 9}, Case{2, 2, 2, 9, 8}}) {
    INFO("p " << c.p << " g " << c.g << " stride " << c.s << " input " << c.h << "x" << c.w);
    Generator gen(10 + c.p * 4 + c.g * 2 + c.s);
    StrassenOptions o;
    o.hidden = 6, o.out_patch = c.p, o.groups = c.g, o.mode = StrassenMode::SpnFloat;
    auto layer = std::make_shared<StrassenConv2d>(conv_opts(4, 3, c.s), o, gen);
    for (auto& [name, t] : layer->named_parameters())
      if (name == "a_hat") t.copy_(random_tensor({6}, 7, 0.5, 1.5));
      else if (name == "hidden_bn.bias" || name == "bias") t.copy_(random_tensor(t.shape(), 8));
    const Tensor x = random_tensor({2, 4, c.h, c.w}, 9);
    check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; },
                                {x}, params_except(*layer, {"weight"}));
    layer->set_mode(StrassenMode::SpnTernary);
    check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; },
                                {x}, params_except(*layer, {"weight", "w_b", "w_c"}));
    layer->set_mode(StrassenMode::Dense);
    check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; },
                                {x}, {layer->named_parameters()[0].second});
  }
}

TEST_CASE("gradcheck StrassenLinear with and without hidden batch norm", "[grad][strassen]") {
  for (bool bn : {true, false}) {
    INFO("hidden bn " << bn);
    Generator gen(20 + bn);
    StrassenOptions o;
    o.hidden = 9, o.hidden_bn = bn, o.mode = StrassenMode::SpnFloat;
    auto layer = std::make_shared<StrassenLinear>(5, 4, true, o, gen);
    const Tensor x = random_tensor({6, 5}, 21);
    check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; },
                                {x}, params_except(*layer, {"weight"}));
    layer->set_mode(StrassenMode::TernaryC);
    check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; },
                                {x}, params_except(*layer, {"weight", "w_c"}));
  }
}

TEST_CASE("gradcheck StrassenConv2d with the TTQ rule: the learned scales of W_b and W_c", "[grad][strassen]") {
  for (const int64_t p : {1, 2}) {
    INFO("p " << p);
    Generator gen(40 + p);
    StrassenOptions o;
    o.hidden = 6, o.out_patch = p, o.mode = StrassenMode::SpnTernary;
    o.quant.rule = TernaryRule::Ttq;
    auto layer = std::make_shared<StrassenConv2d>(conv_opts(4, 3, 1), o, gen);
    const Tensor x = random_tensor({2, 4, 5, 7}, 41);
    (*layer)(x);  // the first forward initialises the scales from the weights
    for (auto& [name, t] : layer->named_parameters())
      if (name == "w_b_pos") t.copy_(random_tensor({1}, 42, 0.5, 1.5));
      else if (name == "w_c_neg") t.copy_(random_tensor({1}, 43, 0.5, 1.5));
    REQUIRE(layer->named_parameters().size() == 10);  // weight, bias, w_b, w_c, a_hat, hidden_bn.bias, 4 scales
    check_gradients_with_params([layer](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*layer)(v[0])}; },
                                {x}, params_except(*layer, {"weight", "w_b", "w_c"}));
  }
}
