#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include "core/autograd.h"
#include "core/error.h"

namespace st {

namespace {

std::shared_ptr<TensorImpl> new_impl(const Shape& shape) {
  for (int64_t d : shape) ST_CHECK(d >= 0, "tensor shape " << shape_str(shape) << " has a negative extent");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->numel = shape_numel(shape);
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(impl->numel));
  return impl;
}

TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  ST_CHECK(impl != nullptr, "operation on an undefined tensor");
  return *impl;
}

}  // namespace

Tensor Tensor::empty(const Shape& shape) { return Tensor(new_impl(shape)); }

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0); }

Tensor Tensor::ones(const Shape& shape) { return full(shape, 1); }

Tensor Tensor::full(const Shape& shape, real value) {
  Tensor t = empty(shape);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(real value) { return full({}, value); }

Tensor Tensor::from_vector(const Shape& shape, const std::vector<real>& values) {
  Tensor t = empty(shape);
  ST_CHECK(static_cast<int64_t>(values.size()) == t.numel(),
           "from_vector: " << values.size() << " values do not fill shape " << shape_str(shape));
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::arange(int64_t n) {
  Tensor t = empty({n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<real>(i);
  return t;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }

int64_t Tensor::size(int64_t axis) const {
  const int64_t a = normalize_axis(axis, dim(), "size", shape());
  return shape()[a];
}

int64_t Tensor::numel() const { return checked(impl_).numel; }

real* Tensor::data() { return checked(impl_).data(); }

const real* Tensor::data() const { return checked(impl_).data(); }

real Tensor::item() const {
  ST_CHECK(numel() == 1, "item(): tensor of shape " << shape_str(shape()) << " does not have exactly one element");
  return data()[0];
}

std::vector<real> Tensor::to_vector() const { return std::vector<real>(data(), data() + numel()); }

real Tensor::at(std::initializer_list<int64_t> index) const {
  ST_CHECK(static_cast<int64_t>(index.size()) == dim(),
           "at(): " << index.size() << " indices for a tensor of shape " << shape_str(shape()));
  int64_t flat = 0, axis = 0;
  for (int64_t i : index) {
    ST_CHECK(i >= 0 && i < shape()[axis], "at(): index " << i << " out of range on axis " << axis << " of shape "
                                                         << shape_str(shape()));
    flat = flat * shape()[axis] + i;
    ++axis;
  }
  return data()[flat];
}

Tensor& Tensor::fill_(real value) {
  std::fill(data(), data() + numel(), value);
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  ST_CHECK(src.numel() == numel(),
           "copy_: source shape " << shape_str(src.shape()) << " does not match destination shape " << shape_str(shape()));
  if (src.data() != data()) std::memmove(data(), src.data(), sizeof(real) * static_cast<size_t>(numel()));
  return *this;
}

Tensor Tensor::detach() const {
  const TensorImpl& self = checked(impl_);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = self.storage;
  impl->offset = self.offset;
  impl->shape = self.shape;
  impl->numel = self.numel;
  return Tensor(impl);
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape());
  t.copy_(*this);
  return t;
}

bool Tensor::shares_storage_with(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  ST_CHECK(is_leaf(), "set_requires_grad: only leaf tensors (not results of recorded ops) can change requires_grad");
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }

Tensor Tensor::grad() const { return checked(impl_).grad; }

void Tensor::set_grad(const Tensor& g) {
  if (g.defined())
    ST_CHECK(g.shape() == shape(), "set_grad: gradient shape " << shape_str(g.shape()) << " does not match tensor shape "
                                                               << shape_str(shape()));
  checked(impl_).grad = g;
}

void Tensor::zero_grad() { checked(impl_).grad = Tensor(); }

void Tensor::retain_grad() { checked(impl_).retains_grad = true; }

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

void Tensor::backward() const {
  ST_CHECK(numel() == 1, "backward(): implicit seed gradient needs a one-element tensor, got shape "
                             << shape_str(shape()) << "; pass a gradient of the same shape");
  run_backward(*this, Tensor::ones(shape()));
}

void Tensor::backward(const Tensor& grad_output) const {
  ST_CHECK(grad_output.shape() == shape(), "backward(): gradient shape " << shape_str(grad_output.shape())
                                                                         << " does not match tensor shape "
                                                                         << shape_str(shape()));
  run_backward(*this, grad_output);
}

Tensor make_view(const Tensor& base, const Shape& shape, int64_t offset) {
  const TensorImpl& b = checked(base.impl_ptr());
  const int64_t n = shape_numel(shape);
  ST_CHECK(offset >= 0 && offset + n <= b.numel,
           "view of shape " << shape_str(shape) << " at offset " << offset << " exceeds tensor of shape "
                            << shape_str(b.shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = b.storage;
  impl->offset = b.offset + offset;
  impl->shape = shape;
  impl->numel = n;
  return Tensor(impl);
}

}  // namespace st
