#include "core/ops/reduce.h"

#include <algorithm>
#include <limits>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/broadcast.h"
#include "core/ops/profiler.h"
#include "core/ops/shape_ops.h"

namespace st {

namespace {

// Shape of `a` with the listed axes set to 1 (the keepdim shape), and the axes normalised.
Shape kept_shape(const Tensor& a, const std::vector<int64_t>& axes, const char* op, std::vector<bool>* reduced) {
  Shape kept = a.shape();
  reduced->assign(a.dim(), false);
  for (int64_t ax : axes) {
    const int64_t n = normalize_axis(ax, a.dim(), op, a.shape());
    ST_CHECK(!(*reduced)[n], op << ": axis " << ax << " listed twice for shape " << shape_str(a.shape()));
    (*reduced)[n] = true;
    kept[n] = 1;
  }
  return kept;
}

Shape drop_unit_axes(const Shape& kept, const std::vector<bool>& reduced) {
  Shape out;
  for (size_t i = 0; i < kept.size(); ++i)
    if (!reduced[i]) out.push_back(kept[i]);
  return out;
}

// out (shape `kept`, same rank as in) = sum of `in` over the axes where kept is 1.
void sum_kernel(const Tensor& in, const Shape& kept, Tensor& out) {
  out.zero_();
  const real* pi = in.data();
  real* po = out.data();
  // Plan over the input's shape; operand "a" walks the output with stride 0 on reduced axes.
  const BroadcastPlan plan = make_broadcast_plan(in.shape(), kept, kept);
  broadcast_for_each(plan, false, [&](int64_t i, int64_t o, int64_t, int64_t n, int64_t si, int64_t so, int64_t) {
    if (so == 0) {
      real acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += pi[i + j * si];
      po[o] += acc;
    } else {
      for (int64_t j = 0; j < n; ++j) po[o + j * so] += pi[i + j * si];
    }
  });
}

// Gradient of a sum: broadcast g (shape `kept`) back over `shape`, scaled.
Tensor expand_grad(const Tensor& g, const Shape& kept, const Shape& shape, real scale) {
  Tensor out = Tensor::empty(shape);
  const real* pg = g.data();
  real* po = out.data();
  const BroadcastPlan plan = make_broadcast_plan(shape, kept, kept);
  broadcast_for_each(plan, true, [&](int64_t o, int64_t ig, int64_t, int64_t n, int64_t so, int64_t sg, int64_t) {
    for (int64_t j = 0; j < n; ++j) po[o + j * so] = scale * pg[ig + j * sg];
  });
  return out;
}

Tensor sum_impl(const char* name, const Tensor& a, const std::vector<int64_t>& axes, bool keepdim, real scale) {
  ProfileScope prof(name);
  std::vector<bool> reduced;
  const Shape kept = kept_shape(a, axes, name, &reduced);
  Tensor out = Tensor::empty(kept);
  sum_kernel(a, kept, out);
  if (scale != 1) {
    real* p = out.data();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] *= scale;
  }
  if (!keepdim) out = make_view(out, drop_unit_axes(kept, reduced), 0);
  if (!needs_graph({&a})) return out;
  record_node(name, {a}, {out}, [a, kept, scale](const std::vector<Tensor>& g) {
    accumulate_grad(a, expand_grad(g[0], kept, a.shape(), scale));
  });
  return out;
}

std::vector<int64_t> all_axes(const Tensor& a) {
  std::vector<int64_t> axes(a.dim());
  for (int64_t i = 0; i < a.dim(); ++i) axes[i] = i;
  return axes;
}

}  // namespace

Tensor sum(const Tensor& a) { return sum_impl("sum", a, all_axes(a), false, 1); }

Tensor sum(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  return sum_impl("sum", a, axes, keepdim, 1);
}

Tensor mean(const Tensor& a) { return mean(a, all_axes(a), false); }

Tensor mean(const Tensor& a, const std::vector<int64_t>& axes, bool keepdim) {
  std::vector<bool> reduced;
  const Shape kept = kept_shape(a, axes, "mean", &reduced);
  const int64_t count = a.numel() / std::max<int64_t>(1, shape_numel(kept));
  ST_CHECK(count > 0, "mean: reducing an empty tensor of shape " << shape_str(a.shape()));
  return sum_impl("mean", a, axes, keepdim, real(1) / static_cast<real>(count));
}

namespace {
// Views `a` as [outer, extent, inner] around `axis`.
void split_around(const Tensor& a, int64_t axis, int64_t* outer, int64_t* extent, int64_t* inner) {
  *outer = 1, *inner = 1;
  for (int64_t i = 0; i < axis; ++i) *outer *= a.shape()[i];
  *extent = a.shape()[axis];
  for (int64_t i = axis + 1; i < a.dim(); ++i) *inner *= a.shape()[i];
}
}  // namespace

std::vector<int64_t> argmax(const Tensor& a, int64_t axis) {
  const int64_t ax = normalize_axis(axis, a.dim(), "argmax", a.shape());
  int64_t outer, extent, inner;
  split_around(a, ax, &outer, &extent, &inner);
  ST_CHECK(extent > 0, "argmax: empty axis " << axis << " in shape " << shape_str(a.shape()));
  std::vector<int64_t> idx(outer * inner, 0);
  const real* p = a.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const real* base = p + o * extent * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < extent; ++k)
        if (base[k * inner] > base[best * inner]) best = k;
      idx[o * inner + i] = best;
    }
  return idx;
}

Tensor max(const Tensor& a, int64_t axis, bool keepdim) {
  ProfileScope prof("max");
  const int64_t ax = normalize_axis(axis, a.dim(), "max", a.shape());
  int64_t outer, extent, inner;
  split_around(a, ax, &outer, &extent, &inner);
  const std::vector<int64_t> idx = argmax(a, ax);
  Shape out_shape = a.shape();
  out_shape[ax] = 1;
  Tensor out = Tensor::empty(out_shape);
  const real* p = a.data();
  real* po = out.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) po[o * inner + i] = p[(o * extent + idx[o * inner + i]) * inner + i];
  if (!keepdim) {
    out_shape.erase(out_shape.begin() + ax);
    out = make_view(out, out_shape, 0);
  }
  if (!needs_graph({&a})) return out;
  record_node("max", {a}, {out}, [a, idx, outer, extent, inner](const std::vector<Tensor>& g) {
    Tensor& ga = grad_buffer(a);
    const real* pg = g[0].data();
    real* pa = ga.data();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) pa[(o * extent + idx[o * inner + i]) * inner + i] += pg[o * inner + i];
  });
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  ST_CHECK(shape.size() <= g.shape().size() && broadcast_shapes(shape, g.shape()) == g.shape(),
           "sum_to: shape " << shape_str(shape) << " does not broadcast to " << shape_str(g.shape()));
  // Align `shape` to g's rank with leading ones, reduce, then view as `shape`.
  Shape kept(g.dim() - shape.size(), 1);
  kept.insert(kept.end(), shape.begin(), shape.end());
  Tensor out = Tensor::empty(kept);
  sum_kernel(g, kept, out);
  return make_view(out, shape, 0);
}

}  // namespace st
