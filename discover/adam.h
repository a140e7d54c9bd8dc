#pragma once
// Adam (Kingma & Ba 2015) with PyTorch's update rule, bias-corrected:
//   m = β1·m + (1 − β1)·g,   v = β2·v + (1 − β2)·g²
//   p -= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)
// optim/ has SGD only; the SPN search needs Adam because the gradients shrink by many orders of
// magnitude as the loss falls towards an exact solution, and Adam's per-weight scaling follows.
// Like the optimizers in optim/, it sees a parameter list, never a module.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace st {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Adam {
 public:
  // Throws st::Error for lr < 0, β outside [0, 1) or eps <= 0.
  Adam(std::vector<Tensor> params, const AdamOptions& opt);

  // One update of every parameter that has a gradient (outside the graph).
  void step();
  void zero_grad();
  // Forgets the moments and the step count (a new training phase).
  void reset();

  void set_lr(double lr) { opt_.lr = lr; }
  double lr() const { return opt_.lr; }

 private:
  std::vector<Tensor> params_;
  AdamOptions opt_;
  std::vector<Tensor> m_, v_;  // one pair per parameter, same shapes; undefined until the first step
  int64_t step_ = 0;
};

}  // namespace st
