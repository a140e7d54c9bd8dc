#pragma once
// SGD with momentum (optionally Nesterov) and L2 weight decay, with PyTorch's update rule:
//   g = grad + weight_decay * p
//   buf = momentum * buf + (1 - dampening) * g      (buf = g on the first step)
//   g = nesterov ? g + momentum * buf : buf
//   p -= lr * g
// Optimizers see parameter lists, never modules. Parameters come in groups so that, for example,
// batch-norm parameters and biases can be exempt from weight decay (a group with decay 0).
#include <vector>

#include "core/tensor.h"

namespace st {

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

struct ParamGroup {
  std::vector<Tensor> params;
  double weight_decay = 0.0;
};

class Sgd {
 public:
  // One group per entry; each group's weight_decay overrides options.weight_decay.
  Sgd(std::vector<ParamGroup> groups, const SgdOptions& opt);
  // All parameters in one group with options.weight_decay.
  Sgd(const std::vector<Tensor>& params, const SgdOptions& opt);

  // Applies one update to every parameter that has a gradient (no graph is recorded).
  void step();
  // Drops every parameter's gradient.
  void zero_grad();

  void set_lr(double lr) { opt_.lr = lr; }
  double lr() const { return opt_.lr; }
  const SgdOptions& options() const { return opt_; }

  // Momentum buffers, one per parameter in group order (undefined before the first step), for
  // checkpoints.
  std::vector<Tensor>& momentum_buffers() { return buffers_; }
  std::vector<Tensor> parameters() const;

 private:
  std::vector<ParamGroup> groups_;
  SgdOptions opt_;
  std::vector<Tensor> buffers_;
};

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm
// before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace st
