// Module registration, naming, modes, parameter counting, initialisers.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/ops.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "layers/simple_layers.h"

using namespace st;

TEST_CASE("modules name parameters and buffers with dotted paths in registration order", "[module]") {
  Generator gen(1);
  Sequential net;
  net.add(std::make_shared<Conv2d>(Conv2dLayerOptions{3, 8, 3, 3, 1, 1, 1, false}, gen));
  net.add(std::make_shared<BatchNorm>(BatchNormLayerOptions{8}));
  net.add(std::make_shared<ReLU>());
  net.add(std::make_shared<GlobalAvgPool2d>());
  net.add(std::make_shared<Linear>(LinearOptions{8, 10, true}, gen));
  std::vector<std::string> names;
  for (auto& [name, t] : net.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "4.weight", "4.bias"});
  std::vector<std::string> buffers;
  for (auto& [name, t] : net.named_buffers()) buffers.push_back(name);
  CHECK(buffers == std::vector<std::string>{"1.running_mean", "1.running_var"});
  CHECK(net.num_parameters() == 8 * 3 * 9 + 8 + 8 + 80 + 10);
  for (const Tensor& p : net.parameters()) CHECK(p.requires_grad());

  Tensor x = rand_normal({4, 3, 6, 6}, gen);
  Tensor y = net(x);
  CHECK(y.shape() == Shape{4, 10});
  sum(y).backward();
  for (auto& [name, p] : net.named_parameters()) CHECK(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) CHECK_FALSE(p.grad().defined());

  // Evaluation mode propagates and makes batch norm use its running statistics.
  net.eval();
  CHECK_FALSE(net[1].is_training());
  Tensor y1 = net(x), y2 = net(narrow(x, 0, 0, 1));
  for (int64_t j = 0; j < 10; ++j) CHECK(y2.at({0, j}) == Approx(y1.at({0, j})).epsilon(1e-4));
  CHECK_THROWS_WITH(net(Tensor::ones({1, 4, 6, 6})), Catch::Contains("[1, 4, 6, 6]"));
}

TEST_CASE("batch norm affine modes", "[module]") {
  BatchNorm learn(BatchNormLayerOptions{4});
  CHECK(learn.named_parameters().size() == 2);
  BatchNormLayerOptions fixed{4};
  fixed.affine = BatchNormLayerOptions::Affine::FixedScale;
  BatchNorm f(fixed);
  CHECK(f.named_parameters().size() == 1);
  CHECK(f.named_parameters()[0].first == "bias");
  BatchNormLayerOptions none{4};
  none.affine = BatchNormLayerOptions::Affine::None;
  CHECK(BatchNorm(none).named_parameters().empty());
}

TEST_CASE("initialisers have the documented statistics", "[module]") {
  Generator gen(5);
  Tensor w = Tensor::empty({256, 128, 3, 3});
  init::kaiming_normal(w, gen, /*fan_out_mode=*/true);
  double m = 0, v = 0;
  for (real x : w.to_vector()) m += x;
  m /= w.numel();
  for (real x : w.to_vector()) v += (x - m) * (x - m);
  v /= w.numel();
  CHECK(std::sqrt(v) == Approx(std::sqrt(2.0 / (256 * 9))).epsilon(0.01));
  Tensor u = Tensor::empty({200, 300});
  init::xavier_uniform(u, gen, 2.0);
  const double a = 2.0 * std::sqrt(6.0 / 500.0);
  real lo = 1e9, hi = -1e9;
  for (real x : u.to_vector()) lo = std::min(lo, x), hi = std::max(hi, x);
  CHECK(hi <= a);
  CHECK(lo >= -a);
  CHECK(hi > 0.99 * a);
}
