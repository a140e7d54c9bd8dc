// SGD update rule (checked against hand-computed PyTorch semantics), schedules, clipping.
#include <catch2/catch.hpp>

#include "optim/schedule.h"
#include "optim/sgd.h"

using namespace st;

namespace {
Tensor param(std::vector<real> v) { return Tensor::from_vector({static_cast<int64_t>(v.size())}, v).set_requires_grad(true); }
}  // namespace

TEST_CASE("sgd with momentum and weight decay follows PyTorch's rule", "[optim]") {
  Tensor p = param({1.0f, -2.0f});
  SgdOptions o;
  o.lr = 0.1, o.momentum = 0.9, o.weight_decay = 0.01;
  Sgd sgd({p}, o);
  // step 1: d = g + wd p = [0.5+0.01, 0.5-0.02]; buf = d; p -= 0.1 d
  p.set_grad(Tensor::from_vector({2}, {0.5f, 0.5f}));
  sgd.step();
  CHECK(p.data()[0] == Approx(1.0 - 0.1 * 0.51));
  CHECK(p.data()[1] == Approx(-2.0 - 0.1 * 0.48));
  // step 2: d = g + wd p; buf = 0.9 buf + d; p -= 0.1 buf
  const double p0 = p.data()[0];
  p.set_grad(Tensor::from_vector({2}, {1.0f, 0.0f}));
  sgd.step();
  const double d0 = 1.0 + 0.01 * p0, buf0 = 0.9 * 0.51 + d0;
  CHECK(p.data()[0] == Approx(p0 - 0.1 * buf0));
  // Nesterov: p -= lr (d + m buf)
  Tensor q = param({1.0f});
  SgdOptions on;
  on.lr = 0.5, on.momentum = 0.5, on.nesterov = true;
  Sgd nes({q}, on);
  q.set_grad(Tensor::from_vector({1}, {2.0f}));
  nes.step();
  CHECK(q.data()[0] == Approx(1.0 - 0.5 * (2.0 + 0.5 * 2.0)));
}

TEST_CASE("weight decay exemption through parameter groups", "[optim]") {
  Tensor w = param({1.0f}), b = param({1.0f});
  SgdOptions o;
  o.lr = 1.0;
  Sgd sgd({ParamGroup{{w}, 0.1}, ParamGroup{{b}, 0.0}}, o);
  w.set_grad(Tensor::zeros({1}));
  b.set_grad(Tensor::zeros({1}));
  sgd.step();
  CHECK(w.data()[0] == Approx(0.9));
  CHECK(b.data()[0] == Approx(1.0));
  CHECK_THROWS_WITH(Sgd({w}, SgdOptions{-1.0}), Catch::Contains("-1"));
}

TEST_CASE("learning-rate schedules", "[optim]") {
  LrScheduleOptions ms;
  ms.kind = LrScheduleOptions::Kind::MultiStep, ms.base_lr = 0.1, ms.milestones = {150, 200};
  LrSchedule m(ms);
  CHECK(m.lr(0) == Approx(0.1));
  CHECK(m.lr(149.9) == Approx(0.1));
  CHECK(m.lr(150) == Approx(0.01));
  CHECK(m.lr(200) == Approx(0.001));
  LrScheduleOptions st;
  st.kind = LrScheduleOptions::Kind::Step, st.base_lr = 0.01, st.step_size = 10;
  CHECK(LrSchedule(st).lr(25) == Approx(0.0001));
  LrScheduleOptions cs;
  cs.kind = LrScheduleOptions::Kind::Cosine, cs.base_lr = 1.0, cs.total_epochs = 10;
  LrSchedule c(cs);
  CHECK(c.lr(0) == Approx(1.0));
  CHECK(c.lr(5) == Approx(0.5));
  CHECK(c.lr(10) == Approx(0.0).margin(1e-12));
  LrScheduleOptions wu;
  wu.base_lr = 1.0, wu.warmup_epochs = 2, wu.warmup_start_factor = 0.0;
  CHECK(LrSchedule(wu).lr(1) == Approx(0.5));
  CHECK(LrSchedule(wu).lr(3) == Approx(1.0));
}

TEST_CASE("reduce on plateau halves when improvement is below the threshold", "[optim]") {
  PlateauOptions po;
  po.mode = "min", po.factor = 0.5, po.threshold = 1.0, po.absolute_threshold = true;
  ReduceOnPlateau plateau(po);
  double lr = 1.0;
  lr = plateau.observe(100, lr);
  CHECK(lr == 1.0);
  lr = plateau.observe(90, lr);  // improved by 10
  CHECK(lr == 1.0);
  lr = plateau.observe(89.5, lr);  // improved by less than 1
  CHECK(lr == 0.5);
}

TEST_CASE("gradient clipping scales to the global norm", "[optim]") {
  Tensor a = param({3.0f}), b = param({0.0f});
  a.set_grad(Tensor::from_vector({1}, {3.0f}));
  b.set_grad(Tensor::from_vector({1}, {4.0f}));
  CHECK(clip_grad_norm({a, b}, 1.0) == Approx(5.0));
  CHECK(a.grad().item() == Approx(0.6).epsilon(1e-5));
  CHECK(b.grad().item() == Approx(0.8).epsilon(1e-5));
}
