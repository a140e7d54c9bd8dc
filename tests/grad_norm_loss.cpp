// Gradient checks: batch_norm, softmax / log_softmax, cross_entropy, soft_cross_entropy,
// embedding and dropout.
#include "tests/gradcheck.h"

using namespace st;
using namespace st::test;

TEST_CASE("gradcheck batch_norm training", "[grad][norm]") {
  for (const Shape& shape : {Shape{3, 4, 2, 3}, Shape{5, 3}}) {
    INFO("input " << shape_str(shape));
    const int64_t C = shape[1];
    Tensor x = random_tensor(shape, 11, -2, 2);
    Tensor w = random_tensor({C}, 12, 0.5, 1.5), b = random_tensor({C}, 13);

    // Learnable γ and β, running buffers updated along the way (they do not affect the output).
    Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
    check_gradients([rm, rv](const std::vector<Tensor>& v) { return batch_norm(v[0], v[1], v[2], rm, rv, true); },
                    {x, w, b});
    // Fixed γ: a tensor outside the checked inputs, so it does not require grad.
    check_gradients([w](const std::vector<Tensor>& v) { return batch_norm(v[0], w, v[1], Tensor(), Tensor(), true); },
                    {x, b});
    // No affine.
    check_gradients(
        [](const std::vector<Tensor>& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
        {x});
  }
}

TEST_CASE("gradcheck batch_norm evaluation", "[grad][norm]") {
  Tensor x = random_tensor({2, 3, 2, 2}, 21, -2, 2);
  Tensor w = random_tensor({3}, 22, 0.5, 1.5), b = random_tensor({3}, 23);
  Tensor rm = random_tensor({3}, 24), rv = random_tensor({3}, 25, 0.5, 2);
  check_gradients([rm, rv](const std::vector<Tensor>& v) { return batch_norm(v[0], v[1], v[2], rm, rv, false); },
                  {x, w, b});
  check_gradients([rm, rv](const std::vector<Tensor>& v) { return batch_norm(v[0], Tensor(), Tensor(), rm, rv, false); },
                  {x});
}

TEST_CASE("gradcheck batch_norm with the fused ReLU", "[grad][norm]") {
  // Distinct inputs spread over [-3, 3]: some outputs are clipped and some pass, and none sits
  // within the finite-difference step of the kink.
  BatchNormOptions fused;
  fused.relu = true;
  Tensor x = Tensor::empty({4, 2, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = real((i * 7) % 24) / 4 - 3 + real(0.01) * (i % 5);
  Tensor w = Tensor::from_vector({2}, {1.2, 0.8}), b = Tensor::from_vector({2}, {0.33, -0.21});
  for (bool training : {true, false}) {
    INFO((training ? "training" : "evaluation"));
    Tensor rm = Tensor::from_vector({2}, {0.1, -0.2}), rv = Tensor::from_vector({2}, {1.5, 0.7});
    check_gradients(
        [rm, rv, training, fused](const std::vector<Tensor>& v) {
          return batch_norm(v[0], v[1], v[2], rm, rv, training, fused);
        },
        {x, w, b});
  }
}

TEST_CASE("gradcheck batch_norm_add, with and without the fused ReLU", "[grad][norm]") {
  // As above: inputs and residual spread so that no output sits within the step of the kink.
  Tensor x = Tensor::empty({4, 2, 3}), r = Tensor::empty({4, 2, 3});
  for (int64_t i = 0; i < x.numel(); ++i) {
    x.data()[i] = real((i * 7) % 24) / 4 - 3 + real(0.01) * (i % 5);
    r.data()[i] = real((i * 5) % 24) / 8 - 1.43;
  }
  Tensor w = Tensor::from_vector({2}, {1.2, 0.8}), b = Tensor::from_vector({2}, {0.33, -0.21});
  for (bool relu : {false, true})
    for (bool training : {true, false}) {
      INFO((relu ? "relu" : "no relu") << (training ? ", training" : ", evaluation"));
      BatchNormOptions opt;
      opt.relu = relu;
      Tensor rm = Tensor::from_vector({2}, {0.1, -0.2}), rv = Tensor::from_vector({2}, {1.5, 0.7});
      check_gradients(
          [rm, rv, training, opt](const std::vector<Tensor>& v) {
            return batch_norm_add(v[0], v[1], v[2], v[3], rm, rv, training, opt);
          },
          {x, r, w, b});
    }
}

TEST_CASE("gradcheck softmax and log_softmax", "[grad][loss]") {
  Tensor x = random_tensor({3, 4, 5}, 31, -3, 3);
  for (int64_t axis : {0, 1, -1}) {
    INFO("axis " << axis);
    check_gradients([axis](const std::vector<Tensor>& v) { return softmax(v[0], axis); }, {x});
    check_gradients([axis](const std::vector<Tensor>& v) { return log_softmax(v[0], axis); }, {x});
  }
}

TEST_CASE("gradcheck cross_entropy", "[grad][loss]") {
  Tensor logits = random_tensor({4, 6}, 41, -3, 3);
  const std::vector<int64_t> labels = {5, 0, 2, 2};
  check_gradients([labels](const std::vector<Tensor>& v) { return cross_entropy(v[0], labels); }, {logits});
}

TEST_CASE("gradcheck soft_cross_entropy w.r.t. both arguments", "[grad][loss]") {
  Tensor logits = random_tensor({3, 5}, 51, -3, 3), target = random_tensor({3, 5}, 52, -3, 3);
  for (real T : {real(1), real(4)}) {
    INFO("T " << T);
    check_gradients([T](const std::vector<Tensor>& v) { return soft_cross_entropy(v[0], v[1], T); },
                    {logits, target});
  }
}

TEST_CASE("gradcheck embedding with repeated indices", "[grad][embedding]") {
  Tensor w = random_tensor({5, 3}, 61);
  const std::vector<int64_t> idx = {1, 3, 1, 4, 1, 0};
  check_gradients([idx](const std::vector<Tensor>& v) { return embedding(v[0], idx, {2, 3}); }, {w});
}

TEST_CASE("gradcheck dropout", "[grad][dropout]") {
  Tensor x = random_tensor({4, 7}, 71);
  // A fresh generator with a fixed seed in the closure: every call draws the same mask.
  check_gradients(
      [](const std::vector<Tensor>& v) {
        Generator gen(7);
        return dropout(v[0], 0.3, true, gen);
      },
      {x});
}
