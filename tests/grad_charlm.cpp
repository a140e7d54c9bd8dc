// Gradient checks (double build) for the character-aware language model: the conv_max_over_time
// op, every new layer w.r.t. its input and parameters (Embedding with padding, CharConvBank,
// Highway, Lstm with dropout), and a tiny CharLm w.r.t. its initial state and every parameter.
// Dropout is checked in training mode: each evaluation re-seeds the generator, so the finite
// differences see the same masks as the analytic pass. Random inputs keep the max over time and
// the ReLUs away from ties and kinks (a tie within eps of a perturbation has probability ~1e-6).
#include <vector>

#include "core/ops/temporal_conv.h"
#include "layers/char_conv_bank.h"
#include "layers/embedding.h"
#include "layers/highway.h"
#include "layers/lstm.h"
#include "models/char_lm.h"
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

TEST_CASE("gradcheck conv_max_over_time w.r.t. x, weight and bias", "[grad][charlm]") {
  struct Case {
    int64_t N, L, E, F, w;
  };
  for (const Case& c : {Case{3, 7, 4, 5, 3}, Case{2, 5, 3, 4, 1}, Case{4, 6, 2, 3, 6}, Case{1, 9, 5, 2, 4}}) {
    INFO("N " << c.N << " L " << c.L << " E " << c.E << " F " << c.F << " w " << c.w);
    const std::vector<Tensor> in{random_tensor({c.N, c.L, c.E}, 1), random_tensor({c.F, c.w, c.E}, 2),
                                 random_tensor({c.F}, 3)};
    check_gradients(SingleFn([](const std::vector<Tensor>& v) { return conv_max_over_time(v[0], v[1], v[2]); }), in);
    check_gradients(SingleFn([](const std::vector<Tensor>& v) { return conv_max_over_time(v[0], v[1], Tensor()); }),
                    {in[0], in[1]});
  }
}

TEST_CASE("gradcheck Embedding with a padding index w.r.t. its weight", "[grad][charlm]") {
  Generator gen(4);
  auto e = std::make_shared<Embedding>(EmbeddingOptions{6, 3, 0}, gen);
  const std::vector<int64_t> ids{0, 3, 5, 3, 0, 1, 2, 0};
  check_gradients_with_params([e, ids](const std::vector<Tensor>&) { return std::vector<Tensor>{e->forward(ids, {2, 4})}; },
                              {}, e->parameters());
}

TEST_CASE("gradcheck CharConvBank w.r.t. its input and every parameter", "[grad][charlm]") {
  Generator gen(5);
  auto bank = std::make_shared<CharConvBank>(CharConvBankOptions{3, {1, 2, 4}, {2, 3, 2}}, gen);
  check_gradients_with_params(
      [bank](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*bank)(v[0])}; },
      {random_tensor({4, 6, 3}, 6)}, bank->parameters());
}

TEST_CASE("gradcheck Highway w.r.t. its input and every parameter", "[grad][charlm]") {
  Generator gen(7);
  auto h = std::make_shared<Highway>(HighwayOptions{5}, gen);
  // A gate bias near 0 gives both the transform and the carry path weight in the check.
  h->gate().bias()->copy_(random_tensor({5}, 8, -0.5, 0.5));
  check_gradients_with_params([h](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*h)(v[0])}; },
                              {random_tensor({3, 2, 5}, 9)}, h->parameters());
}

TEST_CASE("gradcheck Lstm (2 layers, dropout in training) w.r.t. input, state and every parameter", "[grad][charlm]") {
  Generator gen(10);
  auto drop = std::make_shared<Generator>(11);
  auto m = std::make_shared<Lstm>(LstmOptions{3, 4, 2, 0.3}, gen, *drop);
  std::vector<Tensor> in{random_tensor({3, 2, 3}, 12)};
  for (int i = 0; i < 4; ++i) in.push_back(random_tensor({2, 4}, 13 + i));
  check_gradients_with_params(
      [m, drop](const std::vector<Tensor>& v) {
        drop->set_seed(11);
        std::vector<Tensor> state(v.begin() + 1, v.end());
        std::vector<Tensor> out{m->forward(v[0], state)};
        out.insert(out.end(), state.begin(), state.end());
        return out;
      },
      in, m->parameters());
}

TEST_CASE("gradcheck a tiny CharLm w.r.t. its initial state and every parameter", "[grad][charlm]") {
  // V 7 words of L 6 characters from C 8 (0 = padding), 2 streams × 3 steps.
  Spellings s{7, 6, 8, 0, {}};
  Generator spell(14);
  for (int64_t w = 0; w < 7; ++w) {
    const int64_t n = 1 + spell.randint(4);
    std::vector<int64_t> row(6, 0);
    row[0] = 1;
    for (int64_t i = 1; i <= n; ++i) row[i] = 3 + spell.randint(5);
    row[n + 1] = 2;
    s.ids.insert(s.ids.end(), row.begin(), row.end());
  }
  CharLmOptions o;
  o.char_embedding = 3;
  o.widths = {1, 2, 3};
  o.filters = {2, 2, 3};
  o.highway_layers = 1;
  o.hidden = 4;
  o.layers = 2;
  o.dropout = 0.25;
  o.init_range = 0.5;  // livelier than ±0.05, so that every path carries gradient
  Generator gen(15);
  auto m = std::make_shared<CharLm>(o, s, gen);
  const std::vector<int64_t> tokens{0, 3, 6, 3, 5, 1};
  std::vector<Tensor> in;
  for (int i = 0; i < 4; ++i) in.push_back(random_tensor({2, 4}, 16 + i));
  GradcheckOptions g;
  g.max_elements = 64;  // per tensor: the decoder and highway weights are sampled
  check_gradients_with_params(
      [m, tokens](const std::vector<Tensor>& v) {
        m->dropout_generator().set_seed(3);
        std::vector<Tensor> state = v;
        std::vector<Tensor> out{m->forward(tokens, 2, 3, state)};
        out.insert(out.end(), state.begin(), state.end());
        return out;
      },
      in, m->parameters(), g);
}
