#include "discover/adam.h"

#include <cmath>

#include "core/error.h"

namespace st {

Adam::Adam(std::vector<Tensor> params, const AdamOptions& opt) : params_(std::move(params)), opt_(opt) {
  ST_CHECK(opt.lr >= 0, "adam: learning rate " << opt.lr << " is negative");
  ST_CHECK(opt.beta1 >= 0 && opt.beta1 < 1 && opt.beta2 >= 0 && opt.beta2 < 1,
           "adam: betas " << opt.beta1 << ", " << opt.beta2 << " must lie in [0, 1)");
  ST_CHECK(opt.eps > 0, "adam: eps " << opt.eps << " must be positive");
  m_.resize(params_.size()), v_.resize(params_.size());
}

void Adam::step() {
  ++step_;
  const double c1 = 1 - std::pow(opt_.beta1, static_cast<double>(step_));
  const double c2 = 1 - std::pow(opt_.beta2, static_cast<double>(step_));
  const real b1 = static_cast<real>(opt_.beta1), b2 = static_cast<real>(opt_.beta2);
  const real lr = static_cast<real>(opt_.lr / c1), eps = static_cast<real>(opt_.eps);
  const real inv_sqrt_c2 = static_cast<real>(1 / std::sqrt(c2));
  for (size_t k = 0; k < params_.size(); ++k) {
    Tensor& p = params_[k];
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    if (!m_[k].defined()) m_[k] = Tensor::zeros(p.shape()), v_[k] = Tensor::zeros(p.shape());
    real* w = p.data();
    real* m = m_[k].data();
    real* v = v_[k].data();
    const real* g = grad.data();
    for (int64_t i = 0; i < p.numel(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      // lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps): PyTorch's arrangement.
      w[i] -= lr * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps);
    }
  }
}

void Adam::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

void Adam::reset() {
  for (Tensor& t : m_) t = Tensor();
  for (Tensor& t : v_) t = Tensor();
  step_ = 0;
}

}  // namespace st
