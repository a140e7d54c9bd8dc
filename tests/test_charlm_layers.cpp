// The character-aware language model's op and layers (float build): conv_max_over_time against
// conv2d + max (whose kernels have their own naive references), Embedding with a padding index,
// CharConvBank, Highway and the multi-layer Lstm against the ops they are made of.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/ops/temporal_conv.h"
#include "core/rng.h"
#include "layers/char_conv_bank.h"
#include "layers/embedding.h"
#include "layers/highway.h"
#include "layers/lstm.h"

using namespace st;

namespace {

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(double(a.data()[i]) - b.data()[i]));
  return worst;
}

Tensor leaf(const Shape& shape, Generator& gen, double a = 1) {
  return rand_uniform(shape, gen, -a, a).set_requires_grad(true);
}

// The reference: x [N, L, E] as N one-channel images L×E, the weight [F, w, E] as F kernels w×E,
// so that conv2d gives [N, F, L − w + 1, 1]; then the max over the positions.
Tensor conv_max_reference(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t N = x.size(0), L = x.size(1), E = x.size(2), F = w.size(0), k = w.size(1);
  const Tensor y = conv2d(reshape(x, {N, 1, L, E}), reshape(w, {F, 1, k, E}), b);
  return reshape(max(y, 2), {N, F});
}

struct ConvCase {
  int64_t N, L, E, F, w;
  bool bias;
};

}  // namespace

TEST_CASE("conv_max_over_time matches conv2d then max, forward and backward", "[charlm][ops]") {
  const std::vector<ConvCase> cases = {{7, 21, 15, 50, 1, true},  {7, 21, 15, 20, 7, true}, {3, 5, 4, 6, 5, false},
                                       {60, 21, 15, 25, 3, true}, {1, 1, 3, 2, 1, true},   {40, 9, 2, 3, 4, false}};
  for (const ConvCase& c : cases) {
    INFO("N " << c.N << " L " << c.L << " E " << c.E << " F " << c.F << " w " << c.w << " bias " << c.bias);
    Generator gen(c.N * 100 + c.w);
    Tensor x = leaf({c.N, c.L, c.E}, gen), w = leaf({c.F, c.w, c.E}, gen, 0.3);
    Tensor b = c.bias ? leaf({c.F}, gen) : Tensor();
    const Tensor dy = rand_uniform({c.N, c.F}, gen, -1, 1);

    const Tensor y = conv_max_over_time(x, w, b);
    REQUIRE(y.shape() == Shape{c.N, c.F});
    sum(mul(y, dy)).backward();
    const Tensor dx = x.grad().clone(), dw = w.grad().clone(), db = c.bias ? b.grad().clone() : Tensor();
    x.zero_grad(), w.zero_grad();
    if (c.bias) b.zero_grad();

    const Tensor want = conv_max_reference(x, w, b);
    sum(mul(want, dy)).backward();
    CHECK(max_abs_diff(y, want) < 1e-5);
    CHECK(max_abs_diff(dx, x.grad()) < 1e-5);
    CHECK(max_abs_diff(dw, w.grad()) < 1e-4);
    if (c.bias) CHECK(max_abs_diff(db, b.grad()) < 1e-4);
  }
}

TEST_CASE("conv_max_over_time: results do not depend on the number of threads", "[charlm][ops]") {
  Generator gen(5);
  Tensor x = leaf({300, 21, 15}, gen), w = leaf({64, 3, 15}, gen, 0.3), b = leaf({64}, gen);
  const Tensor dy = rand_uniform({300, 64}, gen, -1, 1);
  const int threads = omp_get_max_threads();
  std::vector<std::vector<real>> runs;
  for (int t : {1, 2}) {
    omp_set_num_threads(t);
    x.zero_grad(), w.zero_grad(), b.zero_grad();
    const Tensor y = conv_max_over_time(x, w, b);
    sum(mul(y, dy)).backward();
    std::vector<real> all = y.to_vector();
    for (const Tensor& g : {x.grad(), w.grad(), b.grad()}) {
      const std::vector<real> v = g.to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    runs.push_back(all);
  }
  omp_set_num_threads(threads);
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("conv_max_over_time: empty batch, no graph without grad, shape errors", "[charlm][ops]") {
  Generator gen(6);
  const Tensor w = rand_uniform({4, 3, 5}, gen, -1, 1);
  CHECK(conv_max_over_time(Tensor::zeros({0, 8, 5}), w, Tensor()).shape() == Shape{0, 4});
  {
    Tensor x = leaf({2, 8, 5}, gen);
    NoGradGuard ng;
    CHECK_FALSE(conv_max_over_time(x, w, Tensor()).requires_grad());
  }
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 8, 6}), w, Tensor()), Catch::Contains("[4, 3, 5]") &&
                                                                                  Catch::Contains("[2, 8, 6]"));
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 2, 5}), w, Tensor()), Catch::Contains("L = 2"));
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 8}), w, Tensor()), Catch::Contains("[N, L, E]"));
  CHECK_THROWS_WITH(conv_max_over_time(Tensor::zeros({2, 8, 5}), w, Tensor::zeros({3})), Catch::Contains("bias [3]"));
}

TEST_CASE("Embedding looks up rows; the padding index gives zeros and no gradient", "[charlm][layers]") {
  Generator gen(7);
  Embedding e(EmbeddingOptions{5, 3, 0}, gen);
  CHECK(e.describe() == "Embedding(5, 3, padding 0)");
  for (int64_t j = 0; j < 3; ++j) CHECK(e.weight().at({0, j}) == 0);
  e.weight().fill_(1);  // the padding row's values are never read
  const std::vector<int64_t> ids{2, 0, 4, 2, 0, 1};
  const Tensor y = e.forward(ids, {2, 3});
  REQUIRE(y.shape() == Shape{2, 3, 3});
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 3; ++j) CHECK(y.data()[i * 3 + j] == (ids[i] == 0 ? 0 : 1));
  sum(y).backward();
  const Tensor g = e.weight().grad();
  const std::vector<real> counts{0, 1, 2, 0, 1};  // row 0 is the padding: no gradient
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t j = 0; j < 3; ++j) CHECK(g.at({r, j}) == counts[r]);

  Embedding plain(EmbeddingOptions{5, 3}, gen);
  CHECK(plain.describe() == "Embedding(5, 3)");
  CHECK(plain.forward({0}, {1}).shape() == Shape{1, 3});
  CHECK_THROWS_WITH(plain.forward({5}, {1}), Catch::Contains("index 5"));
  CHECK_THROWS_WITH(Embedding(EmbeddingOptions{5, 3, 5}, gen), Catch::Contains("padding_index 5"));
  CHECK_THROWS_WITH(Embedding(EmbeddingOptions{0, 3}, gen), Catch::Contains("num_embeddings 0"));
}

TEST_CASE("CharConvBank concatenates tanh of each width's max over time", "[charlm][layers]") {
  Generator gen(8);
  CharConvBankOptions o{4, {1, 3, 2}, {2, 5, 3}};
  CharConvBank bank(o, gen);
  CHECK(o.total_filters() == 10);
  CHECK(bank.num_parameters() == (2 * 4 + 2) + (5 * 12 + 5) + (3 * 8 + 3));
  CHECK(bank.named_parameters()[2].first == "width3.weight");
  CHECK(bank.weight(1).shape() == Shape{5, 3, 4});
  CHECK(bank.describe() == "CharConvBank(embedding 4, widths 1,3,2, filters 2,5,3)");
  const Tensor x = rand_uniform({6, 7, 4}, gen, -1, 1);
  const Tensor y = bank(x);
  REQUIRE(y.shape() == Shape{6, 10});
  const std::vector<int64_t> starts{0, 2, 7};
  for (size_t i = 0; i < 3; ++i) {
    const Tensor want = tanh(conv_max_reference(x, bank.weight(i), bank.bias(i)));
    CHECK(max_abs_diff(narrow(y, 1, starts[i], o.filters[i]), want) < 1e-6);
  }
  const LayerCost c = bank.cost({CallShapes{{x.shape()}, {y.shape()}}});
  CHECK(c.mults == 6 * (2 * 7 * 1 * 4 + 5 * 5 * 3 * 4 + 3 * 6 * 2 * 4));
  CHECK(c.params == bank.num_parameters());

  CHECK_THROWS_WITH(bank(rand_uniform({6, 2, 4}, gen)), Catch::Contains("width 3"));
  CHECK_THROWS_WITH(bank(rand_uniform({6, 7, 5}, gen)), Catch::Contains("[N, L, 4]"));
  CHECK_THROWS_WITH(CharConvBank(CharConvBankOptions{4, {1, 1}, {2, 2}}, gen), Catch::Contains("width 1 appears twice"));
  CHECK_THROWS_WITH(CharConvBank(CharConvBankOptions{4, {1, 2}, {2}}, gen), Catch::Contains("2 widths"));
  CHECK_THROWS_WITH(CharConvBank(CharConvBankOptions{4, {0}, {2}}, gen), Catch::Contains("width 0"));
  CHECK_THROWS_WITH(CharConvBank(CharConvBankOptions{4, {2}, {0}}, gen), Catch::Contains("filters 0"));
  CHECK_THROWS_WITH(CharConvBank(CharConvBankOptions{0, {2}, {2}}, gen), Catch::Contains("embedding"));
}

TEST_CASE("Highway mixes ReLU(W_H x + b_H) and x by the gate; the gate bias starts at -2", "[charlm][layers]") {
  Generator gen(9);
  Highway h(HighwayOptions{6}, gen);
  CHECK(h.describe() == "Highway(6, transform bias -2)");
  CHECK(h.num_parameters() == 2 * (36 + 6));
  for (real b : h.gate().bias()->to_vector()) CHECK(b == -2);
  const Tensor x = rand_uniform({4, 6}, gen, -1, 1);
  const Tensor y = h(x);
  const Tensor t = sigmoid(linear(x, h.gate().weight(), *h.gate().bias()));
  const Tensor want = t * relu(linear(x, h.hidden().weight(), *h.hidden().bias())) + (1 - t) * x;
  CHECK(max_abs_diff(y, want) < 1e-6);
  h.shift_gate_bias();
  for (real b : h.gate().bias()->to_vector()) CHECK(b == -4);
  CHECK_THROWS_WITH(h(rand_uniform({4, 5}, gen)), Catch::Contains("[4, 5]"));
  CHECK_THROWS_WITH(Highway(HighwayOptions{0}, gen), Catch::Contains("size"));
}

TEST_CASE("Lstm stacks the fused op, with dropout between layers and on the output", "[charlm][layers]") {
  Generator gen(10), drop(11);
  Lstm m(LstmOptions{5, 4, 2, 0.5}, gen, drop);
  CHECK(m.describe() == "Lstm(5, 2x4, dropout 0.5)");
  CHECK(m.num_parameters() == (16 * 5 + 16 * 4 + 32) + (16 * 4 + 16 * 4 + 32));
  CHECK(m.named_parameters()[4].first == "weight_ih_l1");
  auto p = [&](const char* name) {
    for (auto& [n, t] : m.named_parameters())
      if (n == name) return t;
    FAIL(name);
    return Tensor();
  };
  const Tensor x = rand_uniform({3, 2, 5}, gen, -1, 1);

  // Evaluation: no dropout, the two layers chained.
  m.eval();
  std::vector<Tensor> state;
  const Tensor y = m.forward(x, state);
  REQUIRE(y.shape() == Shape{3, 2, 4});
  REQUIRE(state.size() == 4);
  const LstmOutput a = lstm(x, Tensor(), Tensor(), p("weight_ih_l0"), p("weight_hh_l0"), p("bias_ih_l0"), p("bias_hh_l0"));
  const LstmOutput b = lstm(a.output, Tensor(), Tensor(), p("weight_ih_l1"), p("weight_hh_l1"), p("bias_ih_l1"), p("bias_hh_l1"));
  CHECK(max_abs_diff(y, b.output) < 1e-6);
  CHECK(max_abs_diff(state[0], a.h_n) < 1e-6);
  CHECK(max_abs_diff(state[3], b.c_n) < 1e-6);

  // The state carries on: the next block starts from it.
  const Tensor y2 = m.forward(x, state);
  const LstmOutput a2 = lstm(x, a.h_n, a.c_n, p("weight_ih_l0"), p("weight_hh_l0"), p("bias_ih_l0"), p("bias_hh_l0"));
  const LstmOutput b2 = lstm(a2.output, b.h_n, b.c_n, p("weight_ih_l1"), p("weight_hh_l1"), p("bias_ih_l1"), p("bias_hh_l1"));
  CHECK(max_abs_diff(y2, b2.output) < 1e-6);

  // Training: half the outputs dropped, the survivors doubled; the state itself is not dropped.
  m.train();
  std::vector<Tensor> s;
  const Tensor yt = m.forward(x, s);
  int64_t zeros = 0;
  for (int64_t i = 0; i < yt.numel(); ++i) zeros += yt.data()[i] == 0;
  CHECK(zeros > 0);
  CHECK(zeros < yt.numel());
  m.eval();

  LstmOptions no_out{5, 4, 2, 0.5, false};
  Lstm last_kept(no_out, gen, drop);  // training mode, dropout between the layers only
  std::vector<Tensor> s1;
  const Tensor y1 = last_kept.forward(x, s1);
  for (int64_t i = 0; i < y1.numel(); ++i) CHECK(y1.data()[i] != 0);

  std::vector<Tensor> bad{Tensor::zeros({2, 4}), Tensor::zeros({2, 4})};
  CHECK_THROWS_WITH(m.forward(x, bad), Catch::Contains("2 tensors, expected 4"));
  bad = {Tensor::zeros({3, 4}), Tensor::zeros({2, 4}), Tensor::zeros({2, 4}), Tensor::zeros({2, 4})};
  CHECK_THROWS_WITH(m.forward(x, bad), Catch::Contains("state tensor 0 is [3, 4], expected [2, 4]"));
  std::vector<Tensor> none;
  CHECK_THROWS_WITH(m.forward(rand_uniform({3, 2, 6}, gen), none), Catch::Contains("[T, B, 5]"));
  CHECK_THROWS_WITH(Lstm(LstmOptions{5, 4, 2, 1.0}, gen, drop), Catch::Contains("dropout"));
  CHECK_THROWS_WITH(Lstm(LstmOptions{5, 4, 0}, gen, drop), Catch::Contains("layers"));
}
