#pragma once
// Embedding lookup: a gather on the forward pass, a scatter-add on the backward pass.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace st {

// weight: [V, D]; indices: numel(index_shape) entries in [0, V) (an index out of range throws
// naming it and V). Returns [index_shape..., D]. Repeated indices accumulate gradient.
Tensor embedding(const Tensor& weight, const std::vector<int64_t>& indices, const Shape& index_shape);

}  // namespace st
