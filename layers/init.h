#pragma once
// Parameter initialisers (in place, outside the graph). fan_in/fan_out of a weight
// [out, in, kh, kw] are in*kh*kw and out*kh*kw, as in PyTorch.
#include "core/rng.h"
#include "core/tensor.h"

namespace st::init {

int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);

// He et al.: N(0, gain² / fan), gain sqrt(2) for ReLU; `fan` is fan_in ("fan_in" mode) or
// fan_out ("fan_out" mode, the torchvision ResNet choice).
void kaiming_normal(Tensor& w, Generator& gen, bool fan_out_mode = false, double gain = 1.4142135623730951);
// Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform(Tensor& w, Generator& gen, double gain = 1.0);
// U(-a, a).
void uniform(Tensor& w, Generator& gen, double a);
void constant(Tensor& w, double value);

}  // namespace st::init
