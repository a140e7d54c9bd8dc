// The fused LSTM op and its kernels (float build): forward and backward against the naive
// step-by-step references, a PTB-sized 35-step unroll, shape errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/lstm.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace st;

namespace {

struct LstmCase {
  int64_t T, B, I, H;
  bool state, bias;  // h0/c0 present; b_ih/b_hh present
};

struct LstmArgs {
  Tensor x, h0, c0, w_ih, w_hh, b_ih, b_hh;
};

LstmArgs make_args(const LstmCase& c, uint64_t seed) {
  Generator gen(seed);
  LstmArgs a;
  a.x = rand_uniform({c.T, c.B, c.I}, gen, -1, 1);
  a.w_ih = rand_uniform({4 * c.H, c.I}, gen, -0.3, 0.3);
  a.w_hh = rand_uniform({4 * c.H, c.H}, gen, -0.3, 0.3);
  if (c.state) a.h0 = rand_uniform({c.B, c.H}, gen, -1, 1), a.c0 = rand_uniform({c.B, c.H}, gen, -1, 1);
  if (c.bias) a.b_ih = rand_uniform({4 * c.H}, gen, -0.3, 0.3), a.b_hh = rand_uniform({4 * c.H}, gen, -0.3, 0.3);
  return a;
}

const real* ptr(const Tensor& t) { return t.defined() ? t.data() : nullptr; }
real* mut_ptr(Tensor& t) { return t.defined() ? t.data() : nullptr; }

LstmWeights weights_of(const LstmArgs& a) { return {a.w_ih.data(), a.w_hh.data(), ptr(a.b_ih), ptr(a.b_hh)}; }

void require_close(const Tensor& got, const std::vector<real>& want, double tol, const char* what) {
  INFO(what << " " << shape_str(got.shape()));
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i) worst = std::max(worst, std::fabs(double(got.data()[i]) - want[i]));
  CHECK(worst <= tol);
}

std::vector<real> slice_last(const std::vector<real>& seq, int64_t T, int64_t BH) {
  return std::vector<real>(seq.begin() + (T - 1) * BH, seq.end());
}

}  // namespace

TEST_CASE("lstm forward matches the naive reference", "[lstm]") {
  const std::vector<LstmCase> cases = {
      {5, 4, 7, 9, true, true}, {5, 4, 7, 9, false, false}, {1, 3, 2, 5, true, false}, {35, 4, 32, 32, false, true},
      // Large enough for the step loop to split the hidden units among threads (H not a multiple of 8).
      {4, 8, 12, 100, true, true}, {3, 8, 12, 100, false, false}};
  for (const LstmCase& c : cases) {
    INFO("T " << c.T << " B " << c.B << " I " << c.I << " H " << c.H << " state " << c.state << " bias " << c.bias);
    const LstmArgs a = make_args(c, 7);
    const LstmSizes s{c.T, c.B, c.I, c.H};
    std::vector<real> h(c.T * c.B * c.H), cs(c.T * c.B * c.H);
    lstm_forward_reference(s, a.x.data(), ptr(a.h0), ptr(a.c0), weights_of(a), h.data(), cs.data());
    const LstmOutput o = lstm(a.x, a.h0, a.c0, a.w_ih, a.w_hh, a.b_ih, a.b_hh);
    CHECK(o.output.shape() == Shape{c.T, c.B, c.H});
    CHECK(o.h_n.shape() == Shape{c.B, c.H});
    CHECK(o.c_n.shape() == Shape{c.B, c.H});
    require_close(o.output, h, 1e-5, "output");
    require_close(o.h_n, slice_last(h, c.T, c.B * c.H), 1e-5, "h_n");
    require_close(o.c_n, slice_last(cs, c.T, c.B * c.H), 1e-5, "c_n");
  }
}

TEST_CASE("lstm backward matches the naive reference", "[lstm]") {
  // Gradients of L = Σ output⊙w_out + Σ h_n⊙w_h + Σ c_n⊙w_c through the op (autograd wiring and
  // fused kernel) against lstm_backward_reference seeded with the same weights.
  const std::vector<LstmCase> cases = {{6, 3, 5, 7, true, true},
                                       {6, 3, 5, 7, false, false},
                                       {1, 2, 4, 3, true, true},
                                       {4, 8, 12, 100, true, true},  // threaded step loop, as above
                                       {3, 8, 12, 100, false, false}};
  for (const LstmCase& c : cases) {
    for (int used = 0; used < 4; ++used) {  // 0: all outputs; 1: output; 2: h_n; 3: c_n
      INFO("T " << c.T << " state " << c.state << " bias " << c.bias << " outputs used " << used);
      LstmArgs a = make_args(c, 11);
      for (Tensor* t : {&a.x, &a.h0, &a.c0, &a.w_ih, &a.w_hh, &a.b_ih, &a.b_hh})
        if (t->defined()) t->set_requires_grad(true);
      Generator gen(12);
      const Tensor w_out = rand_uniform({c.T, c.B, c.H}, gen, -1, 1), w_h = rand_uniform({c.B, c.H}, gen, -1, 1),
                   w_c = rand_uniform({c.B, c.H}, gen, -1, 1);
      const LstmOutput o = lstm(a.x, a.h0, a.c0, a.w_ih, a.w_hh, a.b_ih, a.b_hh);
      Tensor loss;
      if (used == 0) loss = sum(o.output * w_out) + sum(o.h_n * w_h) + sum(o.c_n * w_c);
      if (used == 1) loss = sum(o.output * w_out);
      if (used == 2) loss = sum(o.h_n * w_h);
      if (used == 3) loss = sum(o.c_n * w_c);
      loss.backward();

      std::vector<Tensor> grads;  // reference gradients, in fresh zero buffers
      for (const Tensor* t : {&a.x, &a.h0, &a.c0, &a.w_ih, &a.w_hh, &a.b_ih, &a.b_hh})
        grads.push_back(t->defined() ? Tensor::zeros(t->shape()) : Tensor());
      const LstmGrads g{mut_ptr(grads[0]), mut_ptr(grads[1]), mut_ptr(grads[2]), mut_ptr(grads[3]),
                        mut_ptr(grads[4]), mut_ptr(grads[5]), mut_ptr(grads[6])};
      lstm_backward_reference({c.T, c.B, c.I, c.H}, a.x.data(), ptr(a.h0), ptr(a.c0), weights_of(a),
                              (used == 0 || used == 1) ? w_out.data() : nullptr,
                              (used == 0 || used == 2) ? w_h.data() : nullptr,
                              (used == 0 || used == 3) ? w_c.data() : nullptr, g);
      const char* names[] = {"dx", "dh0", "dc0", "dw_ih", "dw_hh", "db_ih", "db_hh"};
      int k = 0;
      for (const Tensor* t : {&a.x, &a.h0, &a.c0, &a.w_ih, &a.w_hh, &a.b_ih, &a.b_hh}) {
        if (t->defined()) {
          REQUIRE(t->grad().defined());
          require_close(t->grad(), grads[k].to_vector(), 2e-5, names[k]);
        }
        ++k;
      }
    }
  }
}

TEST_CASE("lstm: a PTB-sized 35-step unroll runs forward and backward", "[lstm]") {
  // The medium PTB model's shapes: T = 35, B = 20, I = H = 650.
  const LstmCase c{35, 20, 650, 650, true, true};
  LstmArgs a = make_args(c, 3);
  Generator gen(4);
  for (Tensor* t : {&a.w_ih, &a.w_hh, &a.b_ih, &a.b_hh}) {
    gen.fill_uniform(*t, -0.05, 0.05);
    t->set_requires_grad(true);
  }
  for (Tensor* t : {&a.x, &a.h0, &a.c0}) t->set_requires_grad(true);
  const LstmOutput o = lstm(a.x, a.h0, a.c0, a.w_ih, a.w_hh, a.b_ih, a.b_hh);
  REQUIRE(o.output.shape() == Shape{35, 20, 650});
  sum(o.output).backward();
  for (const Tensor* t : {&a.x, &a.h0, &a.c0, &a.w_ih, &a.w_hh, &a.b_ih, &a.b_hh}) {
    REQUIRE(t->grad().defined());
    bool finite = true;
    double norm = 0;
    for (real v : t->grad().to_vector()) finite = finite && std::isfinite(v), norm += double(v) * v;
    CHECK(finite);
    CHECK(norm > 0);
  }
  // h_n is the last row of output.
  const std::vector<real> out = o.output.to_vector(), hn = o.h_n.to_vector();
  CHECK(std::equal(hn.begin(), hn.end(), out.end() - static_cast<int64_t>(hn.size())));
}

TEST_CASE("lstm records no graph without grad and under NoGradGuard", "[lstm]") {
  LstmArgs a = make_args({3, 2, 4, 5, true, true}, 5);
  LstmOutput o = lstm(a.x, a.h0, a.c0, a.w_ih, a.w_hh, a.b_ih, a.b_hh);
  CHECK_FALSE(o.output.requires_grad());
  a.w_ih.set_requires_grad(true);
  {
    NoGradGuard ng;
    o = lstm(a.x, a.h0, a.c0, a.w_ih, a.w_hh, a.b_ih, a.b_hh);
    CHECK_FALSE(o.h_n.requires_grad());
  }
  o = lstm(a.x, a.h0, a.c0, a.w_ih, a.w_hh, a.b_ih, a.b_hh);
  CHECK(o.output.requires_grad());
  CHECK(o.h_n.requires_grad());
  CHECK(o.c_n.requires_grad());
}

TEST_CASE("lstm shape errors name the shapes", "[lstm]") {
  using Catch::Contains;
  const Tensor x = Tensor::zeros({35, 20, 1100}), w_ih = Tensor::zeros({2600, 1100}), w_hh = Tensor::zeros({2600, 650});
  const Tensor none;
  CHECK_NOTHROW(lstm(Tensor::zeros({2, 3, 1100}), none, none, w_ih, w_hh, none, none));
  CHECK_THROWS_WITH(lstm(x, none, none, w_ih, Tensor::zeros({2600, 600}), none, none),
                    Contains("lstm: w_hh [2600, 600] does not match hidden size 650 from w_ih [2600, 1100]"));
  CHECK_THROWS_WITH(lstm(Tensor::zeros({35, 1100}), none, none, w_ih, w_hh, none, none),
                    Contains("lstm: x must be [T, B, I], got [35, 1100]"));
  CHECK_THROWS_WITH(lstm(Tensor::zeros({35, 20, 650}), none, none, w_ih, w_hh, none, none),
                    Contains("lstm: w_ih [2600, 1100] must be [4H, 650] for x [35, 20, 650]"));
  CHECK_THROWS_WITH(lstm(x, none, none, Tensor::zeros({2599, 1100}), w_hh, none, none),
                    Contains("w_ih [2599, 1100] must be [4H, 1100]"));
  CHECK_THROWS_WITH(lstm(x, Tensor::zeros({20, 600}), none, w_ih, w_hh, none, none),
                    Contains("lstm: h0 [20, 600] must be [20, 650]"));
  CHECK_THROWS_WITH(lstm(x, none, Tensor::zeros({19, 650}), w_ih, w_hh, none, none),
                    Contains("lstm: c0 [19, 650] must be [20, 650]"));
  CHECK_THROWS_WITH(lstm(x, none, none, w_ih, w_hh, Tensor::zeros({650}), none),
                    Contains("lstm: b_ih [650] must be [2600]"));
  CHECK_THROWS_WITH(lstm(x, none, none, w_ih, w_hh, none, Tensor::zeros({1, 2600})),
                    Contains("lstm: b_hh [1, 2600] must be [2600]"));
  CHECK_THROWS_WITH(lstm(Tensor::zeros({0, 20, 1100}), none, none, w_ih, w_hh, none, none),
                    Contains("lstm: empty sequence"));
  CHECK_THROWS_AS(lstm(x, none, none, w_ih, w_hh, none, Tensor::zeros({7})), Error);
}
