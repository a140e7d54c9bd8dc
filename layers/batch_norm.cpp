#include "layers/batch_norm.h"

#include "core/error.h"

namespace st {

BatchNorm::BatchNorm(const BatchNormLayerOptions& opt) : opt_(opt) {
  ST_CHECK(opt.num_features > 0, "BatchNorm: num_features " << opt.num_features << " must be positive");
  ST_CHECK(opt.momentum >= 0 && opt.momentum <= 1, "BatchNorm: momentum " << opt.momentum << " is outside [0, 1]");
  ST_CHECK(opt.eps > 0, "BatchNorm: eps " << opt.eps << " must be positive");
  const int64_t c = opt.num_features;
  if (opt.affine == BatchNormLayerOptions::Affine::Learnable) weight_ = &register_parameter("weight", Tensor::ones({c}));
  if (opt.affine != BatchNormLayerOptions::Affine::None) bias_ = &register_parameter("bias", Tensor::zeros({c}));
  running_mean_ = &register_buffer("running_mean", Tensor::zeros({c}));
  running_var_ = &register_buffer("running_var", Tensor::ones({c}));
}

void BatchNorm::check_input(const Tensor& x) const {
  ST_CHECK(x.dim() >= 2 && x.size(1) == opt_.num_features,
           "BatchNorm(" << opt_.num_features << "): input " << shape_str(x.shape()) << " does not have "
                        << opt_.num_features << " channels on axis 1");
}

BatchNormOptions BatchNorm::op_options() const {
  BatchNormOptions o;
  o.momentum = opt_.momentum;
  o.eps = opt_.eps;
  o.relu = opt_.relu;
  return o;
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  return batch_norm(x, weight_ ? *weight_ : Tensor(), bias_ ? *bias_ : Tensor(), *running_mean_, *running_var_,
                    is_training(), op_options());
}

Tensor BatchNorm::forward_add(const Tensor& x, const Tensor& residual) {
  check_input(x);
  Tensor y = batch_norm_add(x, residual, weight_ ? *weight_ : Tensor(), bias_ ? *bias_ : Tensor(), *running_mean_,
                            *running_var_, is_training(), op_options());
  if (observed()) report_call(*this, CallShapes{{x.shape(), residual.shape()}, {y.shape()}});
  return y;
}

LayerCost BatchNorm::cost(const std::vector<CallShapes>&) const {
  LayerCost c;
  c.type = "BatchNorm";
  c.detail = "folded";
  c.add_all_params(*this);
  return c;
}

std::string BatchNorm::describe() const {
  const char* affine = opt_.affine == BatchNormLayerOptions::Affine::Learnable  ? ""
                       : opt_.affine == BatchNormLayerOptions::Affine::FixedScale ? ", fixed scale"
                                                                                  : ", no affine";
  return "BatchNorm(" + std::to_string(opt_.num_features) + affine + (opt_.relu ? ", relu" : "") + ")";
}

}  // namespace st
