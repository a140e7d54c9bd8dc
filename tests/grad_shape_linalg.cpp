// Gradient checks: shape ops (reshape, permute, narrow, split, concat, stack, subsample_pad_channels)
// and matmul/linear.
#include "core/ops/shape_ops.h"
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

TEST_CASE("gradcheck shape ops", "[grad][shape]") {
  Tensor x = random_tensor({2, 3, 4, 5}, 11);
  check_gradients([](const std::vector<Tensor>& v) { return mul(reshape(v[0], {6, -1}), reshape(v[0], {6, 20})); },
                  {x});
  check_gradients([](const std::vector<Tensor>& v) { return flatten(v[0], 1); }, {x});
  check_gradients([](const std::vector<Tensor>& v) { return permute(v[0], {2, 0, 3, 1}); }, {x});
  check_gradients([](const std::vector<Tensor>& v) { return transpose(v[0], 1, -1); }, {x});
  for (int64_t axis : {0, 1, 3}) {
    INFO("axis " << axis);
    check_gradients([axis](const std::vector<Tensor>& v) { return narrow(v[0], axis, 1, 1); }, {x});
    check_gradients([axis](const std::vector<Tensor>& v) { return select(v[0], axis, 1); }, {x});
  }
  check_gradients(
      [](const std::vector<Tensor>& v) {
        auto parts = split(v[0], {1, 2}, 1);
        return std::vector<Tensor>{mul(parts[0], parts[0]), parts[1]};
      },
      {x});
  Tensor y = random_tensor({2, 2, 4, 5}, 12), z = random_tensor({2, 3, 4, 5}, 13);
  check_gradients([](const std::vector<Tensor>& v) { return concat({v[0], v[1]}, 1); }, {x, y});
  check_gradients([](const std::vector<Tensor>& v) { return concat({v[0], v[1], v[0]}, -1); }, {x, z});
  check_gradients([](const std::vector<Tensor>& v) { return stack({v[0], v[1]}, 2); }, {x, z});
  check_gradients([](const std::vector<Tensor>& v) { return squeeze(unsqueeze(v[0], 0), 0); }, {x});
  // Odd sizes: the last sampled row and column are the input's last ones.
  Tensor odd = random_tensor({2, 3, 5, 7}, 14);
  for (int64_t stride : {1, 2, 3}) {
    INFO("stride " << stride);
    check_gradients([stride](const std::vector<Tensor>& v) { return subsample_pad_channels(v[0], stride, 2, 1); },
                    {odd});
    // Two consumers: the first backward writes x's gradient (zeroing what it does not sample),
    // the second adds to it.
    check_gradients(
        [stride](const std::vector<Tensor>& v) {
          return add(subsample_pad_channels(v[0], stride, 2, 1), mul_scalar(subsample_pad_channels(v[0], stride, 2, 1), 3));
        },
        {odd});
  }
}

TEST_CASE("gradcheck matmul and linear", "[grad][linalg]") {
  Tensor a = random_tensor({3, 4}, 21), b = random_tensor({4, 5}, 22);
  check_gradients([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {a, b});
  Tensor ba = random_tensor({2, 3, 4}, 23), bb = random_tensor({2, 4, 5}, 24);
  check_gradients([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {ba, bb});
  check_gradients([](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); }, {ba, b});
  Tensor x = random_tensor({6, 7}, 25), w = random_tensor({3, 7}, 26), bias = random_tensor({3}, 27);
  check_gradients([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias});
  check_gradients([](const std::vector<Tensor>& v) { return linear(v[0], v[1]); }, {x, w});
  Tensor x3 = random_tensor({2, 3, 7}, 28);
  check_gradients([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); }, {x3, w, bias});
  // A chain deep enough to exercise accumulation through shared intermediates.
  check_gradients(
      [](const std::vector<Tensor>& v) {
        Tensor h = tanh(linear(v[0], v[1], v[2]));
        return matmul(h, transpose(h, 0, 1));
      },
      {x, w, bias});
}
