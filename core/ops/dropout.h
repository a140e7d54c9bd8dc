#pragma once
// Inverted dropout.
#include "core/rng.h"
#include "core/tensor.h"

namespace st {

// training: zeroes each element with probability p (mask drawn from gen) and scales survivors by
// 1/(1-p); evaluation or p == 0: returns x itself (no copy, no draws from gen). 0 <= p < 1,
// checked in evaluation too.
Tensor dropout(const Tensor& x, real p, bool training, Generator& gen);

}  // namespace st
