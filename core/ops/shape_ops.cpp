#include "core/ops/shape_ops.h"

#include <cstring>
#include <numeric>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/parallel.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

// Copies a [outer, extent_src, inner] block range into [outer, extent_dst, inner] layout:
// for every o, rows [src_start, src_start+len) of src go to rows [dst_start, ...) of dst.
// accumulate: dst += src instead of dst = src.
void copy_rows(const real* src, int64_t src_extent, int64_t src_start, real* dst, int64_t dst_extent,
               int64_t dst_start, int64_t len, int64_t outer, int64_t inner, bool accumulate) {
  const int64_t run = len * inner;
  parallel_for(outer, std::max<int64_t>(1, 65536 / std::max<int64_t>(run, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const real* s = src + (o * src_extent + src_start) * inner;
      real* d = dst + (o * dst_extent + dst_start) * inner;
      if (accumulate)
        for (int64_t j = 0; j < run; ++j) d[j] += s[j];
      else
        std::memcpy(d, s, sizeof(real) * run);
    }
  });
}

void outer_inner(const Shape& s, int64_t axis, int64_t* outer, int64_t* inner) {
  *outer = 1, *inner = 1;
  for (int64_t i = 0; i < axis; ++i) *outer *= s[i];
  for (size_t i = axis + 1; i < s.size(); ++i) *inner *= s[i];
}

// A view op: `out` shares storage with `a`; the gradient is the incoming one reshaped.
Tensor view_op(const char* name, const Tensor& a, const Shape& shape, int64_t offset) {
  Tensor out = make_view(a, shape, offset);
  if (!needs_graph({&a})) return out;
  record_node(name, {a}, {out}, [a](const std::vector<Tensor>& g) { accumulate_grad(a, g[0]); });
  return out;
}

}  // namespace

Tensor reshape(const Tensor& a, const Shape& shape_in) {
  Shape shape = shape_in;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ST_CHECK(infer < 0, "reshape: more than one -1 in target shape " << shape_str(shape_in));
      infer = static_cast<int64_t>(i);
    } else {
      ST_CHECK(shape[i] >= 0, "reshape: negative extent in target shape " << shape_str(shape_in));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    ST_CHECK(known > 0 && a.numel() % known == 0,
             "reshape: cannot reshape tensor of shape " << shape_str(a.shape()) << " into " << shape_str(shape_in));
    shape[infer] = a.numel() / known;
  }
  ST_CHECK(shape_numel(shape) == a.numel(),
           "reshape: cannot reshape tensor of shape " << shape_str(a.shape()) << " into " << shape_str(shape_in));
  return view_op("reshape", a, shape, 0);
}

Tensor flatten(const Tensor& a, int64_t start_axis) {
  const int64_t s = normalize_axis(start_axis, a.dim(), "flatten", a.shape());
  Shape shape(a.shape().begin(), a.shape().begin() + s);
  shape.push_back(-1);
  return reshape(a, shape);
}

Tensor unsqueeze(const Tensor& a, int64_t axis) {
  const int64_t ax = normalize_axis(axis, a.dim() + 1, "unsqueeze", a.shape());
  Shape shape = a.shape();
  shape.insert(shape.begin() + ax, 1);
  return view_op("unsqueeze", a, shape, 0);
}

Tensor squeeze(const Tensor& a, int64_t axis) {
  const int64_t ax = normalize_axis(axis, a.dim(), "squeeze", a.shape());
  ST_CHECK(a.shape()[ax] == 1, "squeeze: axis " << axis << " of shape " << shape_str(a.shape()) << " is not 1");
  Shape shape = a.shape();
  shape.erase(shape.begin() + ax);
  return view_op("squeeze", a, shape, 0);
}

namespace {
// out[perm-index] = a[index]; the gradient applies the inverse permutation.
Tensor permute_kernel(const Tensor& a, const std::vector<int64_t>& perm) {
  const int64_t nd = a.dim();
  Shape out_shape(nd);
  for (int64_t i = 0; i < nd; ++i) out_shape[i] = a.shape()[perm[i]];
  Tensor out = Tensor::empty(out_shape);
  const std::vector<int64_t> in_strides = contiguous_strides(a.shape());
  std::vector<int64_t> src_stride(nd);  // stride in `a` of out axis i
  for (int64_t i = 0; i < nd; ++i) src_stride[i] = in_strides[perm[i]];
  const real* pa = a.data();
  real* po = out.data();
  const int64_t inner = nd ? out_shape[nd - 1] : 1, inner_stride = nd ? src_stride[nd - 1] : 1;
  const int64_t outer = inner ? out.numel() / inner : 0;
  parallel_for(outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      int64_t rem = o, src = 0;
      for (int64_t d = nd - 2; d >= 0; --d) {
        src += (rem % out_shape[d]) * src_stride[d];
        rem /= out_shape[d];
      }
      real* dst = po + o * inner;
      for (int64_t j = 0; j < inner; ++j) dst[j] = pa[src + j * inner_stride];
    }
  });
  return out;
}
}  // namespace

Tensor permute(const Tensor& a, const std::vector<int64_t>& perm_in) {
  ProfileScope prof("permute");
  const int64_t nd = a.dim();
  ST_CHECK(static_cast<int64_t>(perm_in.size()) == nd,
           "permute: " << perm_in.size() << " axes given for tensor of shape " << shape_str(a.shape()));
  std::vector<int64_t> perm(nd), inverse(nd, -1);
  for (int64_t i = 0; i < nd; ++i) {
    perm[i] = normalize_axis(perm_in[i], nd, "permute", a.shape());
    ST_CHECK(inverse[perm[i]] < 0, "permute: axis " << perm_in[i] << " repeated for shape " << shape_str(a.shape()));
    inverse[perm[i]] = i;
  }
  Tensor out = permute_kernel(a, perm);
  if (!needs_graph({&a})) return out;
  record_node("permute", {a}, {out},
              [a, inverse](const std::vector<Tensor>& g) { accumulate_grad(a, permute_kernel(g[0], inverse)); });
  return out;
}

Tensor transpose(const Tensor& a, int64_t axis0, int64_t axis1) {
  std::vector<int64_t> perm(a.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[normalize_axis(axis0, a.dim(), "transpose", a.shape())],
            perm[normalize_axis(axis1, a.dim(), "transpose", a.shape())]);
  return permute(a, perm);
}

Tensor narrow(const Tensor& a, int64_t axis, int64_t start, int64_t length) {
  const int64_t ax = normalize_axis(axis, a.dim(), "narrow", a.shape());
  const int64_t extent = a.shape()[ax];
  ST_CHECK(start >= 0 && length >= 0 && start + length <= extent,
           "narrow: range [" << start << ", " << start + length << ") is outside axis " << axis << " of shape "
                             << shape_str(a.shape()));
  int64_t outer, inner;
  outer_inner(a.shape(), ax, &outer, &inner);
  Shape out_shape = a.shape();
  out_shape[ax] = length;
  ProfileScope prof("narrow");
  // With nothing outside the axis the range is one contiguous block: a view, no copy.
  Tensor out = outer == 1 ? make_view(a, out_shape, start * inner) : Tensor::empty(out_shape);
  if (outer != 1) copy_rows(a.data(), extent, start, out.data(), length, 0, length, outer, inner, false);
  if (!needs_graph({&a})) return out;
  record_node("narrow", {a}, {out}, [a, extent, start, length, outer, inner](const std::vector<Tensor>& g) {
    copy_rows(g[0].data(), length, 0, grad_buffer(a).data(), extent, start, length, outer, inner, true);
  });
  return out;
}

Tensor select(const Tensor& a, int64_t axis, int64_t index) {
  const int64_t ax = normalize_axis(axis, a.dim(), "select", a.shape());
  ST_CHECK(index >= 0 && index < a.shape()[ax],
           "select: index " << index << " is outside axis " << axis << " of shape " << shape_str(a.shape()));
  return squeeze(narrow(a, ax, index, 1), ax);
}

std::vector<Tensor> split(const Tensor& a, const std::vector<int64_t>& sizes, int64_t axis) {
  const int64_t ax = normalize_axis(axis, a.dim(), "split", a.shape());
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  ST_CHECK(total == a.shape()[ax], "split: sizes add up to " << total << " but axis " << axis << " of shape "
                                                             << shape_str(a.shape()) << " has " << a.shape()[ax]);
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(narrow(a, ax, start, s));
    start += s;
  }
  return parts;
}

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  ProfileScope prof("concat");
  ST_CHECK(!tensors.empty(), "concat: no tensors given");
  const Tensor& first = tensors[0];
  const int64_t ax = normalize_axis(axis, first.dim(), "concat", first.shape());
  Shape out_shape = first.shape();
  out_shape[ax] = 0;
  for (const Tensor& t : tensors) {
    bool ok = t.dim() == first.dim();
    for (int64_t d = 0; ok && d < first.dim(); ++d) ok = d == ax || t.shape()[d] == first.shape()[d];
    ST_CHECK(ok, "concat: shapes " << shape_str(first.shape()) << " and " << shape_str(t.shape())
                                   << " differ outside axis " << axis);
    out_shape[ax] += t.shape()[ax];
  }
  int64_t outer, inner;
  outer_inner(out_shape, ax, &outer, &inner);
  Tensor out = Tensor::empty(out_shape);
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    starts.push_back(start);
    copy_rows(t.data(), t.shape()[ax], 0, out.data(), out_shape[ax], start, t.shape()[ax], outer, inner, false);
    start += t.shape()[ax];
  }
  if (!needs_graph(tensors)) return out;
  const int64_t extent = out_shape[ax];
  record_node("concat", tensors, {out}, [tensors, starts, ax, extent, outer, inner](const std::vector<Tensor>& g) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (!tensors[i].requires_grad()) continue;
      const int64_t len = tensors[i].shape()[ax];
      copy_rows(g[0].data(), extent, starts[i], grad_buffer(tensors[i]).data(), len, 0, len, outer, inner, true);
    }
  });
  return out;
}

Tensor subsample_pad_channels(const Tensor& x, int64_t stride, int64_t before, int64_t after) {
  ProfileScope prof("subsample_pad_channels");
  ST_CHECK(x.defined() && x.dim() == 4, "subsample_pad_channels: expected an input [N, C, H, W], got "
                                            << (x.defined() ? shape_str(x.shape()) : "undefined"));
  ST_CHECK(stride >= 1 && before >= 0 && after >= 0, "subsample_pad_channels: stride " << stride << ", padding "
                                                         << before << "/" << after << " (input "
                                                         << shape_str(x.shape()) << ")");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Co = before + C + after, Ho = (H + stride - 1) / stride, Wo = (W + stride - 1) / stride;
  Tensor out = Tensor::empty({N, Co, Ho, Wo});
  const int64_t plane = Ho * Wo;
  // One output plane per iteration: forward, a zero plane or the strided samples of an input
  // plane; backward, the plane's gradient added onto the sampled positions of dx, or, when dx
  // has no gradient yet (write), put there with the rest of the plane zeroed just before (while
  // it is in cache, instead of a pass zeroing all of dx first).
  const auto planes = [=](const real* src, real* dst, bool forward, bool write = false) {
    parallel_for(N * Co, std::max<int64_t>(1, 32768 / std::max<int64_t>(plane, 1)), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const int64_t n = p / Co, c = p % Co - before;
        if (c < 0 || c >= C) {
          if (forward) std::fill(dst + p * plane, dst + (p + 1) * plane, real(0));
          continue;
        }
        if (forward) {
          const real* xp = src + (n * C + c) * H * W;
          real* o = dst + p * plane;
          for (int64_t i = 0; i < Ho; ++i)
            for (int64_t j = 0; j < Wo; ++j) o[i * Wo + j] = xp[i * stride * W + j * stride];
        } else {
          const real* gp = src + p * plane;
          real* dxp = dst + (n * C + c) * H * W;
          if (write) std::fill(dxp, dxp + H * W, real(0));
          for (int64_t i = 0; i < Ho; ++i)
            for (int64_t j = 0; j < Wo; ++j) dxp[i * stride * W + j * stride] += gp[i * Wo + j];
        }
      }
    });
  };
  planes(x.data(), out.data(), true);
  if (!needs_graph({&x})) return out;
  record_node("subsample_pad_channels", {x}, {out},
              [x, planes](const std::vector<Tensor>& g) {
                bool add;
                real* dx = grad_buffer_for_write(x, &add).data();
                planes(g[0].data(), dx, false, !add);
              });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t axis) {
  ST_CHECK(!tensors.empty(), "stack: no tensors given");
  std::vector<Tensor> expanded;
  for (const Tensor& t : tensors) {
    ST_CHECK(t.shape() == tensors[0].shape(), "stack: shapes " << shape_str(tensors[0].shape()) << " and "
                                                               << shape_str(t.shape()) << " differ");
    expanded.push_back(unsqueeze(t, axis));
  }
  return concat(expanded, axis);
}

}  // namespace st
