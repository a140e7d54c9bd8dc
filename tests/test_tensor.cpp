// Tensor basics, views, autograd engine behaviour and error messages.
#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace st;

TEST_CASE("tensor construction and metadata", "[tensor]") {
  Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(t.dim() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.size(-1) == 4);
  CHECK(t.shape() == Shape{2, 3, 4});
  Tensor s = Tensor::scalar(2.5f);
  CHECK(s.dim() == 0);
  CHECK(s.item() == 2.5f);
  Tensor v = Tensor::from_vector({2, 2}, {1, 2, 3, 4});
  CHECK(v.at({1, 0}) == 3);
  CHECK_THROWS_WITH(Tensor::from_vector({2, 2}, {1, 2, 3}), Catch::Contains("[2, 2]"));
  CHECK(reinterpret_cast<uintptr_t>(Tensor::empty({17}).data()) % 64 == 0);
}

TEST_CASE("views share storage; clone does not", "[tensor]") {
  Tensor t = Tensor::arange(12);
  Tensor r = reshape(t, {3, -1});
  CHECK(r.shape() == Shape{3, 4});
  CHECK(r.shares_storage_with(t));
  r.data()[5] = 100;
  CHECK(t.data()[5] == 100);
  Tensor c = t.clone();
  CHECK_FALSE(c.shares_storage_with(t));
  Tensor row = narrow(r, 0, 1, 2);
  CHECK(row.shares_storage_with(t));
  CHECK(row.at({0, 1}) == 100);
  CHECK_THROWS_WITH(reshape(t, {5, 3}), Catch::Contains("[12]") && Catch::Contains("[5, 3]"));
}

TEST_CASE("error messages name both shapes", "[tensor][errors]") {
  Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4, 5});
  CHECK_THROWS_AS(add(a, b), Error);
  CHECK_THROWS_WITH(add(a, b), Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
  CHECK_THROWS_WITH(matmul(a, b), Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
  CHECK_THROWS_WITH(concat({a, b}, 0), Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
  CHECK_THROWS_WITH(mul(Tensor::ones({3}), Tensor::ones({4})), Catch::Contains("[3]") && Catch::Contains("[4]"));
}

TEST_CASE("autograd accumulates, releases the graph and honours no-grad", "[autograd]") {
  Tensor w = Tensor::from_vector({3}, {1, 2, 3}).set_requires_grad(true);
  Tensor loss = sum(mul(w, w));
  loss.backward();
  CHECK(w.grad().to_vector() == std::vector<real>{2, 4, 6});
  // Gradients accumulate across backward passes until zeroed.
  sum(mul(w, w)).backward();
  CHECK(w.grad().to_vector() == std::vector<real>{4, 8, 12});
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  // A released graph cannot be run again.
  Tensor l2 = sum(mul(w, w));
  l2.backward();
  CHECK_THROWS_WITH(l2.backward(), Catch::Contains("released"));
  // No graph under NoGradGuard.
  {
    NoGradGuard guard;
    Tensor y = mul(w, w);
    CHECK_FALSE(y.requires_grad());
  }
  CHECK_THROWS_WITH(Tensor::ones({1}).backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("a tensor used twice receives both gradient contributions", "[autograd]") {
  Tensor x = Tensor::from_vector({2}, {3, -1}).set_requires_grad(true);
  Tensor y = add(mul(x, x), mul_scalar(x, 4));  // dy/dx = 2x + 4
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<real>{10, 2});
}

TEST_CASE("deep graphs do not overflow the stack", "[autograd]") {
  Tensor x = Tensor::from_vector({1}, {1}).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 200000; ++i) y = add_scalar(y, 1e-6f);
  sum(y).backward();
  CHECK(x.grad().item() == 1.0f);
}

TEST_CASE("generator is deterministic and thread-count independent", "[rng]") {
  Generator g1(42), g2(42), g3(43);
  Tensor a = rand_normal({100000}, g1), b = rand_normal({100000}, g2), c = rand_normal({100000}, g3);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  double m = 0, v = 0;
  for (real x : a.to_vector()) m += x;
  m /= a.numel();
  for (real x : a.to_vector()) v += (x - m) * (x - m);
  v /= a.numel();
  CHECK(std::abs(m) < 0.02);
  CHECK(std::abs(v - 1) < 0.02);
  Generator g4(7);
  Tensor bern = Tensor::empty({50000});
  g4.fill_bernoulli(bern, 0.3);
  CHECK(std::abs(sum(bern).item() / 50000 - 0.3) < 0.01);
  // State round trip.
  Generator g5(9);
  g5.uniform();
  auto state = g5.state();
  const double next = g5.uniform();
  Generator g6;
  g6.set_state(state);
  CHECK(g6.uniform() == next);
}
