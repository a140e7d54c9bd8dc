#pragma once
// Linear: y = x W^T + b.  x: [..., in] -> [..., out]; weight [out, in], bias [out].
// Initialised as PyTorch: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
//
// Inference cost (layers/countable.h): mults = adds = rows·in·out, rows = the input's elements
// over `in` (N for [N, in]); weight and bias at 32 bits.
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/countable.h"
#include "layers/layer.h"

namespace st {

struct LinearOptions {
  int64_t in_features = 0, out_features = 0;
  bool bias = true;
};

class Linear : public Layer, public Countable {
 public:
  Linear(const LinearOptions& opt, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
  Tensor& weight() { return *weight_; }
  Tensor* bias() { return bias_; }
  const LinearOptions& options() const { return opt_; }

 private:
  LinearOptions opt_;
  Tensor* weight_ = nullptr;
  Tensor* bias_ = nullptr;  // null without bias
};

// The detail column of a linear layer's cost: "512->1000".
std::string linear_cost_detail(const LinearOptions& opt);
// Multiply-accumulates of the full-precision product `opt` over `calls` (outputs [..., out]):
// output elements · in.
int64_t linear_macs(const LinearOptions& opt, const std::vector<CallShapes>& calls);

}  // namespace st
