// Float-build tests of batch_norm, the softmax family and losses, embedding and dropout: values
// against hand-computed numbers, stability, randomness properties and error messages.
// (Their gradients are checked in tests/grad_norm_loss.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/norm.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace st;
using Catch::Contains;

namespace {

void check_values(const Tensor& t, const std::vector<double>& expected, double eps = 1e-5) {
  REQUIRE(t.numel() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(t.data()[i] == Approx(expected[i]).margin(eps));
  }
}

}  // namespace

TEST_CASE("batch_norm training normalises with batch statistics and updates running stats", "[norm]") {
  // [N=4, C=2]; channel 0 = 1,2,3,4 (mean 2.5, biased var 1.25, unbiased 5/3),
  // channel 1 = 2,4,6,8 (mean 5, biased var 5, unbiased 20/3).
  Tensor x = Tensor::from_vector({4, 2}, {1, 2, 2, 4, 3, 6, 4, 8});
  Tensor w = Tensor::from_vector({2}, {2, 0.5});
  Tensor b = Tensor::from_vector({2}, {1, -1});
  Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
  Tensor y = batch_norm(x, w, b, rm, rv, true);
  CHECK(y.shape() == Shape{4, 2});
  // y = γ (x - mean) / sqrt(var + 1e-5) + β
  check_values(y, {-1.6832708, -1.6708197, 0.1055764, -1.2236066, 1.8944236, -0.7763934, 3.6832708, -0.3291803});
  // running = 0.9 * running + 0.1 * batch statistic (unbiased variance)
  check_values(rm, {0.25, 0.5});
  check_values(rv, {0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.1 * 20.0 / 3.0});

  // A second step with momentum 0.5 moves halfway to the same batch statistics.
  BatchNormOptions opt;
  opt.momentum = 0.5;
  batch_norm(x, w, b, rm, rv, true, opt);
  check_values(rm, {0.5 * 0.25 + 0.5 * 2.5, 0.5 * 0.5 + 0.5 * 5});
  check_values(rv, {0.5 * (0.9 + 0.1 * 5.0 / 3.0) + 0.5 * 5.0 / 3.0, 0.5 * (0.9 + 0.1 * 20.0 / 3.0) + 0.5 * 20.0 / 3.0});
}

TEST_CASE("batch_norm over [N, C, H, W] reduces over N, H and W", "[norm]") {
  // [2, 2, 1, 2]: channel 0 = 1,3 | 5,7 (mean 4, var 5, unbiased 20/3);
  //               channel 1 = 0,0 | 2,-2 (mean 0, var 2, unbiased 8/3).
  Tensor x = Tensor::from_vector({2, 2, 1, 2}, {1, 3, 0, 0, 5, 7, 2, -2});
  Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true);
  const double s0 = 1 / std::sqrt(5 + 1e-5), s1 = 1 / std::sqrt(2 + 1e-5);
  check_values(y, {-3 * s0, -1 * s0, 0, 0, 1 * s0, 3 * s0, 2 * s1, -2 * s1});
  check_values(rm, {0.4, 0});
  check_values(rv, {0.9 + 0.1 * 20.0 / 3.0, 0.9 + 0.1 * 8.0 / 3.0});

  // Without running buffers training still works and nothing else is touched.
  Tensor y2 = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  CHECK(y2.to_vector() == y.to_vector());
}

TEST_CASE("batch_norm on a larger random input matches a naive loop", "[norm]") {
  // Large enough (36992 elements) for the kernel's OpenMP path.
  Generator gen(3);
  const int64_t N = 8, C = 16, S = 17 * 17;
  Tensor x = rand_normal({N, C, 17, 17}, gen, 2.0, 3.0);
  Tensor w = rand_uniform({C}, gen, 0.5, 1.5), b = rand_uniform({C}, gen, -1, 1);
  Tensor y = batch_norm(x, w, b, Tensor(), Tensor(), true);
  for (int64_t c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) m += x.data()[(n * C + c) * S + i];
    m /= N * S;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) v += std::pow(x.data()[(n * C + c) * S + i] - m, 2);
    v /= N * S;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t k = (n * C + c) * S + i;
        const double ref = w.data()[c] * (x.data()[k] - m) / std::sqrt(v + 1e-5) + b.data()[c];
        REQUIRE(y.data()[k] == Approx(ref).margin(1e-4));
      }
  }
}

TEST_CASE("batch_norm evaluation uses the running statistics and leaves them unchanged", "[norm]") {
  Tensor x = Tensor::from_vector({2, 2}, {3, 5, -1, 2});
  Tensor w = Tensor::from_vector({2}, {2, 1});
  Tensor b = Tensor::from_vector({2}, {0.5, 0});
  Tensor rm = Tensor::from_vector({2}, {1, 2}), rv = Tensor::from_vector({2}, {4, 9});
  Tensor y = batch_norm(x, w, b, rm, rv, false);
  const double s0 = 1 / std::sqrt(4 + 1e-5), s1 = 1 / std::sqrt(9 + 1e-5);
  check_values(y, {2 * 2 * s0 + 0.5, 3 * s1, 2 * -2 * s0 + 0.5, 0});
  check_values(rm, {1, 2});
  check_values(rv, {4, 9});
  // A single sample is fine in evaluation.
  Tensor one = Tensor::from_vector({1, 2}, {1, 2});
  check_values(batch_norm(one, Tensor(), Tensor(), rm, rv, false), {0, 0});
}

TEST_CASE("batch_norm backward reaches x, weight and bias", "[norm]") {
  Tensor x = Tensor::from_vector({4, 2}, {1, 2, 2, 4, 3, 6, 4, 8}).set_requires_grad(true);
  Tensor w = Tensor::from_vector({2}, {2, 0.5}).set_requires_grad(true);
  Tensor b = Tensor::from_vector({2}, {1, -1}).set_requires_grad(true);
  sum(batch_norm(x, w, b, Tensor(), Tensor(), true)).backward();
  // d/dβ sum = M; d/dγ sum = Σ x̂ = 0; d/dx sum = 0 in training (the mean path cancels it).
  check_values(b.grad(), {4, 4});
  check_values(w.grad(), {0, 0}, 1e-4);
  check_values(x.grad(), std::vector<double>(8, 0.0), 1e-4);
}

TEST_CASE("batch_norm errors name the shapes", "[norm]") {
  Tensor x = Tensor::zeros({2, 4, 3, 3});
  CHECK_THROWS_WITH(batch_norm(x, Tensor::ones({5}), Tensor(), Tensor(), Tensor(), true),
                    Contains("weight [5]") && Contains("[2, 4, 3, 3]"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor::ones({4, 1}), Tensor(), Tensor(), true),
                    Contains("bias [4, 1]") && Contains("[2, 4, 3, 3]"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor::zeros({3}), Tensor::ones({3}), true),
                    Contains("running_mean [3]"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false), Contains("running_mean"));
  CHECK_THROWS_WITH(batch_norm(Tensor::zeros({6}), Tensor(), Tensor(), Tensor(), Tensor(), true), Contains("[6]"));
  CHECK_THROWS_WITH(batch_norm(Tensor::zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                    Contains("more than one value") && Contains("[1, 3]"));
  CHECK_THROWS_AS(batch_norm(x, Tensor::ones({5}), Tensor(), Tensor(), Tensor(), true), st::Error);
}

TEST_CASE("softmax rows sum to one along any axis", "[loss]") {
  Generator gen(5);
  Tensor x = rand_normal({3, 4, 5}, gen, 0, 3);
  for (int64_t axis : {0, 1, 2, -1}) {
    INFO("axis " << axis);
    const Tensor y = softmax(x, axis);
    const Tensor s = sum(y, {axis});
    for (real v : s.to_vector()) CHECK(v == Approx(1).margin(1e-5));
    for (real v : y.to_vector()) CHECK(v > 0);
    // log_softmax is the log of softmax.
    const Tensor ly = log_softmax(x, axis);
    for (int64_t i = 0; i < y.numel(); ++i) CHECK(ly.data()[i] == Approx(std::log(y.data()[i])).margin(1e-5));
  }
  // Hand-computed: softmax([0, ln 3]) = [1/4, 3/4].
  check_values(softmax(Tensor::from_vector({1, 2}, {0, std::log(3.f)})), {0.25, 0.75});
}

TEST_CASE("softmax and log_softmax are stable for large logits", "[loss]") {
  Tensor big = Tensor::from_vector({2, 3}, {1e4, 1e4 + 1, 1e4 - 1, -1e4, -1e4 + 1, -1e4 - 1});
  Tensor small = Tensor::from_vector({2, 3}, {0, 1, -1, 0, 1, -1});
  const Tensor y = softmax(big), ys = softmax(small);
  const Tensor ly = log_softmax(big), lys = log_softmax(small);
  for (int64_t i = 0; i < 6; ++i) {
    REQUIRE(std::isfinite(y.data()[i]));
    REQUIRE(std::isfinite(ly.data()[i]));
    CHECK(y.data()[i] == Approx(ys.data()[i]).margin(1e-5));
    CHECK(ly.data()[i] == Approx(lys.data()[i]).margin(1e-5));
  }
  const real ce = cross_entropy(big, {1, 2}).item();
  CHECK(std::isfinite(ce));
}

TEST_CASE("softmax and cross_entropy on large inputs agree row by row", "[loss]") {
  // [40, 1000] takes the kernels' OpenMP path; each row alone (one row) runs serially.
  Generator gen(8);
  const int64_t N = 40, C = 1000;
  Tensor x = rand_normal({N, C}, gen, 0, 4);
  std::vector<int64_t> labels(N);
  for (int64_t n = 0; n < N; ++n) labels[n] = (n * 37) % C;
  const Tensor y = softmax(x);
  double ce = 0;
  for (int64_t n = 0; n < N; ++n) {
    Tensor row = Tensor::from_vector({1, C}, std::vector<real>(x.data() + n * C, x.data() + (n + 1) * C));
    const Tensor yr = softmax(row);
    for (int64_t c = 0; c < C; ++c) REQUIRE(y.data()[n * C + c] == Approx(yr.data()[c]).margin(1e-7));
    ce += cross_entropy(row, {labels[n]}).item();
  }
  CHECK(cross_entropy(x, labels).item() == Approx(ce / N).epsilon(1e-5));
}

TEST_CASE("cross_entropy value and gradient on a tiny example", "[loss]") {
  // Row 0: [1, 2, 3], label 2 -> log(1 + e^-1 + e^-2) = 0.4076060
  // Row 1: [0, 0, 0], label 0 -> log 3 = 1.0986123;  mean 0.7531091
  Tensor logits = Tensor::from_vector({2, 3}, {1, 2, 3, 0, 0, 0}).set_requires_grad(true);
  Tensor loss = cross_entropy(logits, {2, 0});
  CHECK(loss.shape() == Shape{});
  CHECK(loss.item() == Approx(0.7531091).margin(1e-6));
  loss.backward();
  // (softmax - onehot) / N
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  check_values(logits.grad(), {1 / z / 2, std::exp(1.0) / z / 2, (std::exp(2.0) / z - 1) / 2, (1.0 / 3 - 1) / 2,
                               1.0 / 3 / 2, 1.0 / 3 / 2});
  // Under NoGradGuard the value is the same and nothing is recorded.
  NoGradGuard ng;
  Tensor l2 = cross_entropy(logits, {2, 0});
  CHECK(l2.item() == Approx(0.7531091).margin(1e-6));
  CHECK_FALSE(l2.requires_grad());
}

TEST_CASE("cross_entropy errors name the label, its position and C", "[loss]") {
  Tensor logits = Tensor::zeros({3, 5});
  CHECK_THROWS_WITH(cross_entropy(logits, {0, 7, 1}),
                    Contains("label 7") && Contains("position 1") && Contains("C = 5"));
  CHECK_THROWS_WITH(cross_entropy(logits, {0, 1, -1}), Contains("label -1") && Contains("position 2"));
  CHECK_THROWS_WITH(cross_entropy(logits, {0, 1}), Contains("2 labels") && Contains("[3, 5]"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({3}), {0, 1, 2}), Contains("[3]"));
}

TEST_CASE("soft_cross_entropy values", "[loss]") {
  // Equal uniform logits: the cross-entropy of a uniform distribution with itself is log C.
  CHECK(soft_cross_entropy(Tensor::zeros({2, 2}), Tensor::zeros({2, 2})).item() == Approx(std::log(2.0)));
  // T = 2: logits [1, 0] -> log_softmax([0.5, 0]); target [0, 1] -> softmax([0, 0.5]).
  Tensor z = Tensor::from_vector({1, 2}, {1, 0}), t = Tensor::from_vector({1, 2}, {0, 1});
  CHECK(soft_cross_entropy(z, t, 2).item() == Approx(0.7853066).margin(1e-6));
  // With one-hot-like targets (very confident teacher) it approaches cross_entropy.
  Tensor logits = Tensor::from_vector({2, 3}, {1, 2, 3, 0, 0, 0});
  Tensor teacher = Tensor::from_vector({2, 3}, {-100, -100, 100, 100, -100, -100});
  CHECK(soft_cross_entropy(logits, teacher).item() == Approx(cross_entropy(logits, {2, 0}).item()).margin(1e-5));
  CHECK_THROWS_WITH(soft_cross_entropy(logits, Tensor::zeros({2, 4})), Contains("[2, 4]") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(soft_cross_entropy(logits, teacher, 0), Contains("temperature"));
}

TEST_CASE("embedding gathers rows and scatter-adds gradients", "[embedding]") {
  Tensor w = Tensor::from_vector({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}).set_requires_grad(true);
  Tensor y = embedding(w, {3, 1, 1, 0, 2, 3}, {2, 3});
  CHECK(y.shape() == Shape{2, 3, 2});
  check_values(y, {30, 31, 10, 11, 10, 11, 0, 1, 20, 21, 30, 31});
  y.backward(Tensor::ones({2, 3, 2}));
  check_values(w.grad(), {1, 1, 2, 2, 1, 1, 2, 2});
  CHECK_THROWS_WITH(embedding(w, {0, 4}, {2}), Contains("index 4") && Contains("V = 4"));
  CHECK_THROWS_WITH(embedding(w, {-2}, {1}), Contains("index -2"));
  CHECK_THROWS_WITH(embedding(w, {0, 1, 2}, {2}), Contains("3 indices"));
}

TEST_CASE("dropout zeroes a fraction p and scales the survivors", "[dropout]") {
  Generator gen(42);
  const real p = 0.3;
  Tensor x = rand_uniform({100000}, gen, 1, 2);
  Tensor y = dropout(x, p, true, gen);
  int64_t zeros = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (y.data()[i] == 0) {
      ++zeros;
    } else {
      REQUIRE(y.data()[i] == Approx(x.data()[i] / (1 - p)));
    }
  }
  CHECK(static_cast<double>(zeros) / x.numel() == Approx(p).margin(0.01));
}

TEST_CASE("dropout is deterministic for a seed and passes x through in evaluation", "[dropout]") {
  Tensor x = Tensor::ones({1000});
  Generator g1(9), g2(9);
  CHECK(dropout(x, 0.5, true, g1).to_vector() == dropout(x, 0.5, true, g2).to_vector());
  // Successive calls draw fresh masks.
  CHECK(dropout(x, 0.5, true, g1).to_vector() != dropout(x, 0.5, true, g1).to_vector());
  Generator g(1);
  const auto before = g.state().counter;
  Tensor e = dropout(x, 0.5, false, g);
  CHECK(e.impl() == x.impl());
  CHECK(dropout(x, 0, true, g).impl() == x.impl());
  CHECK(g.state().counter == before);  // no draws when nothing is dropped
  CHECK_THROWS_WITH(dropout(x, 1, true, g), Contains("[0, 1)") && Contains("1"));
  CHECK_THROWS_WITH(dropout(x, -0.1, false, g), Contains("-0.1"));
}

TEST_CASE("dropout backward applies the same mask", "[dropout]") {
  Generator gen(4);
  Tensor x = Tensor::full({200}, 3).set_requires_grad(true);
  Tensor y = dropout(x, 0.25, true, gen);
  y.backward(Tensor::ones({200}));
  for (int64_t i = 0; i < 200; ++i) CHECK(x.grad().data()[i] == Approx(y.data()[i] / 3));
}

TEST_CASE("batch_norm kernels match the naive reference loops", "[norm]") {
  // S = 1 ([N, C] inputs), S smaller than a SIMD packet, and S longer than one float block (so
  // the block sums are combined in double); a channel mean far from zero tests the two-pass
  // variance. Both modes, with and without the fused ReLU, with and without γ/β, with and
  // without a residual.
  for (const Shape& shape : {Shape{7, 5}, Shape{3, 4, 2, 3}, Shape{2, 3, 33, 35}}) {
    for (bool training : {true, false})
      for (bool relu : {false, true})
        for (bool affine : {false, true})
          for (bool with_residual : {false, true}) {
            INFO("input " << shape_str(shape) << (training ? " training" : " evaluation") << (relu ? " relu" : "")
                          << (affine ? " affine" : "") << (with_residual ? " residual" : ""));
            const int64_t N = shape[0], C = shape[1], S = shape.size() > 2 ? shape[2] * shape[3] : 1;
            Generator gen(5);
            Tensor x = add(rand_uniform(shape, gen, -1, 1), Tensor::scalar(real(30)));
            Tensor dy = rand_uniform(shape, gen, -1, 1);
            Tensor gamma = rand_uniform({C}, gen, 0.5, 1.5), beta = rand_uniform({C}, gen, -1, 1);
            const real* g = affine ? gamma.data() : nullptr;
            const real* b = affine ? beta.data() : nullptr;
            Tensor residual = rand_uniform(shape, gen, -1, 1);
            const real* r = with_residual ? residual.data() : nullptr;
            std::vector<real> mean(C, real(30)), var(C, real(0.3)), mean_ref = mean, var_ref = var;
            std::vector<real> is(C), is_ref(C);
            Tensor y = Tensor::empty(shape), y_ref = Tensor::empty(shape);
            batch_norm_forward(x.data(), N, C, S, g, b, r, real(1e-5), training, relu, mean.data(), var.data(),
                               is.data(), y.data());
            batch_norm_forward_reference(x.data(), N, C, S, g, b, r, real(1e-5), training, relu, mean_ref.data(),
                                         var_ref.data(), is_ref.data(), y_ref.data());
            for (int64_t c = 0; c < C; ++c) {
              CHECK(mean[c] == Approx(mean_ref[c]).epsilon(1e-6));
              CHECK(var[c] == Approx(var_ref[c]).epsilon(1e-4));
            }
            for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(y.data()[i] == Approx(y_ref.data()[i]).margin(2e-4));

            ReluMask relu_y;
            if (relu) relu_y.y = y_ref.data();
            // Gradients added to old values, and written outright over NaN (which must not be read).
            for (bool add : {true, false}) {
              INFO((add ? "add" : "write"));
              const real old = add ? real(0.5) : std::numeric_limits<real>::quiet_NaN();
              Tensor dx = Tensor::full(shape, old), dx_ref = Tensor::full(shape, old);
              Tensor dr = Tensor::full(shape, old), dr_ref = Tensor::full(shape, old);
              std::vector<real> dg(C, 1), db(C, 1), dg_ref = dg, db_ref = db;
              BatchNormGrads out{dx.data(), add, dg.data(), db.data(), with_residual ? dr.data() : nullptr, add};
              BatchNormGrads out_ref{dx_ref.data(), add, dg_ref.data(), db_ref.data(),
                                     with_residual ? dr_ref.data() : nullptr, add};
              batch_norm_backward(x.data(), dy.data(), N, C, S, mean_ref.data(), is_ref.data(), g, training, relu_y,
                                  out);
              batch_norm_backward_reference(x.data(), dy.data(), N, C, S, mean_ref.data(), is_ref.data(), g,
                                            training, relu_y, out_ref);
              for (int64_t c = 0; c < C; ++c) {
                CHECK(dg[c] == Approx(dg_ref[c]).margin(1e-3));
                CHECK(db[c] == Approx(db_ref[c]).margin(1e-3));
              }
              for (int64_t i = 0; i < dx.numel(); ++i)
                REQUIRE(dx.data()[i] == Approx(dx_ref.data()[i]).margin(1e-4));
              if (with_residual) {
                for (int64_t i = 0; i < dr.numel(); ++i) REQUIRE(dr.data()[i] == dr_ref.data()[i]);
                // The residual's gradient alone.
                Tensor dr2 = Tensor::full(shape, old);
                BatchNormGrads only_dr;
                only_dr.dresidual = dr2.data();
                only_dr.dresidual_add = add;
                batch_norm_backward(x.data(), dy.data(), N, C, S, mean_ref.data(), is_ref.data(), g, training,
                                    relu_y, only_dr);
                for (int64_t i = 0; i < dr.numel(); ++i) REQUIRE(dr2.data()[i] == dr_ref.data()[i]);
              }
            }
            if (relu && !with_residual) {
              // The mask recomputed from x is the forward's own: the gradients equal, bit for
              // bit, those masked by the forward's output (with the forward's mean and inv_std).
              INFO("ReLU mask from x");
              ReluMask from_y, from_x;
              from_y.y = y.data();
              from_x.from_x = true;
              from_x.beta = b;
              Tensor dx_y = Tensor::zeros(shape), dx_x = Tensor::zeros(shape);
              std::vector<real> dg_y(C, 0), db_y(C, 0), dg_x(C, 0), db_x(C, 0);
              batch_norm_backward(x.data(), dy.data(), N, C, S, mean.data(), is.data(), g, training, from_y,
                                  BatchNormGrads{dx_y.data(), false, dg_y.data(), db_y.data(), nullptr, false});
              batch_norm_backward(x.data(), dy.data(), N, C, S, mean.data(), is.data(), g, training, from_x,
                                  BatchNormGrads{dx_x.data(), false, dg_x.data(), db_x.data(), nullptr, false});
              for (int64_t c = 0; c < C; ++c) {
                REQUIRE(dg_x[c] == dg_y[c]);
                REQUIRE(db_x[c] == db_y[c]);
              }
              for (int64_t i = 0; i < dx_x.numel(); ++i) REQUIRE(dx_x.data()[i] == dx_y.data()[i]);
              // And the reference with the mask from x agrees with the reference from y.
              Tensor dx_r = Tensor::zeros(shape);
              batch_norm_backward_reference(x.data(), dy.data(), N, C, S, mean_ref.data(), is_ref.data(), g,
                                            training, from_x,
                                            BatchNormGrads{dx_r.data(), true, nullptr, nullptr, nullptr, true});
              for (int64_t i = 0; i < dx_r.numel(); ++i) REQUIRE(dx_r.data()[i] == Approx(dx_y.data()[i]).margin(1e-4));
            }
          }
  }
}

TEST_CASE("batch_norm_add equals batch_norm, add and relu composed, values and gradients", "[norm]") {
  Generator gen(10);
  const Shape shape{4, 3, 5, 5};
  for (bool relu : {false, true})
    for (bool training : {true, false}) {
      INFO((relu ? "relu" : "no relu") << (training ? ", training" : ", evaluation"));
      Tensor x = rand_uniform(shape, gen, -2, 2).set_requires_grad(true);
      Tensor r = rand_uniform(shape, gen, -1, 1).set_requires_grad(true);
      Tensor w = rand_uniform({3}, gen, 0.5, 1.5).set_requires_grad(true);
      Tensor b = rand_uniform({3}, gen, -1, 1).set_requires_grad(true);
      Tensor dy = rand_uniform(shape, gen, -1, 1);
      Tensor rm = rand_uniform({3}, gen, -0.5, 0.5), rv = rand_uniform({3}, gen, 0.5, 1.5);
      Tensor rm2 = rm.clone(), rv2 = rv.clone();
      BatchNormOptions opt;
      opt.relu = relu;
      Tensor y1 = batch_norm_add(x, r, w, b, rm, rv, training, opt);
      sum(mul(y1, dy)).backward();
      const std::vector<Tensor> g1{x.grad().clone(), r.grad().clone(), w.grad().clone(), b.grad().clone()};
      for (Tensor* t : {&x, &r, &w, &b}) t->zero_grad();
      Tensor y2 = add(batch_norm(x, w, b, rm2, rv2, training), r);
      if (relu) y2 = st::relu(y2);
      sum(mul(y2, dy)).backward();
      const std::vector<Tensor> g2{x.grad(), r.grad(), w.grad(), b.grad()};
      for (int64_t i = 0; i < y1.numel(); ++i) REQUIRE(y1.data()[i] == Approx(y2.data()[i]).margin(1e-6));
      for (size_t k = 0; k < g1.size(); ++k)
        for (int64_t i = 0; i < g1[k].numel(); ++i) REQUIRE(g1[k].data()[i] == Approx(g2[k].data()[i]).margin(1e-5));
      for (int64_t c = 0; c < 3; ++c) CHECK(rm.data()[c] == rm2.data()[c]);
    }
  // The residual may be the input itself: both gradients land in one buffer.
  Tensor x = rand_uniform(shape, gen, -2, 2).set_requires_grad(true);
  Tensor dy = rand_uniform(shape, gen, -1, 1);
  sum(mul(batch_norm_add(x, x, Tensor(), Tensor(), Tensor(), Tensor(), true), dy)).backward();
  const Tensor g1 = x.grad().clone();
  x.zero_grad();
  sum(mul(add(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true), x), dy)).backward();
  for (int64_t i = 0; i < g1.numel(); ++i) REQUIRE(g1.data()[i] == Approx(x.grad().data()[i]).margin(1e-5));

  CHECK_THROWS_WITH(batch_norm_add(Tensor::zeros({2, 3, 4}), Tensor::zeros({2, 3, 5}), Tensor(), Tensor(), Tensor(),
                                   Tensor(), true),
                    Catch::Contains("residual [2, 3, 5]") && Catch::Contains("[2, 3, 4]"));
}

TEST_CASE("batch_norm with the fused ReLU equals relu(batch_norm)", "[norm]") {
  Generator gen(9);
  Tensor x = rand_uniform({4, 3, 5, 5}, gen, -2, 2);
  Tensor w = rand_uniform({3}, gen, 0.5, 1.5), b = rand_uniform({3}, gen, -1, 1);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor dy = rand_uniform({4, 3, 5, 5}, gen, -1, 1);
  BatchNormOptions fused;
  fused.relu = true;
  Tensor y1 = batch_norm(x, w, b, Tensor(), Tensor(), true, fused);
  sum(mul(y1, dy)).backward();
  const Tensor gx1 = x.grad().clone(), gw1 = w.grad().clone(), gb1 = b.grad().clone();
  x.zero_grad();
  w.zero_grad();
  b.zero_grad();
  Tensor y2 = relu(batch_norm(x, w, b, Tensor(), Tensor(), true));
  sum(mul(y2, dy)).backward();
  for (int64_t i = 0; i < y1.numel(); ++i) REQUIRE(y1.data()[i] == Approx(y2.data()[i]).margin(1e-6));
  for (int64_t i = 0; i < gx1.numel(); ++i) REQUIRE(gx1.data()[i] == Approx(x.grad().data()[i]).margin(1e-5));
  for (int64_t c = 0; c < 3; ++c) {
    CHECK(gw1.data()[c] == Approx(w.grad().data()[c]).margin(1e-5));
    CHECK(gb1.data()[c] == Approx(b.grad().data()[c]).margin(1e-5));
  }
}
