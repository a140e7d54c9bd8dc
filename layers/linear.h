#pragma once
// Linear: y = x W^T + b.  x: [..., in] -> [..., out]; weight [out, in], bias [out].
// Initialised as PyTorch: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
#include "core/rng.h"
#include "layers/layer.h"

namespace st {

struct LinearOptions {
  int64_t in_features = 0, out_features = 0;
  bool bias = true;
};

class Linear : public Layer {
 public:
  Linear(const LinearOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor& weight() { return *weight_; }
  Tensor* bias() { return bias_; }
  const LinearOptions& options() const { return opt_; }

 private:
  LinearOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;  // null without bias
};

}  // namespace st
