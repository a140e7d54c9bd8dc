// Gradient checks: elementwise ops, broadcasting, reductions.
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

TEST_CASE("gradcheck binary ops with broadcasting", "[grad][elementwise]") {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 4}, {3, 4}}, {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{5, 7}, {7}}, {{4, 1, 3}, {1, 5, 1}}, {{2, 3}, {}}};
  for (auto& [sa, sb] : cases) {
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor a = random_tensor(sa, 1), b = random_tensor(sb, 2, 0.5, 2.0);  // b away from 0 for div
    check_gradients([](const std::vector<Tensor>& x) { return add(x[0], x[1]); }, {a, b});
    check_gradients([](const std::vector<Tensor>& x) { return sub(x[0], x[1]); }, {a, b});
    check_gradients([](const std::vector<Tensor>& x) { return mul(x[0], x[1]); }, {a, b});
    check_gradients([](const std::vector<Tensor>& x) { return div(x[0], x[1]); }, {a, b});
    check_gradients([](const std::vector<Tensor>& x) { return div(x[1], x[0] * x[0] + 1.0); }, {a, b});
  }
}

TEST_CASE("gradcheck unary and scalar ops", "[grad][elementwise]") {
  // Inputs kept away from kinks (relu/abs/clamp at 0 and at the clamp bounds).
  Tensor x = random_tensor({3, 5, 7}, 3, -2, 2);
  for (int64_t i = 0; i < x.numel(); ++i) {
    real& v = x.data()[i];
    if (std::fabs(v) < 0.05) v += 0.1;
    if (std::fabs(std::fabs(v) - 1.0) < 0.05) v += 0.1;
  }
  Tensor pos = random_tensor({4, 6}, 4, 0.2, 3);
  using F = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<const char*, F>> on_x = {
      {"add_scalar", [](const Tensor& t) { return t + 2.5; }}, {"mul_scalar", [](const Tensor& t) { return t * -1.5; }},
      {"neg", [](const Tensor& t) { return -t; }},             {"exp", [](const Tensor& t) { return exp(t); }},
      {"square", [](const Tensor& t) { return square(t); }},   {"abs", [](const Tensor& t) { return abs(t); }},
      {"relu", [](const Tensor& t) { return relu(t); }},       {"tanh", [](const Tensor& t) { return tanh(t); }},
      {"sigmoid", [](const Tensor& t) { return sigmoid(t); }}, {"clamp", [](const Tensor& t) { return clamp(t, -1, 1); }},
      {"pow int", [](const Tensor& t) { return pow_scalar(t, 3); }},
  };
  for (auto& [name, f] : on_x) {
    INFO(name);
    check_gradients([f = f](const std::vector<Tensor>& v) { return f(v[0]); }, {x});
  }
  const std::vector<std::pair<const char*, F>> on_pos = {
      {"log", [](const Tensor& t) { return log(t); }},
      {"sqrt", [](const Tensor& t) { return sqrt(t); }},
      {"pow frac", [](const Tensor& t) { return pow_scalar(t, 1.7); }},
  };
  for (auto& [name, f] : on_pos) {
    INFO(name);
    check_gradients([f = f](const std::vector<Tensor>& v) { return f(v[0]); }, {pos});
  }
}

TEST_CASE("gradcheck reductions", "[grad][reduce]") {
  Tensor x = random_tensor({2, 3, 4, 5}, 5);
  check_gradients([](const std::vector<Tensor>& v) { return sum(v[0]); }, {x});
  check_gradients([](const std::vector<Tensor>& v) { return mean(v[0]); }, {x});
  for (std::vector<int64_t> axes : std::vector<std::vector<int64_t>>{{0}, {1}, {3}, {0, 2, 3}, {-1, 1}}) {
    INFO("axes count " << axes.size() << " first " << axes[0]);
    for (bool keep : {false, true}) {
      check_gradients([axes, keep](const std::vector<Tensor>& v) { return sum(v[0], axes, keep); }, {x});
      check_gradients([axes, keep](const std::vector<Tensor>& v) { return mean(v[0], axes, keep); }, {x});
    }
  }
  for (int64_t axis : {0, 1, 2, 3}) {
    INFO("max axis " << axis);
    check_gradients([axis](const std::vector<Tensor>& v) { return max(v[0], axis); }, {x});
  }
}
