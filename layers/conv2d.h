#pragma once
// Conv2d: x [N, C_in, H, W] -> [N, C_out, H_out, W_out]; weight [C_out, C_in/groups, kh, kw],
// bias [C_out] (optional). Weights initialised with He/Kaiming normal (fan_out, ReLU gain), the
// initialisation of ResNets; bias zero.
//
// Inference cost (layers/countable.h): one multiply-accumulate per weight tap and output,
//   mults = adds = N·H_out·W_out·c_out·(c_in/groups)·kh·kw
// (the batch norm that follows and the bias fold into the weights); weight and bias at 32 bits.
#include <string>
#include <vector>

#include "core/ops/conv.h"
#include "core/rng.h"
#include "layers/countable.h"
#include "layers/layer.h"

namespace st {

struct Conv2dLayerOptions {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride = 1, padding = 0, groups = 1;
  bool bias = false;
};

class Conv2d : public Layer, public Countable {
 public:
  Conv2d(const Conv2dLayerOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
  Tensor& weight() { return *weight_; }
  Tensor* bias() { return bias_; }
  const Conv2dLayerOptions& options() const { return opt_; }

 private:
  Conv2dLayerOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;
};

// The detail column of a convolution's cost: "3x3 s2 64->128", with " g4" for groups 4.
std::string conv2d_cost_detail(const Conv2dLayerOptions& opt);
// Multiply-accumulates of the full-precision convolution `opt` over `calls` (outputs [N, C_out,
// H_out, W_out]): output elements · (c_in/groups)·kh·kw.
int64_t conv2d_macs(const Conv2dLayerOptions& opt, const std::vector<CallShapes>& calls);

}  // namespace st
