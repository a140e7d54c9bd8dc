// Gradient checks through whole layers and a small network, w.r.t. the input and every
// parameter of the modules themselves (double build).
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "layers/simple_layers.h"
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

TEST_CASE("gradcheck a conv-bn-tanh-pool-linear network w.r.t. input and every parameter", "[grad][module]") {
  Generator gen(3);
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(Conv2dLayerOptions{2, 4, 3, 3, 2, 1, 2, true}, gen));
  net->add(std::make_shared<BatchNorm>(BatchNormLayerOptions{4}));
  net->add(std::make_shared<Tanh>());
  net->add(std::make_shared<AvgPool2d>(Pool2dOptions::make(2, 2)));
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Linear>(LinearOptions{4 * 2 * 2, 3, true}, gen));
  REQUIRE(net->parameters().size() == 6);
  check_gradients_with_params([net](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*net)(v[0])}; },
                              {random_tensor({3, 2, 9, 9}, 8)}, net->parameters());
}

TEST_CASE("gradcheck batch norm with fixed scale (StrassenNets hidden units)", "[grad][module]") {
  BatchNormLayerOptions o{5};
  o.affine = BatchNormLayerOptions::Affine::FixedScale;
  auto bn = std::make_shared<BatchNorm>(o);
  Tensor bias = bn->named_parameters()[0].second;
  bias.copy_(random_tensor({5}, 4));
  check_gradients_with_params([bn](const std::vector<Tensor>& v) { return std::vector<Tensor>{(*bn)(v[0])}; },
                              {random_tensor({4, 5, 3, 3}, 9)}, bn->parameters());
}
