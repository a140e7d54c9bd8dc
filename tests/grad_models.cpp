// Gradient checks through whole models (double build): a depth-8 ResNet with shortcuts A and B,
// w.r.t. the input and every parameter, and the option-A shortcut on its own.
#include "models/resnet_cifar.h"
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

TEST_CASE("gradcheck the option-A zero-padding shortcut", "[grad][models]") {
  for (int64_t stride : {1, 2}) {
    INFO("stride " << stride);
    auto sc = std::make_shared<ZeroPadShortcut>(3, 8, stride);
    check_gradients([sc](const std::vector<Tensor>& v) { return (*sc)(v[0]); }, {random_tensor({2, 3, 5, 5}, 11)});
  }
  // Gradcheck inside a sum with the identity path, as in a block.
  auto sc = std::make_shared<ZeroPadShortcut>(4, 4, 2);
  check_gradients([sc](const std::vector<Tensor>& v) { return add((*sc)(v[0]), v[1]); },
                  {random_tensor({2, 4, 6, 6}, 12), random_tensor({2, 4, 3, 3}, 13)});
}

TEST_CASE("gradcheck a depth-8 ResNet (width 4) with shortcuts A and B", "[grad][models]") {
  for (char sc : {'A', 'B'}) {
    INFO("shortcut " << sc);
    Generator gen(21);
    auto net = std::make_shared<ResNetCifar>(ResNetCifarOptions{8, 5, sc, 4}, gen);
    // Non-trivial batch-norm affine parameters so that their gradients are not at special values.
    Generator pg(22);
    for (auto& [name, p] : net->named_parameters())
      if (name.find("bn") != std::string::npos) p.copy_(rand_uniform(p.shape(), pg, 0.5, 1.5));
    GradcheckOptions o;
    o.max_elements = 128;  // per tensor (larger ones are sampled); well under a second
    check_gradients_with_params([net](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*net)(v[0])}; },
                                {random_tensor({2, 3, 8, 8}, 23)}, net->parameters(), o);
  }
}
