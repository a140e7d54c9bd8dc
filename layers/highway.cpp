#include "layers/highway.h"

#include <sstream>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "layers/init.h"

namespace st {

Highway::Highway(const HighwayOptions& opt, Generator& gen) : opt_(opt) {
  ST_CHECK(opt.size > 0, "Highway: size must be positive, got " << opt.size);
  hidden_ = register_module("hidden", std::make_shared<Linear>(LinearOptions{opt.size, opt.size, true}, gen));
  gate_ = register_module("gate", std::make_shared<Linear>(LinearOptions{opt.size, opt.size, true}, gen));
  init::constant(*gate_->bias(), opt.transform_bias);
}

Tensor Highway::forward(const Tensor& x) {
  const Tensor h = relu((*hidden_)(x));
  const Tensor t = sigmoid((*gate_)(x));
  return add(x, mul(t, sub(h, x)));  // t ⊙ h + (1 − t) ⊙ x with one product
}

void Highway::shift_gate_bias() {
  Tensor& b = *gate_->bias();
  real* p = b.data();
  for (int64_t i = 0; i < b.numel(); ++i) p[i] += static_cast<real>(opt_.transform_bias);
}

std::string Highway::describe() const {
  std::ostringstream os;
  os << "Highway(" << opt_.size << ", transform bias " << opt_.transform_bias << ")";
  return os.str();
}

}  // namespace st
