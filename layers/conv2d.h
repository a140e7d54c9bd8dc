#pragma once
// Conv2d: x [N, C_in, H, W] -> [N, C_out, H_out, W_out]; weight [C_out, C_in/groups, kh, kw],
// bias [C_out] (optional). Weights initialised with He/Kaiming normal (fan_out, ReLU gain), the
// initialisation of ResNets; bias zero.
#include "core/ops/conv.h"
#include "core/rng.h"
#include "layers/layer.h"

namespace st {

struct Conv2dLayerOptions {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride = 1, padding = 0, groups = 1;
  bool bias = false;
};

class Conv2d : public Layer {
 public:
  Conv2d(const Conv2dLayerOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor& weight() { return *weight_; }
  Tensor* bias() { return bias_; }
  const Conv2dLayerOptions& options() const { return opt_; }

 private:
  Conv2dLayerOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;
};

}  // namespace st
