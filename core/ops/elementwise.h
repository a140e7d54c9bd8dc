#pragma once
// Elementwise ops. Binary ops broadcast NumPy-style (trailing axes aligned, extent 1 stretches):
// [N,C,H,W] op [1,C,1,1] for per-channel scales, [N,F] op [F] for biases, anything op scalar.
// Every op here records a node for autograd; gradients of broadcast operands are summed back to
// the operand's shape.
#include "core/tensor.h"

namespace st {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);

Tensor add_scalar(const Tensor& a, real s);
Tensor mul_scalar(const Tensor& a, real s);
Tensor neg(const Tensor& a);
Tensor pow_scalar(const Tensor& a, real exponent);  // a^p (a > 0 unless p is an integer)

Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor square(const Tensor& a);
Tensor abs(const Tensor& a);  // gradient sign(a), 0 at 0

Tensor relu(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
// min(max(a, low), high); the gradient passes where low <= a <= high.
Tensor clamp(const Tensor& a, real low, real high);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, real s) { return add_scalar(a, s); }
inline Tensor operator+(real s, const Tensor& a) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a, real s) { return add_scalar(a, -s); }
inline Tensor operator-(real s, const Tensor& a) { return add_scalar(neg(a), s); }
inline Tensor operator*(const Tensor& a, real s) { return mul_scalar(a, s); }
inline Tensor operator*(real s, const Tensor& a) { return mul_scalar(a, s); }
inline Tensor operator/(const Tensor& a, real s) { return mul_scalar(a, real(1) / s); }

}  // namespace st
