// Gradient checks: conv2d, conv_transpose2d, max/avg/global pooling.
#include <algorithm>
#include <numeric>

#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

namespace {

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dOptions opt;
  bool bias;
};

// A tensor of distinct values spaced 1/numel apart in a shuffled order: every pooling window
// has a unique maximum that a ±1e-6 perturbation cannot change.
Tensor distinct_tensor(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::empty(shape);
  std::vector<int64_t> order(t.numel());
  std::iota(order.begin(), order.end(), 0);
  Generator gen(seed);
  for (int64_t i = t.numel() - 1; i > 0; --i) std::swap(order[i], order[gen.randint(i + 1)]);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = real(order[i]) / real(t.numel()) - 0.5;
  return t;
}

}  // namespace

TEST_CASE("gradcheck conv2d", "[grad][conv]") {
  const std::vector<ConvCase> cases = {
      {"3x3 pad 1", {2, 3, 5, 5}, {4, 3, 3, 3}, Conv2dOptions::make(1, 1), true},
      {"3x3 stride 2 odd input", {2, 2, 7, 9}, {3, 2, 3, 3}, Conv2dOptions::make(2, 1), false},
      {"5x5 pad 2", {1, 2, 6, 5}, {2, 2, 5, 5}, Conv2dOptions::make(1, 2), true},
      {"groups 2", {2, 4, 5, 6}, {4, 2, 3, 3}, Conv2dOptions::make(1, 1, 2), true},
      {"groups 4 stride 2", {1, 4, 7, 7}, {8, 1, 3, 3}, Conv2dOptions::make(2, 1, 4), false},
      {"1x3", {2, 3, 5, 7}, {4, 3, 1, 3}, Conv2dOptions{1, 1, 0, 1, 1}, true},
      {"3x1 stride (2,1)", {2, 3, 7, 5}, {2, 3, 3, 1}, Conv2dOptions{2, 1, 1, 0, 1}, false},
      {"1x1 pointwise", {2, 4, 5, 7}, {3, 4, 1, 1}, Conv2dOptions::make(1, 0), true},
      {"1x1 pointwise groups 2", {2, 4, 3, 5}, {6, 2, 1, 1}, Conv2dOptions::make(1, 0, 2), false},
      {"1x1 stride 2", {1, 3, 7, 9}, {2, 3, 1, 1}, Conv2dOptions::make(2, 0), true},
  };
  for (const ConvCase& c : cases) {
    INFO(c.name);
    std::vector<Tensor> inputs = {random_tensor(c.x, 1), random_tensor(c.w, 2)};
    if (c.bias) inputs.push_back(random_tensor({c.w[0]}, 3));
    const Conv2dOptions opt = c.opt;
    const bool bias = c.bias;
    check_gradients([opt, bias](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], bias ? v[2] : Tensor(), opt); },
                    inputs);
  }
}

TEST_CASE("gradcheck conv_transpose2d", "[grad][conv]") {
  {
    INFO("kernel 2 stride 2");
    const ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(2, 0);
    check_gradients([opt](const std::vector<Tensor>& v) { return conv_transpose2d(v[0], v[1], v[2], opt); },
                    {random_tensor({2, 3, 3, 4}, 1), random_tensor({3, 2, 2, 2}, 2), random_tensor({2}, 3)});
  }
  {
    INFO("kernel 3 stride 2 padding 1, explicit output size 8x9 (output padding 1 and 0)");
    ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(2, 1);
    opt.output_h = 8, opt.output_w = 9;
    check_gradients([opt](const std::vector<Tensor>& v) { return conv_transpose2d(v[0], v[1], Tensor(), opt); },
                    {random_tensor({2, 2, 4, 5}, 4), random_tensor({2, 3, 3, 3}, 5)});
  }
  {
    INFO("groups 2");
    const ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(1, 1, 2);
    check_gradients([opt](const std::vector<Tensor>& v) { return conv_transpose2d(v[0], v[1], v[2], opt); },
                    {random_tensor({2, 4, 4, 3}, 6), random_tensor({4, 3, 3, 3}, 7), random_tensor({6}, 8)});
  }
}

TEST_CASE("gradcheck max_pool2d", "[grad][pool]") {
  Tensor x = distinct_tensor({2, 3, 7, 6}, 9);
  auto check = [&](const Pool2dOptions& opt) {
    check_gradients([opt](const std::vector<Tensor>& v) { return max_pool2d(v[0], opt); }, {x});
  };
  check(Pool2dOptions::make(2, 2));
  check(Pool2dOptions::make(3, 2, 1));
  check(Pool2dOptions::make(3, 1, 1));
  Pool2dOptions ceil = Pool2dOptions::make(2, 2);
  ceil.ceil_mode = true;
  check(ceil);
  Pool2dOptions ceil_pad = Pool2dOptions::make(3, 2, 1);
  ceil_pad.ceil_mode = true;
  check(ceil_pad);
}

TEST_CASE("gradcheck avg_pool2d", "[grad][pool]") {
  Tensor x = random_tensor({2, 3, 7, 6}, 10);
  for (bool include_pad : {true, false})
    for (bool ceil_mode : {false, true}) {
      INFO("count_include_pad " << include_pad << " ceil_mode " << ceil_mode);
      for (Pool2dOptions opt : {Pool2dOptions::make(2, 2), Pool2dOptions::make(3, 2, 1), Pool2dOptions::make(3, 1, 1)}) {
        opt.count_include_pad = include_pad;
        opt.ceil_mode = ceil_mode;
        check_gradients([opt](const std::vector<Tensor>& v) { return avg_pool2d(v[0], opt); }, {x});
      }
    }
}

TEST_CASE("gradcheck global_avg_pool2d", "[grad][pool]") {
  check_gradients([](const std::vector<Tensor>& v) { return global_avg_pool2d(v[0]); },
                  {random_tensor({2, 3, 5, 7}, 11)});
}
