#pragma once
// Tensor: a handle to a dense, contiguous, row-major array of `real` (float32 in the library).
//
// Copying a Tensor copies the handle, not the data. Views (reshape, detach, select/narrow along
// the first axis) share storage with an element offset; operations whose result would not be
// contiguous (permute, transpose, narrow along inner axes) materialise a new buffer.
//
// Autograd: a tensor with requires_grad() either is a leaf (a parameter or an input) or carries
// the Node of the op that produced it. backward() runs the reverse pass (core/autograd.h) and
// accumulates into the grad() of every leaf that requires grad. Ops are free functions declared
// in core/ops/*.h; core/ops.h includes them all.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "core/real.h"
#include "core/shape.h"
#include "core/storage.h"

namespace st {

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction
  static Tensor empty(const Shape& shape);  // uninitialised
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, real value);
  static Tensor scalar(real value);  // shape []
  static Tensor from_vector(const Shape& shape, const std::vector<real>& values);
  static Tensor arange(int64_t n);  // 0, 1, ..., n-1 as shape [n]
  static Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }
  static Tensor empty_like(const Tensor& t) { return empty(t.shape()); }

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const;

  // ---- data (contiguous, row-major)
  real* data();
  const real* data() const;
  real item() const;  // the single element of a one-element tensor
  std::vector<real> to_vector() const;
  real at(std::initializer_list<int64_t> index) const;  // bounds-checked element read

  // ---- in-place, outside the graph (for initialisers, optimizers, buffers)
  Tensor& fill_(real value);
  Tensor& zero_() { return fill_(0); }
  Tensor& copy_(const Tensor& src);  // same numel required; no autograd

  // ---- views and copies
  Tensor detach() const;  // shares storage, no grad history, requires_grad false
  Tensor clone() const;   // new storage, same values, no history
  bool shares_storage_with(const Tensor& other) const;

  // ---- autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on);  // only on leaves
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward pass reaches this tensor
  void set_grad(const Tensor& g);
  void zero_grad();  // drops the gradient (a later backward allocates a fresh zero one)
  void retain_grad();  // keep grad() of a non-leaf after backward
  const std::shared_ptr<Node>& grad_fn() const;
  // Reverse pass from this tensor. Without an argument the tensor must have one element and
  // the seed gradient is 1. The graph is released afterwards.
  void backward() const;
  void backward(const Tensor& grad_output) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// The shared state behind a Tensor handle.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  int64_t numel = 0;
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;                     // accumulated gradient of a leaf (or a retain_grad() non-leaf)
  std::shared_ptr<Node> grad_fn;   // the op that produced this tensor, for non-leaves
  int output_nr = 0;               // which output of grad_fn this tensor is

  real* data() { return storage->data() + offset; }
};

// A new tensor viewing `numel(shape)` elements of `base`'s storage starting at element
// `offset` of base's data (no autograd; the ops in core/ops/shape_ops.h wrap this).
Tensor make_view(const Tensor& base, const Shape& shape, int64_t offset);

}  // namespace st
