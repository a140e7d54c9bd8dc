#pragma once
// Matrix products through Eigen's GEMM (Eigen::Map over the tensor buffers; no copies).
#include "core/tensor.h"

namespace st {

// a: [M, K], b: [K, N] -> [M, N].
// a: [B, M, K], b: [B, K, N] -> [B, M, N] (batched); a: [B, M, K], b: [K, N] -> [B, M, N].
Tensor matmul(const Tensor& a, const Tensor& b);
// x: [..., in], weight: [out, in], bias: [out] or undefined -> [..., out].  y = x W^T + b.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace st
