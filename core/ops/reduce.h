#pragma once
// Reductions. Axes may be negative; `keepdim` keeps reduced axes as extent 1.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace st {

Tensor sum(const Tensor& a);  // all elements -> shape []
Tensor sum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim = false);

// Maximum over one axis (e.g. max over time). The gradient flows to the first maximal element.
Tensor max(const Tensor& a, int64_t axis, bool keepdim = false);
// Index of the first maximal element along `axis` (no autograd), as int64 values.
std::vector<int64_t> argmax(const Tensor& a, int64_t axis);

// Sums `g` down to `shape` over the axes broadcasting expanded (no autograd: used by backward
// functions). Returns g itself when the shapes already match.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace st
