// Gradient checks (double build) for the character-aware language model: the conv_max_over_time
// op. Random inputs keep the max over time away from ties (a tie within eps of a perturbation has
// probability ~1e-6).
#include <vector>

#include "core/ops/temporal_conv.h"
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
