#include "core/kernels/broadcast.h"

namespace st {

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  const size_t off = out.size() - in.size();
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> cs = contiguous_strides(in);
  for (size_t i = 0; i < in.size(); ++i) s[off + i] = in[i] == 1 ? 0 : cs[i];
  return s;
}

BroadcastPlan make_broadcast_plan(const Shape& out, const Shape& a, const Shape& b) {
  std::vector<int64_t> full[3] = {contiguous_strides(out), broadcast_strides(a, out), broadcast_strides(b, out)};
  BroadcastPlan p;
  // Drop extent-1 axes, then merge axis d into the previous kept axis when every operand steps
  // through them as one contiguous range.
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    if (!p.shape.empty()) {
      bool mergeable = true;
      for (int k = 0; k < 3; ++k) mergeable &= p.stride[k].back() == full[k][d] * out[d];
      if (mergeable) {
        p.shape.back() *= out[d];
        for (int k = 0; k < 3; ++k) p.stride[k].back() = full[k][d];
        continue;
      }
    }
    p.shape.push_back(out[d]);
    for (int k = 0; k < 3; ++k) p.stride[k].push_back(full[k][d]);
  }
  if (p.shape.empty()) {
    p.shape.push_back(1);
    for (int k = 0; k < 3; ++k) p.stride[k].push_back(0);
  }
  return p;
}

}  // namespace st
