#pragma once
// Strided iteration for broadcasting binary ops.
//
// A BroadcastPlan describes an output of `shape` and up to two inputs by their element strides
// over that shape (stride 0 on broadcast axes). Adjacent axes that are contiguous for every
// operand are merged, so [N,C,H,W] + [1,C,1,1] iterates as [N, C, H*W] with an inner run of H*W.
#include <cstdint>
#include <vector>

#include "core/kernels/parallel.h"
#include "core/shape.h"

namespace st {

struct BroadcastPlan {
  std::vector<int64_t> shape;       // merged extents; never empty (a scalar is [1])
  std::vector<int64_t> stride[3];   // out, a, b
};

// Strides of `in` (aligned to the trailing axes of `out`) over shape `out`: 0 where `in` is 1.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Plan for out = f(a, b): all three shapes given; a and b must broadcast to out.
BroadcastPlan make_broadcast_plan(const Shape& out, const Shape& a, const Shape& b);

// Calls f(o, a, b, n, so, sa, sb) for every inner run: element j of the run is at out[o + j*so],
// a[a + j*sa], b[b + j*sb]. Runs are distributed over threads only when `parallel` is true
// (set it to false when f accumulates into a broadcast operand).
template <class F>
void broadcast_for_each(const BroadcastPlan& p, bool parallel, F&& f) {
  const int64_t nd = static_cast<int64_t>(p.shape.size());
  const int64_t inner = p.shape[nd - 1];
  int64_t outer = 1;
  for (int64_t d = 0; d + 1 < nd; ++d) outer *= p.shape[d];
  const int64_t so = p.stride[0][nd - 1], sa = p.stride[1][nd - 1], sb = p.stride[2][nd - 1];
  auto body = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t rem = i, o = 0, a = 0, b = 0;
      for (int64_t d = nd - 2; d >= 0; --d) {
        const int64_t idx = rem % p.shape[d];
        rem /= p.shape[d];
        o += idx * p.stride[0][d], a += idx * p.stride[1][d], b += idx * p.stride[2][d];
      }
      f(o, a, b, inner, so, sa, sb);
    }
  };
  if (parallel)
    parallel_for(outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)), body);
  else
    body(0, outer);
}

}  // namespace st
