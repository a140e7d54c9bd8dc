// Gradient checks: the fused LSTM op (core/ops/lstm.h) against central finite differences, with
// the checker's default tolerances (the gates are smooth and the sizes small, double precision).
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

namespace {

struct LstmCase {
  int64_t T, B, I, H;
  bool h0, c0, b_ih, b_hh;  // which optional inputs are present
};

// inputs: x, w_ih, w_hh, then the present ones of h0, c0, b_ih, b_hh in that order.
// Weights in [-0.5, 0.5) keep the gates out of saturation.
std::vector<Tensor> lstm_inputs(const LstmCase& c, uint64_t seed) {
  std::vector<Tensor> in = {random_tensor({c.T, c.B, c.I}, seed), random_tensor({4 * c.H, c.I}, seed + 1, -0.5, 0.5),
                            random_tensor({4 * c.H, c.H}, seed + 2, -0.5, 0.5)};
  if (c.h0) in.push_back(random_tensor({c.B, c.H}, seed + 3));
  if (c.c0) in.push_back(random_tensor({c.B, c.H}, seed + 4));
  if (c.b_ih) in.push_back(random_tensor({4 * c.H}, seed + 5, -0.5, 0.5));
  if (c.b_hh) in.push_back(random_tensor({4 * c.H}, seed + 6, -0.5, 0.5));
  return in;
}

LstmOutput run_lstm(const LstmCase& c, const std::vector<Tensor>& in) {
  size_t k = 3;
  const Tensor h0 = c.h0 ? in[k++] : Tensor();
  const Tensor c0 = c.c0 ? in[k++] : Tensor();
  const Tensor b_ih = c.b_ih ? in[k++] : Tensor();
  const Tensor b_hh = c.b_hh ? in[k++] : Tensor();
  return lstm(in[0], h0, c0, in[1], in[2], b_ih, b_hh);
}

}  // namespace

TEST_CASE("gradcheck lstm: all outputs, optional inputs present or absent", "[grad][lstm]") {
  const std::vector<LstmCase> cases = {
      {4, 3, 5, 6, true, true, true, true},    {4, 3, 5, 6, false, false, false, false},
      {4, 3, 5, 6, true, false, true, false},  {4, 3, 5, 6, false, true, false, true},
      {1, 3, 5, 6, true, true, true, true},    {1, 2, 3, 4, false, false, false, false},
      {3, 1, 2, 3, true, true, true, true},
  };
  for (const LstmCase& c : cases) {
    INFO("T " << c.T << " B " << c.B << " I " << c.I << " H " << c.H << " h0 " << c.h0 << " c0 " << c.c0
              << " b_ih " << c.b_ih << " b_hh " << c.b_hh);
    check_gradients(
        MultiFn([c](const std::vector<Tensor>& in) {
          LstmOutput o = run_lstm(c, in);
          return std::vector<Tensor>{o.output, o.h_n, o.c_n};
        }),
        lstm_inputs(c, 10));
  }
}

TEST_CASE("gradcheck lstm: a single output used", "[grad][lstm]") {
  // The other outputs receive no gradient at all (undefined incoming gradients in the backward).
  const LstmCase c{4, 3, 5, 6, true, true, true, true};
  const std::vector<Tensor> in = lstm_inputs(c, 20);
  SECTION("h_n only") {
    check_gradients(SingleFn([c](const std::vector<Tensor>& v) { return run_lstm(c, v).h_n; }), in);
  }
  SECTION("c_n only") {
    check_gradients(SingleFn([c](const std::vector<Tensor>& v) { return run_lstm(c, v).c_n; }), in);
  }
  SECTION("output only") {
    check_gradients(SingleFn([c](const std::vector<Tensor>& v) { return run_lstm(c, v).output; }), in);
  }
  SECTION("h_n only, T = 1") {
    const LstmCase c1{1, 3, 5, 6, true, true, true, true};
    check_gradients(SingleFn([c1](const std::vector<Tensor>& v) { return run_lstm(c1, v).h_n; }),
                    lstm_inputs(c1, 21));
  }
}

TEST_CASE("gradcheck lstm: stacked layers and carried state", "[grad][lstm]") {
  const int64_t T = 3, B = 2, I = 4, H = 5;
  SECTION("two layers: the output of the first is the input of the second") {
    const std::vector<Tensor> in = {random_tensor({T, B, I}, 30), random_tensor({4 * H, I}, 31, -0.5, 0.5),
                                    random_tensor({4 * H, H}, 32, -0.5, 0.5), random_tensor({4 * H, H}, 33, -0.5, 0.5),
                                    random_tensor({4 * H, H}, 34, -0.5, 0.5), random_tensor({4 * H}, 35, -0.5, 0.5)};
    check_gradients(MultiFn([](const std::vector<Tensor>& v) {
                      LstmOutput l1 = lstm(v[0], Tensor(), Tensor(), v[1], v[2], v[5], Tensor());
                      LstmOutput l2 = lstm(l1.output, Tensor(), Tensor(), v[3], v[4], Tensor(), v[5]);
                      return std::vector<Tensor>{l2.output, l1.c_n};
                    }),
                    in);
  }
  SECTION("two chunks sharing weights, the state carried across (truncated BPTT without detaching)") {
    const std::vector<Tensor> in = {random_tensor({T, B, I}, 40), random_tensor({T, B, I}, 41),
                                    random_tensor({4 * H, I}, 42, -0.5, 0.5), random_tensor({4 * H, H}, 43, -0.5, 0.5),
                                    random_tensor({4 * H}, 44, -0.5, 0.5), random_tensor({4 * H}, 45, -0.5, 0.5)};
    check_gradients(MultiFn([](const std::vector<Tensor>& v) {
                      LstmOutput a = lstm(v[0], Tensor(), Tensor(), v[2], v[3], v[4], v[5]);
                      LstmOutput b = lstm(v[1], a.h_n, a.c_n, v[2], v[3], v[4], v[5]);
                      return std::vector<Tensor>{a.output, b.output, b.c_n};
                    }),
                    in);
  }
}
