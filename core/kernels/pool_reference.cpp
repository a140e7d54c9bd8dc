#include <cmath>
#include <limits>

#include "core/kernels/pool.h"

namespace st {

void max_pool2d_forward_reference(const PoolGeometry& g, const real* x, real* y, int32_t* argmax) {
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        real best = -std::numeric_limits<real>::infinity();
        int64_t best_i = -1;
        for (int64_t i = 0; i < g.kernel_h; ++i)
          for (int64_t j = 0; j < g.kernel_w; ++j) {
            const int64_t ih = oh * g.stride_h - g.pad_h + i, iw = ow * g.stride_w - g.pad_w + j;
            if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;  // padding: -inf
            const real v = x[(p * g.in_h + ih) * g.in_w + iw];
            if (best_i < 0 || v > best || std::isnan(v)) best = v, best_i = ih * g.in_w + iw;
          }
        const int64_t o = (p * g.out_h + oh) * g.out_w + ow;
        y[o] = best;
        if (argmax) argmax[o] = static_cast<int32_t>(best_i);
      }
}

}  // namespace st
