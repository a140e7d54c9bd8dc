#pragma once
// bn(conv(x)): a CNN's usual convolution → batch norm (→ ReLU) pair, as one op where it can be.
#include "layers/batch_norm.h"
#include "layers/layer.h"

namespace st {

// In evaluation without a graph (inference), when conv is a plain Conv2d and no LayerObserver is
// installed, both layers run as one convolution with the batch norm folded into its weights and
// the ReLU applied as the outputs are stored (conv2d_batch_norm_eval: one pass over the output
// instead of two; equal up to float rounding). Otherwise bn(conv(x)), the layers one by one.
//
// With a residual: bn(conv(x)) + residual, then bn's ReLU (a residual block's join,
// BatchNorm::forward_add), fused in the same cases with the residual added as the outputs are
// stored.
Tensor conv_then_batch_norm(Layer& conv, BatchNorm& bn, const Tensor& x, const Tensor& residual = Tensor());

}  // namespace st
