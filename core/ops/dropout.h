#pragma once
// Inverted dropout.
#include "core/rng.h"
#include "core/tensor.h"

namespace st {

// training: zeroes each element with probability p (mask drawn from gen) and scales survivors by
// 1/(1-p); evaluation or p == 0: returns x unchanged. 0 <= p < 1.
Tensor dropout(const Tensor& x, real p, bool training, Generator& gen);

}  // namespace st
