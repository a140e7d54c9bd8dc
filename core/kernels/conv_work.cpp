#include "core/kernels/conv_work.h"

#include <algorithm>

namespace st::conv_detail {

void shifted_image_with_slack(const PatchGeometry& patch, const real* x, real* s) {
  shifted_image(patch, x, s);
  const int64_t used = ShiftedLayout(patch).size(patch.kernel_w);
  std::fill(s + used, s + used + kPanel, real(0));
}

real* shifted_scratch(int64_t s_size) {
  real* s = thread_scratch(Scratch::kConvImage, s_size + kPanel);
  std::fill(s + s_size, s + s_size + kPanel, real(0));
  return s;
}

void copy_residual_part(const real* residual, real* y, int64_t n, int64_t channels, int64_t P, int64_t q0,
                        int64_t q1) {
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t at = (n * channels + c) * P;
    std::copy(residual + at + q0, residual + at + q1, y + at + q0);
  }
}

}  // namespace st::conv_detail
