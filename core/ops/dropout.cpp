#include "core/ops/dropout.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/parallel.h"
#include "core/ops/profiler.h"

namespace st {

Tensor dropout(const Tensor& x, real p, bool training, Generator& gen) {
  ProfileScope prof("dropout");
  // Checked in evaluation too, so a bad configuration fails on the first call.
  ST_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got " << p);
  if (!training || p == 0) return x;
  // mask[x.shape]: 1/(1-p) where the element survives (probability 1-p), else 0. The scale is
  // folded into the mask so that forward and backward are both one multiply.
  Tensor mask = Tensor::empty(x.shape());
  gen.fill_bernoulli(mask, 1.0 - static_cast<double>(p));
  const real scale = real(1) / (real(1) - p);
  const int64_t n = x.numel();
  const real* px = x.data();
  real* pm = mask.data();
  Tensor out = Tensor::empty(x.shape());
  real* po = out.data();
  parallel_for(n, 16384, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      pm[i] *= scale;
      po[i] = px[i] * pm[i];
    }
  });
  if (!needs_graph({&x})) return out;
  record_node("dropout", {x}, {out}, [x, mask, n](const std::vector<Tensor>& g) {
    const real* pg = g[0].data();
    const real* pm = mask.data();
    real* dx = grad_buffer(x).data();
    parallel_for(n, 16384, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) dx[i] += pg[i] * pm[i];
    });
  });
  return out;
}

}  // namespace st
