// CharLm, the character-aware language model (float build): parameter counts of "large" and
// "small" against Kim et al.'s, names and initial values, shapes, the state carried through
// forward, the stream/step order of the logits, a forward/backward smoke test, the builder, and
// errors. Built on the real PTB vocabulary when the files are there (as test_ptb.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "data/ptb.h"
#include "models/char_lm.h"
#include "models/factory.h"
#include "tests/module_tensor.h"

using namespace st;
using namespace st::test;
namespace fs = std::filesystem;

namespace {

// V words spelled as PTB's are: start symbol 1, 1 to L − 2 characters in [3, C), end symbol 2,
// padding 0.
Spellings make_spellings(int64_t V, int64_t L, int64_t C, uint64_t seed) {
  Generator gen(seed);
  Spellings s{V, L, C, 0, std::vector<int64_t>(V * L, 0)};
  for (int64_t w = 0; w < V; ++w) {
    int64_t* row = s.ids.data() + w * L;
    const int64_t n = 1 + gen.randint(L - 2);
    row[0] = 1;
    for (int64_t i = 1; i <= n; ++i) row[i] = 3 + gen.randint(C - 3);
    row[n + 1] = 2;
  }
  return s;
}

// A model small enough to run many times: V 11, L 8, E 3, widths 1..3, 1 highway, 2×6 LSTM.
CharLmOptions tiny_options(double dropout = 0) {
  CharLmOptions o;
  o.char_embedding = 3;
  o.widths = {1, 2, 3};
  o.filters = {2, 3, 4};
  o.highway_layers = 1;
  o.hidden = 6;
  o.dropout = dropout;
  o.init_range = 0.3;
  return o;
}

std::vector<int64_t> random_tokens(int64_t n, int64_t V, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> t(n);
  for (auto& id : t) id = gen.randint(V);
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(double(a.data()[i]) - b.data()[i]));
  return worst;
}

// Parameters of Kim's model, counted by hand: char embedding C·E; per width F_w·(w·E + 1);
// per highway layer 2·(F² + F); LSTM layer l: 4H·(in_l + H) + 8H (both biases, as LSTMTDNN.lua's
// i2h and h2h Linear layers); decoder H·V + V.
int64_t kim_count(const CharLmOptions& o, int64_t V, int64_t C) {
  int64_t n = C * o.char_embedding, F = 0;
  for (size_t i = 0; i < o.widths.size(); ++i) n += o.filters[i] * (o.widths[i] * o.char_embedding + 1), F += o.filters[i];
  n += o.highway_layers * 2 * (F * F + F);
  for (int64_t l = 0; l < o.layers; ++l) n += 4 * o.hidden * ((l == 0 ? F : o.hidden) + o.hidden) + 8 * o.hidden;
  return n + o.hidden * V + V;
}

std::string ptb_dir() {
  if (const char* env = std::getenv("STRASSEN_PTB_DIR"); env && *env) return env;
#ifdef ST_PTB_DIR
  return ST_PTB_DIR;
#else
  return "";
#endif
}

}  // namespace

TEST_CASE("char_lm large and small: parameter counts vs Kim et al. (19 M, 5 M)", "[charlm][models]") {
  // PTB's sizes: 10,000 words, 51 characters, spellings of 21.
  const Spellings s = make_spellings(10000, 21, 51, 1);
  Generator gen(2);
  const CharLm large(CharLmOptions::large(), s, gen);
  CHECK(large.num_parameters() == 19373165);
  CHECK(large.num_parameters() == kim_count(CharLmOptions::large(), 10000, 51));
  CHECK(std::abs(large.num_parameters() - 19000000) < 500000);  // "19 M" in Kim et al.'s Table 3
  CHECK(large.describe() == "CharLm(vocabulary 10000, characters 51, filters 1100, 2 highway, 2x650 LSTM)");
  const CharLm small(CharLmOptions::small(), s, gen);
  CHECK(small.num_parameters() == 5312515);
  CHECK(small.num_parameters() == kim_count(CharLmOptions::small(), 10000, 51));
  CHECK(std::abs(small.num_parameters() - 5000000) < 500000);  // "5 M"
  CHECK(small.describe() == "CharLm(vocabulary 10000, characters 51, filters 525, 1 highway, 2x300 LSTM)");
}

TEST_CASE("char_lm on the real PTB vocabulary has Kim's parameter count", "[charlm][models][real]") {
  const std::string dir = ptb_dir();
  if (dir.empty() || !fs::exists(fs::path(dir) / "ptb.train.txt")) {
    WARN("Penn Treebank files not found in '" << dir << "' (set STRASSEN_PTB_DIR): skipped");
    return;
  }
  const PtbVocabulary v = read_ptb(dir).vocab;
  const Spellings s{v.size(), v.max_word_length, v.char_size(), PtbVocabulary::kPad, v.spellings};
  Generator gen(3);
  CHECK(CharLm(CharLmOptions::large(), s, gen).num_parameters() == kim_count(CharLmOptions::large(), 10000, 51));
  CHECK(CharLm(CharLmOptions::small(), s, gen).num_parameters() == kim_count(CharLmOptions::small(), 10000, 51));
}

TEST_CASE("char_lm parameter names, shapes and initial values (uniform ±0.05 as the reference)", "[charlm][models]") {
  const Spellings s = make_spellings(50, 12, 20, 4);
  Generator gen(5);
  CharLmOptions o = CharLmOptions::small();
  o.widths = {1, 2, 3};
  o.filters = {4, 5, 6};
  o.hidden = 10;
  CharLm m(o, s, gen);
  std::vector<std::string> names;
  for (auto& [n, t] : m.named_parameters()) names.push_back(n);
  const std::vector<std::string> want{
      "char_embedding.weight", "cnn.width1.weight", "cnn.width1.bias", "cnn.width2.weight", "cnn.width2.bias",
      "cnn.width3.weight", "cnn.width3.bias", "highway.0.hidden.weight", "highway.0.hidden.bias",
      "highway.0.gate.weight", "highway.0.gate.bias", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
      "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
      "decoder.weight", "decoder.bias"};
  CHECK(names == want);
  CHECK(module_tensor(m, "char_embedding.weight").shape() == Shape{20, 15});
  CHECK(module_tensor(m, "cnn.width3.weight").shape() == Shape{6, 3, 15});
  CHECK(module_tensor(m, "lstm.weight_ih_l0").shape() == Shape{40, 15});
  CHECK(module_tensor(m, "decoder.weight").shape() == Shape{50, 10});
  for (auto& [n, t] : m.named_parameters()) {
    INFO(n);
    const double centre = n == "highway.0.gate.bias" ? -2 : 0;  // Kim's AddConstant(-2)
    double lo = 1e9, hi = -1e9;
    for (real v : t.to_vector()) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
    CHECK(lo >= centre - 0.05);
    CHECK(hi <= centre + 0.05);
    if (t.numel() > 20) CHECK(hi - lo > 0.08);  // drawn over the whole range
  }
  const Tensor e = module_tensor(m, "char_embedding.weight");
  for (int64_t j = 0; j < 15; ++j) CHECK(e.at({0, j}) == 0);  // the padding character
}

TEST_CASE("char_lm forward: logits [rows·steps, V], state {h, c} per layer, backward reaches every parameter",
          "[charlm][models]") {
  const Spellings s = make_spellings(200, 21, 51, 6);
  Generator gen(7);
  CharLm m(CharLmOptions::small(), s, gen);
  const int64_t rows = 4, steps = 5;
  const std::vector<int64_t> tokens = random_tokens(rows * steps, 200, 8);
  std::vector<Tensor> state;
  const Tensor logits = m.forward(tokens, rows, steps, state);
  CHECK(logits.shape() == Shape{rows * steps, 200});
  REQUIRE(state.size() == 4);
  for (const Tensor& t : state) CHECK(t.shape() == Shape{rows, 300});
  std::vector<int64_t> targets = random_tokens(rows * steps, 200, 9);
  const Tensor loss = cross_entropy(logits, targets);
  CHECK(std::isfinite(loss.item()));
  CHECK(std::fabs(loss.item() - std::log(200.0)) < 0.1);  // small weights: nearly uniform predictions
  loss.backward();
  for (auto& [n, t] : m.named_parameters()) {
    INFO(n);
    REQUIRE(t.grad().defined());
    double norm = 0;
    for (real g : t.grad().to_vector()) norm += double(g) * g;
    CHECK(norm > 0);
  }
  const Tensor ge = module_tensor(m, "char_embedding.weight").grad();
  for (int64_t j = 0; j < 15; ++j) CHECK(ge.at({0, j}) == 0);  // no gradient into the padding row
}

TEST_CASE("char_lm carries the state: two blocks equal one block of twice the steps", "[charlm][models]") {
  const Spellings s = make_spellings(11, 8, 9, 10);
  Generator gen(11);
  CharLm m(tiny_options(0.5), s, gen);
  m.eval();  // no dropout
  const int64_t rows = 3, steps = 4;
  const std::vector<int64_t> tokens = random_tokens(rows * 2 * steps, 11, 12);  // [rows, 2·steps]
  std::vector<Tensor> state;
  const Tensor whole = m.forward(tokens, rows, 2 * steps, state);
  std::vector<int64_t> first, second;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < 2 * steps; ++t) (t < steps ? first : second).push_back(tokens[r * 2 * steps + t]);
  std::vector<Tensor> carried;
  const Tensor a = m.forward(first, rows, steps, carried);
  for (Tensor& t : carried) t = t.detach();
  const Tensor b = m.forward(second, rows, steps, carried);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < 2 * steps; ++t) {
      const Tensor& part = t < steps ? a : b;
      const Tensor want = narrow(whole, 0, r * 2 * steps + t, 1);
      CHECK(max_abs_diff(narrow(part, 0, r * steps + t % steps, 1), want) < 1e-5);
    }
  for (size_t i = 0; i < state.size(); ++i) CHECK(max_abs_diff(carried[i], state[i]) < 1e-5);
}

TEST_CASE("char_lm logits: row r·steps + t depends on stream r up to step t only", "[charlm][models]") {
  const Spellings s = make_spellings(11, 8, 9, 13);
  Generator gen(14);
  CharLm m(tiny_options(), s, gen);
  const int64_t rows = 3, steps = 4;
  std::vector<int64_t> tokens = random_tokens(rows * steps, 11, 15);
  std::vector<Tensor> st0;
  const Tensor base = m.forward(tokens, rows, steps, st0);
  tokens[1 * steps + 2] = (tokens[1 * steps + 2] + 1) % 11;  // stream 1, step 2
  std::vector<Tensor> st1;
  const Tensor changed = m.forward(tokens, rows, steps, st1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < steps; ++t) {
      INFO("row " << r << " step " << t);
      const double d = max_abs_diff(narrow(base, 0, r * steps + t, 1), narrow(changed, 0, r * steps + t, 1));
      if (r == 1 && t >= 2)
        CHECK(d > 0);
      else
        CHECK(d == 0);
    }
}

TEST_CASE("char_lm dropout draws from its generator, in training mode only", "[charlm][models]") {
  const Spellings s = make_spellings(11, 8, 9, 16);
  Generator gen(17);
  CharLm m(tiny_options(0.5), s, gen);
  const std::vector<int64_t> tokens = random_tokens(6, 11, 18);
  auto run = [&] {
    std::vector<Tensor> st;
    return m.forward(tokens, 2, 3, st);
  };
  m.dropout_generator().set_seed(5);
  const Tensor a = run();
  m.dropout_generator().set_seed(5);
  const Tensor b = run();
  const Tensor c = run();
  CHECK(max_abs_diff(a, b) == 0);
  CHECK(max_abs_diff(a, c) > 0);
  m.eval();
  const Generator::State before = m.dropout_generator().state();
  const Tensor d = run(), e = run();
  CHECK(max_abs_diff(d, e) == 0);
  CHECK(m.dropout_generator().state().counter == before.counter);
}

TEST_CASE("char_lm and build_sequence_model reject bad options, spellings and tokens", "[charlm][models]") {
  const Spellings s = make_spellings(11, 8, 9, 19);
  Generator gen(20);
  CharLmOptions o = tiny_options();
  o.widths = {1, 9};
  o.filters = {2, 2};
  CHECK_THROWS_WITH(CharLm(o, s, gen), Catch::Contains("width 9") && Catch::Contains("8 characters"));
  o = tiny_options();
  o.filters = {2, 3};
  CHECK_THROWS_WITH(CharLm(o, s, gen), Catch::Contains("3 widths"));
  o = tiny_options();
  o.highway_layers = -1;
  CHECK_THROWS_WITH(CharLm(o, s, gen), Catch::Contains("highway_layers"));
  o = tiny_options();
  o.dropout = 1;
  CHECK_THROWS_WITH(CharLm(o, s, gen), Catch::Contains("dropout"));
  o = tiny_options();
  o.init_range = 0;
  CHECK_THROWS_WITH(CharLm(o, s, gen), Catch::Contains("init_range"));
  CHECK_THROWS_WITH(CharLmOptions::preset("medium"), Catch::Contains("'medium'"));

  Spellings bad = s;
  bad.ids[3 * 8 + 2] = 9;
  CHECK_THROWS_WITH(CharLm(tiny_options(), bad, gen), Catch::Contains("id 9 of word 3 at position 2"));
  bad = s;
  bad.ids.pop_back();
  CHECK_THROWS_WITH(CharLm(tiny_options(), bad, gen), Catch::Contains("[11, 8]"));
  bad = s;
  bad.padding = 9;
  CHECK_THROWS_WITH(CharLm(tiny_options(), bad, gen), Catch::Contains("padding character 9"));

  CharLm m(tiny_options(), s, gen);
  std::vector<Tensor> state;
  CHECK_THROWS_WITH(m.forward({1, 2, 11, 3}, 2, 2, state), Catch::Contains("token 11 at row 1, step 0"));
  CHECK_THROWS_WITH(m.forward({1, 2, 3}, 2, 2, state), Catch::Contains("[2, 2] block"));
  state = {Tensor::zeros({2, 6})};
  CHECK_THROWS_WITH(m.forward({1, 2, 3, 4}, 2, 2, state), Catch::Contains("state has 1 tensors"));
}

TEST_CASE("build_sequence_model makes char_lm and word_lm and rejects unknown names", "[charlm][models]") {
  const Spellings s = make_spellings(30, 10, 12, 21);
  Generator gen(22);
  SequenceModelOptions o;
  o.name = "char_lm";
  o.char_lm = tiny_options();
  auto c = build_sequence_model(o, s, gen);
  REQUIRE(dynamic_cast<CharLm*>(c.get()) != nullptr);
  CHECK(c->vocabulary() == 30);
  CHECK(c->num_parameters() == kim_count(tiny_options(), 30, 12));
  o.name = "word_lm";
  o.word_lm.vocabulary = 30;
  o.word_lm.embedding = o.word_lm.hidden = 8;
  auto w = build_sequence_model(o, s, gen);
  CHECK(dynamic_cast<WordLstmLm*>(w.get()) != nullptr);
  CHECK(build_sequence_model(o, Spellings{}, gen)->vocabulary() == 30);
  o.word_lm.vocabulary = 31;
  CHECK_THROWS_WITH(build_sequence_model(o, s, gen), Catch::Contains("vocabulary 31") && Catch::Contains("30 words"));
  o.name = "char_cnn";
  CHECK_THROWS_WITH(build_sequence_model(o, s, gen), Catch::Contains("'char_cnn'") && Catch::Contains("char_lm, word_lm"));
  CHECK(known_sequence_models() == std::vector<std::string>{"char_lm", "word_lm"});
}
