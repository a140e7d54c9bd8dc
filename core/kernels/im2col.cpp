#include "core/kernels/im2col.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace st {

namespace {

// Floor and ceiling division for a positive divisor and a numerator of any sign (C++ '/'
// truncates toward zero, which is wrong for the negative offsets near the left padding).
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// The output positions o in [0, out) whose input coordinate o*stride - pad + k lies in [0, in):
// [lo, hi), possibly empty (lo == hi). Computing the range once per kernel row lets the inner
// loops run branch-free (a plain copy for stride 1).
inline void valid_range(int64_t in, int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t& lo, int64_t& hi) {
  lo = std::max<int64_t>(0, ceil_div(pad - k, stride));
  hi = std::min<int64_t>(out, floor_div(in - 1 + pad - k, stride) + 1);
  lo = std::min(lo, out);
  if (hi < lo) hi = lo;
}

}  // namespace

void im2col(const PatchGeometry& g, const real* x, real* col, int64_t ld) {
  const int64_t H = g.height, W = g.width, Ho = g.out_h, Wo = g.out_w;
  if (ld == 0) ld = Ho * Wo;
  for (int64_t c = 0; c < g.channels; ++c) {
    const real* xc = x + c * H * W;
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      int64_t oh_lo, oh_hi;
      valid_range(H, Ho, g.stride_h, g.pad_h, i, oh_lo, oh_hi);
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        int64_t ow_lo, ow_hi;
        valid_range(W, Wo, g.stride_w, g.pad_w, j, ow_lo, ow_hi);
        real* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        // Rows of the output that read only padding.
        std::fill(row, row + oh_lo * Wo, real(0));
        std::fill(row + oh_hi * Wo, row + Ho * Wo, real(0));
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          const real* src = xc + (oh * g.stride_h - g.pad_h + i) * W + (ow_lo * g.stride_w - g.pad_w + j);
          real* dst = row + oh * Wo;
          std::fill(dst, dst + ow_lo, real(0));
          if (g.stride_w == 1) {
            std::memcpy(dst + ow_lo, src, sizeof(real) * (ow_hi - ow_lo));
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] = src[(ow - ow_lo) * g.stride_w];
          }
          std::fill(dst + ow_hi, dst + Wo, real(0));
        }
      }
    }
  }
}

void col2im(const PatchGeometry& g, const real* col, real* x, int64_t ld) {
  const int64_t H = g.height, W = g.width, Ho = g.out_h, Wo = g.out_w;
  if (ld == 0) ld = Ho * Wo;
  for (int64_t c = 0; c < g.channels; ++c) {
    real* xc = x + c * H * W;
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      int64_t oh_lo, oh_hi;
      valid_range(H, Ho, g.stride_h, g.pad_h, i, oh_lo, oh_hi);
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        int64_t ow_lo, ow_hi;
        valid_range(W, Wo, g.stride_w, g.pad_w, j, ow_lo, ow_hi);
        const real* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          real* dst = xc + (oh * g.stride_h - g.pad_h + i) * W + (ow_lo * g.stride_w - g.pad_w + j);
          const real* src = row + oh * Wo;
          if (g.stride_w == 1) {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow - ow_lo] += src[ow];
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[(ow - ow_lo) * g.stride_w] += src[ow];
          }
        }
      }
    }
  }
}

ShiftedLayout::ShiftedLayout(const PatchGeometry& g)
    : phases(std::min(g.stride_h, g.kernel_h)),
      rows(g.out_h + (g.kernel_h - 1) / g.stride_h),
      channels(g.channels),
      out_w(g.out_w),
      stride_h(g.stride_h) {}

namespace {

// Both shifted-image kernels walk the padded rows hp of each channel once: the padded row (the
// image row h = hp - p_h between p_w zeros on either side, or all zeros in the padding) goes into
// a small buffer, and each kernel column j takes its S row from there as the fixed-length run
// buf[ow*s_w + j], ow < out_w: no bounds checks, no partial runs. The stride is a template
// argument for the common strides 1 and 2 so that those runs vectorise.
struct PaddedRow {
  std::vector<real> buf;
  explicit PaddedRow(const PatchGeometry& g)
      : buf(std::max(g.width + 2 * g.pad_w + g.kernel_w, g.stride_w * (g.out_w + g.kernel_w)), real(0)) {}
};

// Calls f(c, h, ph, hq) for every S row group: padded row hq*s_h + ph of channel c, whose image row
// is h (outside [0, height) in the padding).
template <class F>
void for_each_padded_row(const PatchGeometry& g, const ShiftedLayout& L, F&& f) {
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t hq = 0; hq < L.rows; ++hq)
      for (int64_t ph = 0; ph < L.phases; ++ph) f(c, hq * g.stride_h + ph - g.pad_h, ph, hq);
}

template <int64_t SW>
void shifted_image_impl(const PatchGeometry& g, const real* x, real* s) {
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, pw = g.pad_w, sw = SW ? SW : g.stride_w;
  if (g.kernel_w == 1) {
    // One S row per image row: sample it directly (the buffer would only add a copy).
    int64_t lo, hi;
    valid_range(W, Wo, sw, pw, 0, lo, hi);
    for_each_padded_row(g, L, [&](int64_t c, int64_t h, int64_t ph, int64_t hq) {
      real* dst = s + L.offset(c, ph, 0) + hq * Wo;
      const bool inside = h >= 0 && h < g.height;
      const int64_t a = inside ? lo : Wo, z = inside ? hi : Wo;
      for (int64_t ow = 0; ow < a; ++ow) dst[ow] = 0;
      if (a < z) {
        const real* src = x + (c * g.height + h) * W + a * sw - pw;  // the sample of column a
        for (int64_t t = 0; t < z - a; ++t) dst[a + t] = src[t * sw];
      }
      for (int64_t ow = z; ow < Wo; ++ow) dst[ow] = 0;
    });
    return;
  }
  PaddedRow row(g);
  real* buf = row.buf.data();
  for_each_padded_row(g, L, [&](int64_t c, int64_t h, int64_t ph, int64_t hq) {
    const bool inside = h >= 0 && h < g.height;
    if (inside)
      std::memcpy(buf + pw, x + (c * g.height + h) * W, sizeof(real) * W);
    else
      std::fill(buf + pw, buf + pw + W, real(0));
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      real* dst = s + L.offset(c, ph, j) + hq * Wo;
      const real* src = buf + j;
      for (int64_t ow = 0; ow < Wo; ++ow) dst[ow] = src[ow * sw];
    }
  });
}

template <int64_t SW>
void shifted_image_add_impl(const PatchGeometry& g, const real* s, real* x) {
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, pw = g.pad_w, sw = SW ? SW : g.stride_w;
  if (g.kernel_w == 1) {
    // One S row per image row: add it straight into the image.
    int64_t lo, hi;
    valid_range(W, Wo, sw, pw, 0, lo, hi);
    for_each_padded_row(g, L, [&](int64_t c, int64_t h, int64_t ph, int64_t hq) {
      if (h < 0 || h >= g.height || lo >= hi) return;
      const real* src = s + L.offset(c, ph, 0) + hq * Wo + lo;
      real* dst = x + (c * g.height + h) * W + lo * sw - pw;
      for (int64_t t = 0; t < hi - lo; ++t) dst[t * sw] += src[t];
    });
    return;
  }
  PaddedRow row(g);
  real* buf = row.buf.data();
  // For a stride above 1, adding the runs with a stride does not vectorise. For long runs (measured:
  // it pays at 16 columns and loses at 8) they are first added into one contiguous buffer per
  // column phase (phase[j % sw][ow + j / sw] collects padded column ow*sw + j), interleaved into the
  // padded row once.
  const bool by_phase = sw > 1 && g.kernel_w > 1 && Wo >= 16;
  const int64_t phase_len = Wo + g.kernel_w;
  std::vector<real> phases(by_phase ? sw * phase_len : 0);
  for_each_padded_row(g, L, [&](int64_t c, int64_t h, int64_t ph, int64_t hq) {
    if (h < 0 || h >= g.height) return;
    std::fill(row.buf.begin(), row.buf.end(), real(0));
    if (!by_phase) {
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const real* src = s + L.offset(c, ph, j) + hq * Wo;
        real* dst = buf + j;
        for (int64_t ow = 0; ow < Wo; ++ow) dst[ow * sw] += src[ow];
      }
    } else {
      std::fill(phases.begin(), phases.end(), real(0));
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const real* src = s + L.offset(c, ph, j) + hq * Wo;
        real* dst = phases.data() + (j % sw) * phase_len + j / sw;
        for (int64_t ow = 0; ow < Wo; ++ow) dst[ow] += src[ow];
      }
      for (int64_t t = 0; t < phase_len; ++t)
        for (int64_t q = 0; q < sw; ++q) buf[t * sw + q] = phases[q * phase_len + t];
    }
    real* xr = x + (c * g.height + h) * W;
    for (int64_t w = 0; w < W; ++w) xr[w] += buf[pw + w];
  });
}

}  // namespace

void shifted_image(const PatchGeometry& g, const real* x, real* s) {
  if (g.stride_h == 1 && g.stride_w == 1 && g.out_w == g.width) {
    // "Same" padding at stride 1 (2*p_w = kW - 1, the 3×3 pad-1 case): an S row is as wide as an
    // image row, so the plane of S for (j, c) is the whole channel as one flat run shifted by
    // j - p_w - p_h*W, with the top and bottom padding rows zero and the |j - p_w| columns that
    // wrapped around from the neighbouring row zeroed afterwards. One copy per plane instead of a
    // copy per row: the rows of small images are only a few packets long.
    const ShiftedLayout L(g);
    const int64_t W = g.width, plane = L.rows * W, image = g.height * W;
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t shift = j - g.pad_w - g.pad_h * W;
      const int64_t t_lo = std::min(plane, std::max<int64_t>(0, -shift));
      const int64_t t_hi = std::max(t_lo, std::min(plane, image - shift));
      for (int64_t c = 0; c < g.channels; ++c) {
        real* dst = s + L.offset(c, 0, j);
        std::fill(dst, dst + t_lo, real(0));
        std::memcpy(dst + t_lo, x + c * image + t_lo + shift, sizeof(real) * (t_hi - t_lo));
        std::fill(dst + t_hi, dst + plane, real(0));
        const int64_t left = std::max<int64_t>(0, g.pad_w - j), right = std::max<int64_t>(0, j - g.pad_w);
        for (int64_t hq = 0; hq < L.rows; ++hq) {
          real* row = dst + hq * W;
          for (int64_t ow = 0; ow < left; ++ow) row[ow] = 0;
          for (int64_t ow = W - right; ow < W; ++ow) row[ow] = 0;
        }
      }
    }
    return;
  }
  if (g.stride_w == 1)
    shifted_image_impl<1>(g, x, s);
  else if (g.stride_w == 2)
    shifted_image_impl<2>(g, x, s);
  else
    shifted_image_impl<0>(g, x, s);
}

void shifted_image_add(const PatchGeometry& g, const real* s, real* x) {
  if (g.stride_w == 1)
    shifted_image_add_impl<1>(g, s, x);
  else if (g.stride_w == 2)
    shifted_image_add_impl<2>(g, s, x);
  else
    shifted_image_add_impl<0>(g, s, x);
}

}  // namespace st
