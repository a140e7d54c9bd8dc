#include "layers/linear.h"

#include <cmath>

#include "core/error.h"
#include "core/ops/linalg.h"
#include "layers/init.h"

namespace st {

Linear::Linear(const LinearOptions& opt, Generator& gen) : opt_(opt) {
  ST_CHECK(opt.in_features > 0 && opt.out_features > 0,
           "Linear: in_features " << opt.in_features << " and out_features " << opt.out_features << " must be positive");
  const double bound = 1.0 / std::sqrt(static_cast<double>(opt.in_features));
  Tensor w = Tensor::empty({opt.out_features, opt.in_features});
  init::uniform(w, gen, bound);
  weight_ = &register_parameter("weight", w);
  if (opt.bias) {
    Tensor b = Tensor::empty({opt.out_features});
    init::uniform(b, gen, bound);
    bias_ = &register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, *weight_, bias_ ? *bias_ : Tensor()); }

std::string Linear::describe() const {
  return "Linear(" + std::to_string(opt_.in_features) + ", " + std::to_string(opt_.out_features) +
         (opt_.bias ? ")" : ", no bias)");
}

LayerCost Linear::cost(const std::vector<CallShapes>& calls) const {
  LayerCost c;
  c.type = "Linear";
  c.detail = linear_cost_detail(opt_);
  c.mults = c.adds = c.adds_nonzero = linear_macs(opt_, calls);
  c.add_all_params(*this);
  return c;
}

std::string linear_cost_detail(const LinearOptions& o) {
  return std::to_string(o.in_features) + "->" + std::to_string(o.out_features);
}

int64_t linear_macs(const LinearOptions& o, const std::vector<CallShapes>& calls) {
  return output_elements(calls) * o.in_features;  // rows · out · in
}

}  // namespace st
