#include "core/ops/pool.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/block_cache.h"
#include "core/error.h"
#include "core/kernels/pool.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

PoolGeometry pool_geometry(const char* op, const Tensor& x, const Pool2dOptions& opt) {
  ST_CHECK(x.dim() == 4, op << ": input must be 4-D [N, C, H, W], got " << shape_str(x.shape()));
  ST_CHECK(opt.kernel_h >= 1 && opt.kernel_w >= 1 && opt.stride_h >= 1 && opt.stride_w >= 1,
           op << ": kernel " << opt.kernel_h << "×" << opt.kernel_w << " and stride " << opt.stride_h << "×"
              << opt.stride_w << " must be positive");
  // A window made only of padding would have no maximum (max pool) and no elements to average
  // (count_include_pad off); PyTorch rules it out the same way.
  ST_CHECK(opt.pad_h >= 0 && opt.pad_w >= 0 && 2 * opt.pad_h <= opt.kernel_h && 2 * opt.pad_w <= opt.kernel_w,
           op << ": padding " << opt.pad_h << "×" << opt.pad_w << " must be non-negative and at most half of the kernel "
              << opt.kernel_h << "×" << opt.kernel_w);
  PoolGeometry g;
  g.planes = x.size(0) * x.size(1);
  g.in_h = x.size(2);
  g.in_w = x.size(3);
  g.kernel_h = opt.kernel_h;
  g.kernel_w = opt.kernel_w;
  g.stride_h = opt.stride_h;
  g.stride_w = opt.stride_w;
  g.pad_h = opt.pad_h;
  g.pad_w = opt.pad_w;
  g.out_h = pool_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, opt.ceil_mode);
  g.out_w = pool_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, opt.ceil_mode);
  ST_CHECK(g.out_h > 0 && g.out_w > 0, op << ": kernel " << opt.kernel_h << "×" << opt.kernel_w
                                          << " does not fit input " << shape_str(x.shape()) << " with padding "
                                          << opt.pad_h << "×" << opt.pad_w << ": the output would be empty");
  return g;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  ProfileScope prof("max_pool2d");
  const PoolGeometry g = pool_geometry("max_pool2d", x, opt);
  Tensor out = Tensor::empty({x.size(0), x.size(1), g.out_h, g.out_w});
  const bool graph = needs_graph({&x});
  ST_CHECK(g.in_h * g.in_w <= std::numeric_limits<int32_t>::max(),
           "max_pool2d: input " << shape_str(x.shape()) << " has planes of 2^31 elements or more");
  // Saved for the backward: where each window's maximum came from (one index per output),
  // uninitialised (the forward writes every one) and from the block cache like the activations.
  std::shared_ptr<int32_t[]> argmax = graph ? make_cached_array<int32_t>(out.numel()) : nullptr;
  max_pool2d_forward(g, x.data(), out.data(), argmax.get());
  if (!graph) return out;
  record_node("max_pool2d", {x}, {out}, [x, g, argmax](const std::vector<Tensor>& grads) {
    bool add = false;
    real* dx = grad_buffer_for_write(x, &add).data();
    max_pool2d_backward(g, grads[0].data(), argmax.get(), dx, add);
  });
  return out;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& opt) {
  ProfileScope prof("avg_pool2d");
  const PoolGeometry g = pool_geometry("avg_pool2d", x, opt);
  Tensor out = Tensor::empty({x.size(0), x.size(1), g.out_h, g.out_w});
  avg_pool2d_forward(g, opt.count_include_pad, x.data(), out.data());
  if (!needs_graph({&x})) return out;
  const bool include_pad = opt.count_include_pad;
  record_node("avg_pool2d", {x}, {out}, [x, g, include_pad](const std::vector<Tensor>& grads) {
    avg_pool2d_backward(g, include_pad, grads[0].data(), grad_buffer(x).data());
  });
  return out;
}

Tensor global_avg_pool2d(const Tensor& x) {
  ProfileScope prof("global_avg_pool2d");
  ST_CHECK(x.dim() == 4, "global_avg_pool2d: input must be 4-D [N, C, H, W], got " << shape_str(x.shape()));
  ST_CHECK(x.size(2) * x.size(3) > 0, "global_avg_pool2d: input " << shape_str(x.shape()) << " has an empty plane");
  const int64_t planes = x.size(0) * x.size(1), plane_size = x.size(2) * x.size(3);
  Tensor out = Tensor::empty({x.size(0), x.size(1)});
  global_avg_pool2d_forward(planes, plane_size, x.data(), out.data());
  if (!needs_graph({&x})) return out;
  record_node("global_avg_pool2d", {x}, {out}, [x, planes, plane_size](const std::vector<Tensor>& grads) {
    global_avg_pool2d_backward(planes, plane_size, grads[0].data(), grad_buffer(x).data());
  });
  return out;
}

}  // namespace st
