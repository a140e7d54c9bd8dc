#pragma once
// BatchNorm over channel axis 1 of [N, C] (1-D) or [N, C, H, W] (2-D) inputs.
// Affine modes: learnable γ and β (parameters), fixed γ = 1 with learnable β (the StrassenNets
// hidden-unit batch norm), or none. Running mean/var are buffers. With `relu` the layer computes
// relu(BN(x)) in one fused op (the usual conv → BN → ReLU; same parameters and checkpoint keys).
// forward_add(x, residual) is BN(x) + residual (then the ReLU), fused: a residual block's join.
//
// Inference cost (layers/countable.h): no operations (folded into the layer before it); γ and β
// at 32 bits. Counted whether or not it was called.
#include <string>
#include <vector>

#include "core/ops/norm.h"
#include "layers/countable.h"
#include "layers/layer.h"

namespace st {

struct BatchNormLayerOptions {
  int64_t num_features = 0;
  real momentum = real(0.1);  // PyTorch convention (see core/ops/norm.h)
  real eps = real(1e-5);
  enum class Affine { Learnable, FixedScale, None } affine = Affine::Learnable;
  bool relu = false;

  BatchNormLayerOptions with_relu() const {
    BatchNormLayerOptions o = *this;
    o.relu = true;
    return o;
  }
};

class BatchNorm : public Layer, public Countable {
 public:
  explicit BatchNorm(const BatchNormLayerOptions& opt);
  Tensor forward(const Tensor& x) override;
  // BN(x) + residual, then the ReLU when the layer has one; residual: the shape of x. Reported
  // to a LayerObserver as inputs (x, residual), output y.
  Tensor forward_add(const Tensor& x, const Tensor& residual);
  std::string describe() const override;
  LayerCost cost(const std::vector<CallShapes>& calls) const override;
  bool needs_calls() const override { return false; }
  const BatchNormLayerOptions& options() const { return opt_; }
  Tensor* weight() { return weight_; }
  Tensor* bias() { return bias_; }
  Tensor& running_mean() { return *running_mean_; }
  Tensor& running_var() { return *running_var_; }

 private:
  void check_input(const Tensor& x) const;
  BatchNormOptions op_options() const;

  BatchNormLayerOptions opt_;
  Tensor* weight_ = nullptr;  // null unless Learnable
  Tensor* bias_ = nullptr;    // null when None
  Tensor* running_mean_ = nullptr;
  Tensor* running_var_ = nullptr;
};

}  // namespace st
