#include "core/kernels/im2col.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/kernels/conv_paths.h"
#include "core/kernels/scratch.h"

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

namespace {

#if defined(__AVX512F__)
// The lanes e in [lo, hi) of a 16-lane chunk (bounds clamped to [0, 16]): the masks of the
// AVX-512 builds below, for a chunk's values that fall inside a range (the image's columns, a
// channel, a row) and for a last chunk that stores only part of its lanes.
inline __mmask16 lane_range(int64_t lo, int64_t hi) {
  lo = std::clamp<int64_t>(lo, 0, 16), hi = std::clamp<int64_t>(hi, 0, 16);
  return static_cast<__mmask16>(hi > lo ? ((1u << hi) - 1) & ~((1u << lo) - 1) : 0u);
}

// Up to this many 16-value chunks per padded row (rows up to 1024 wide).
constexpr int64_t kMaxRowChunks = 64;

// padded_image by 16-value chunks of each padded row: one zero-masked load from the image row
// (the mask keeps the chunk's values that fall on image columns, the same for every row) and one
// store, the row's last chunk storing only the row's values; rows outside the image are zeroed.
// Masked-off values are never read (AVX-512 suppresses their faults), so a chunk may start before
// the image row or run past it. The copy below spends most of its time per row, a memcpy call and
// two fills (8c33d46: 0.55-0.6 of its time).
[[maybe_unused]] bool padded_image_avx512(const PatchGeometry& g, const float* x, float* xp) {
  constexpr int64_t V = 16;
  const PaddedLayout L(g);
  const int64_t row_chunks = (L.wq + V - 1) / V;
  if (row_chunks > kMaxRowChunks) return false;
  // As in the copy: image rows [0, r1) and columns [0, c1) land inside the plane, after `top`
  // rows and `left` columns of padding.
  const int64_t r1 = std::min(g.height, L.hq - g.pad_h), c1 = std::min(g.width, L.wq - g.pad_w);
  const int64_t left = std::min(g.pad_w, L.wq);
  const bool columns_inside = c1 > 0 && left == g.pad_w;
  __mmask16 keep[kMaxRowChunks], store[kMaxRowChunks];
  for (int64_t k = 0; k < row_chunks; ++k) {
    keep[k] = columns_inside ? lane_range(left - k * V, left + c1 - k * V) : __mmask16(0);
    store[k] = lane_range(0, L.wq - k * V);
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < g.channels; ++c) {
    float* plane = xp + c * L.hq * L.wq;
    const float* xc = x + c * g.height * g.width;
    for (int64_t q = 0; q < L.hq; ++q) {
      float* row = plane + q * L.wq;
      const int64_t r = q - g.pad_h;
      if (r < 0 || r >= r1 || !columns_inside) {
        for (int64_t k = 0; k < row_chunks; ++k) _mm512_mask_storeu_ps(row + k * V, store[k], zero);
        continue;
      }
      // Padded column col holds image column col - left.
      const float* src = xc + (r * g.width - left);
      for (int64_t k = 0; k < row_chunks; ++k)
        _mm512_mask_storeu_ps(row + k * V, store[k], _mm512_maskz_loadu_ps(keep[k], src + k * V));
    }
  }
  return true;
}
// A double build (ST_REAL=double) keeps the copy below.
[[maybe_unused]] bool padded_image_avx512(const PatchGeometry&, const double*, double*) { return false; }
#endif

}  // namespace

void padded_image(const PatchGeometry& g, const real* x, real* xp) {
#if defined(__AVX512F__)
  if (padded_image_avx512(g, x, xp)) return;
#endif
  const PaddedLayout L(g);
  // Image rows [0, r1) and columns [0, c1) land inside the plane (the rest lies past the windows),
  // after `top` rows and `left` columns of padding, each clipped to the plane.
  const int64_t r1 = std::min(g.height, L.hq - g.pad_h), c1 = std::min(g.width, L.wq - g.pad_w);
  const int64_t top = std::min(g.pad_h, L.hq), left = std::min(g.pad_w, L.wq);
  const bool columns_inside = c1 > 0 && left == g.pad_w;
  for (int64_t c = 0; c < g.channels; ++c) {
    real* plane = xp + c * L.hq * L.wq;
    const real* xc = x + c * g.height * g.width;
    std::fill(plane, plane + top * L.wq, real(0));
    for (int64_t q = top; q < L.hq; ++q) {
      real* row = plane + q * L.wq;
      const int64_t r = q - g.pad_h;
      if (r >= r1 || !columns_inside) {
        std::fill(row, row + L.wq, real(0));
        continue;
      }
      std::fill(row, row + left, real(0));
      std::memcpy(row + left, xc + r * g.width, sizeof(real) * c1);
      std::fill(row + left + c1, row + L.wq, real(0));
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

// The calling thread's scratch for the kernels below.
real* shifted_scratch(int64_t n) { return thread_scratch(Scratch::kShiftedImageRow, n); }

// Calls f(c, h, ph, hq) for every S row group: padded row hq*s_h + ph of channel c, whose image row
// is h (outside [0, height) in the padding).
template <class F>
void for_each_padded_row(const PatchGeometry& g, const ShiftedLayout& L, F&& f) {
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t hq = 0; hq < L.rows; ++hq)
      for (int64_t ph = 0; ph < L.phases; ++ph) f(c, hq * g.stride_h + ph - g.pad_h, ph, hq);
}

// ---- Two ways to read S rows without bounds checks, by padded row or by padded channel
// (which: shifted_build, conv_paths.h). Every S row is the fixed-length run
// pad[hq*s_h + ph][j + ow*s_w], ow < out_w, of the padded image pad[hp][wp] = x[c][hp - p_h][wp -
// p_w] (0 outside the image): no partial runs. The stride is a template argument for the common
// strides 1 and 2 so that the runs vectorise.
//
// By row: one padded row at a time goes into a small buffer, and its kernel columns j are read
// back from there. By channel: the whole padded channel is written first and its S rows read
// afterwards.

#if defined(__AVX512F__)
// S at column stride 2 straight from the image, 16 values of an S row at a time: S row (c, ph,
// hq) of kernel column j at ow0 .. ow0+15 holds image row h's columns 2*ow0 + j - p_w + 2e, the
// even values of the 32 from that column on: two zero-masked loads (the mask keeps the image's
// columns; masked-off values are never read, AVX-512 suppresses their faults) and one permute.
// Rows in the padding are zeroed, the last chunk of a row stores only the row's values. No padded
// buffer, no per-row loop over columns (825d2ad: about half the time of the builds below;
// st_bench_conv --breakdown --case s2_16_32).
[[maybe_unused]] bool shifted_image_stride2_avx512(const PatchGeometry& g, const float* x, float* s) {
  constexpr int64_t V = 16, kMaxMasks = 256;
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, kw = g.kernel_w, chunks = (Wo + V - 1) / V;
  if (kw * chunks > kMaxMasks) return false;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 zero = _mm512_setzero_ps();
  // The loads' masks for kernel column j and chunk q (the image's columns, the same for every
  // row), and the stores' for chunk q (the row's values).
  __mmask16 mask_a[kMaxMasks], mask_b[kMaxMasks], store[kMaxMasks];
  for (int64_t q = 0; q < chunks; ++q) store[q] = lane_range(0, Wo - q * V);
  for (int64_t j = 0; j < kw; ++j)
    for (int64_t q = 0; q < chunks; ++q) {
      const int64_t col0 = 2 * q * V + j - g.pad_w;
      mask_a[j * chunks + q] = lane_range(-col0, W - col0);
      mask_b[j * chunks + q] = lane_range(-col0 - V, W - col0 - V);
    }
  // S row (c, ph, hq) of kernel column j starts at ((j * C + c) * phases + ph) * rows + hq rows of
  // Wo into s (ShiftedLayout::offset with i = ph < stride_h).
  const int64_t j_step = g.channels * L.phases * L.rows * Wo;
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t ph = 0; ph < L.phases; ++ph)
      for (int64_t hq = 0; hq < L.rows; ++hq) {
        const int64_t h = hq * g.stride_h + ph - g.pad_h;
        float* d = s + ((c * L.phases + ph) * L.rows + hq) * Wo;
        if (h < 0 || h >= g.height) {
          for (int64_t j = 0; j < kw; ++j)
            for (int64_t q = 0; q < chunks; ++q)
              _mm512_mask_storeu_ps(d + j * j_step + q * V, store[q], zero);
          continue;
        }
        const float* row = x + (c * g.height + h) * W;
        for (int64_t j = 0; j < kw; ++j)
          for (int64_t q = 0; q < chunks; ++q) {
            const int64_t col0 = 2 * q * V + j - g.pad_w;
            const __m512 a = _mm512_maskz_loadu_ps(mask_a[j * chunks + q], row + col0);
            const __m512 b = _mm512_maskz_loadu_ps(mask_b[j * chunks + q], row + col0 + V);
            _mm512_mask_storeu_ps(d + j * j_step + q * V, store[q], _mm512_permutex2var_ps(a, even, b));
          }
      }
  return true;
}
// A double build (ST_REAL=double) keeps the kernels above.
[[maybe_unused]] bool shifted_image_stride2_avx512(const PatchGeometry&, const double*, double*) { return false; }
#endif

// The padded row buffer of the by-row kernels.
int64_t padded_row_length(const PatchGeometry& g) {
  return std::max(g.width + 2 * g.pad_w + g.kernel_w, g.stride_w * (g.out_w + g.kernel_w));
}

// The padded channel: Hp rows of Wp values.
struct PaddedChannel {
  int64_t rows = 0, width = 0;
  PaddedChannel(const PatchGeometry& g, const ShiftedLayout& L)
      : rows((L.rows - 1) * g.stride_h + L.phases),
        width(std::max(g.width + 2 * g.pad_w, g.stride_w * (g.out_w - 1) + g.kernel_w)) {}
  int64_t size() const { return rows * width; }
  // The image rows h whose padded row h + p_h is one of the channel's: [h_lo, h_hi).
  void image_rows(const PatchGeometry& g, int64_t& h_lo, int64_t& h_hi) const {
    h_lo = std::max<int64_t>(0, -g.pad_h);
    h_hi = std::max(h_lo, std::min(g.height, rows - g.pad_h));
  }
};

template <int64_t SW>
void shifted_image_by_row(const PatchGeometry& g, const real* x, real* s) {
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, pw = g.pad_w, sw = SW ? SW : g.stride_w;
  const int64_t length = padded_row_length(g);
  real* buf = shifted_scratch(length);
  std::fill(buf, buf + length, real(0));
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
void shifted_image_by_channel(const PatchGeometry& g, const real* x, real* s) {
  const ShiftedLayout L(g);
  const PaddedChannel pad(g, L);
  const int64_t Wo = g.out_w, W = g.width, Wp = pad.width, sw = SW ? SW : g.stride_w;
  int64_t h_lo, h_hi;
  pad.image_rows(g, h_lo, h_hi);
  // Without padding, the padded channel is the image's channel itself when that holds every row
  // and column the windows read (a Strassen layer's W_c with p = 2, kernel = stride): it is read
  // in place. Otherwise the padding is the same for every channel: the buffer is zeroed once and
  // only the image's part of it is overwritten per channel.
  const bool in_place = g.pad_h == 0 && g.pad_w == 0 && Wp == W && pad.rows <= g.height;
  real* pc = in_place ? nullptr : shifted_scratch(pad.size());
  if (!in_place) std::fill(pc, pc + pad.size(), real(0));
  const int64_t w_hi = std::min(W, Wp - g.pad_w);  // the image columns inside the buffer
  for (int64_t c = 0; c < g.channels; ++c) {
    const real* xc = x + c * g.height * W;
    if (!in_place)
      for (int64_t h = h_lo; h < h_hi; ++h) std::copy_n(xc + h * W, w_hi, pc + (h + g.pad_h) * Wp + g.pad_w);
    const real* channel = in_place ? xc : pc;
    for (int64_t ph = 0; ph < L.phases; ++ph)
      for (int64_t hq = 0; hq < L.rows; ++hq) {
        const real* row = channel + (hq * g.stride_h + ph) * Wp;
        int64_t j = 0;
        // At stride 2, kernel columns j and j + 1 are the even and odd values of one run: split
        // in one pass, which vectorises as loads and permutes, where one column at a time
        // reads every value twice (fd095a8; the by-row kernel gained nothing from it).
        for (; SW == 2 && j + 2 <= g.kernel_w; j += 2) {
          real* d0 = s + L.offset(c, ph, j) + hq * Wo;
          real* d1 = s + L.offset(c, ph, j + 1) + hq * Wo;
          const real* src = row + j;
#pragma omp simd
          for (int64_t ow = 0; ow < Wo; ++ow) {
            d0[ow] = src[2 * ow];
            d1[ow] = src[2 * ow + 1];
          }
        }
        for (; j < g.kernel_w; ++j) {
          const real* src = row + j;
          real* d = s + L.offset(c, ph, j) + hq * Wo;
#pragma omp simd
          for (int64_t ow = 0; ow < Wo; ++ow) d[ow] = src[ow * sw];
        }
      }
  }
}

// "Same" padding at stride 1 (2*p_w = kW - 1, the 3×3 pad-1 case): an S row is as wide as an image
// row, so the plane of S for (j, c) is the whole channel as one flat run shifted by
// j - p_w - p_h*W, with the top and bottom padding rows zero and the |j - p_w| columns that
// wrapped around from the neighbouring row zero. Two ways to zero those columns: a copy of the
// plane, then a store per row; or one masked copy (a select against a mask of the kept columns,
// built once per call), which same_copy_masked (conv_paths.h) picks.
#if defined(__AVX512F__)
// Up to this many 16-value chunks in the repeating pattern of kept columns (lcm(W, 16) / 16 <= W,
// so every width up to 256).
constexpr int64_t kMaxMaskPeriod = 256;

// The same S, by 16-value chunks of each plane: one zero-masked load from the image and one store
// per chunk. The mask keeps the values whose column is inside the image for kernel column j (a
// pattern of bits that repeats every lcm(W, 16) values, built once per j) and whose source lies in
// the channel (t in [t_lo, t_hi)). Masked-off values are never read (AVX-512 suppresses their
// faults), so a chunk may start before the channel or run past it. The last chunk of a plane
// stores only the plane's values. The copy below spends most of its time per plane and row: a
// memcpy call per plane, the wrapped columns zeroed one by one, a float mask per value for rows
// of 8 (09c3e3b: 0.45-0.75 of its time; st_bench_conv --breakdown --case s1_32).
[[maybe_unused]] bool shifted_image_same_avx512(const PatchGeometry& g, const float* x, float* s) {
  constexpr int64_t V = 16;
  const ShiftedLayout L(g);
  const int64_t W = g.width, plane = L.rows * W, image = g.height * W;
  const int64_t period = std::lcm(W, V) / V, chunks = (plane + V - 1) / V;
  if (period > kMaxMaskPeriod) return false;
  const __mmask16 last = lane_range(0, plane - (chunks - 1) * V);  // the last chunk's values
  uint16_t keep[kMaxMaskPeriod];
  for (int64_t j = 0; j < g.kernel_w; ++j) {
    const int64_t lo = std::max<int64_t>(0, g.pad_w - j), hi = W - std::max<int64_t>(0, j - g.pad_w);
    for (int64_t q = 0; q < period; ++q) {
      unsigned bits = 0;
      for (int64_t e = 0; e < V; ++e) {
        const int64_t w = (q * V + e) % W;
        if (w >= lo && w < hi) bits |= 1u << e;
      }
      keep[q] = static_cast<uint16_t>(bits);
    }
    const int64_t shift = j - g.pad_w - g.pad_h * W;
    const int64_t t_lo = std::min(plane, std::max<int64_t>(0, -shift));
    const int64_t t_hi = std::max(t_lo, std::min(plane, image - shift));
    // Chunks [q_in, q_out) lie wholly inside [t_lo, t_hi): their mask is keep's alone.
    const int64_t q_in = std::min(chunks, (t_lo + V - 1) / V), q_out = std::max(q_in, std::min(chunks, t_hi / V));
    for (int64_t c = 0; c < g.channels; ++c) {
      float* dst = s + L.offset(c, 0, j);
      // The image value for plane position t is at x + c * image + shift + t (when kept).
      const float* src = x + (c * image + shift);
      const auto edge_chunk = [&](int64_t q) {
        const int64_t t0 = q * V;
        const __mmask16 in_channel = lane_range(t_lo - t0, t_hi - t0);
        const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>(keep[q % period] & in_channel), src + t0);
        _mm512_mask_storeu_ps(dst + t0, q + 1 < chunks ? static_cast<__mmask16>(0xFFFF) : last, v);
      };
      for (int64_t q = 0; q < q_in; ++q) edge_chunk(q);
      for (int64_t q = q_in, qp = q_in % period; q < q_out; ++q, qp = qp + 1 == period ? 0 : qp + 1)
        _mm512_storeu_ps(dst + q * V, _mm512_maskz_loadu_ps(static_cast<__mmask16>(keep[qp]), src + q * V));
      for (int64_t q = q_out; q < chunks; ++q) edge_chunk(q);
    }
  }
  return true;
}
// A double build (ST_REAL=double) keeps the copy below.
[[maybe_unused]] bool shifted_image_same_avx512(const PatchGeometry&, const double*, double*) { return false; }
#endif

void shifted_image_same(const PatchGeometry& g, const real* x, real* s) {
#if defined(__AVX512F__)
  if (shifted_image_same_avx512(g, x, s)) return;
#endif
  const ShiftedLayout L(g);
  const int64_t W = g.width, plane = L.rows * W, image = g.height * W;
  const bool masked = conv_detail::same_copy_masked(W);
  // keep[j][t] = 1 where plane position t of kernel column j reads the image, not the row beside
  // it (its column t mod W is in [max(0, p_w - j), W - max(0, j - p_w))), else 0.
  real* keep = masked ? shifted_scratch(g.kernel_w * plane) : nullptr;
  for (int64_t j = 0; masked && j < g.kernel_w; ++j) {
    const int64_t lo = std::max<int64_t>(0, g.pad_w - j), hi = W - std::max<int64_t>(0, j - g.pad_w);
    for (int64_t hq = 0; hq < L.rows; ++hq)
      for (int64_t w = 0; w < W; ++w) keep[j * plane + hq * W + w] = w >= lo && w < hi ? real(1) : real(0);
  }
  for (int64_t j = 0; j < g.kernel_w; ++j) {
    const int64_t shift = j - g.pad_w - g.pad_h * W;
    const int64_t t_lo = std::min(plane, std::max<int64_t>(0, -shift));
    const int64_t t_hi = std::max(t_lo, std::min(plane, image - shift));
    const int64_t left = std::max<int64_t>(0, g.pad_w - j), right = std::max<int64_t>(0, j - g.pad_w);
    for (int64_t c = 0; c < g.channels; ++c) {
      real* dst = s + L.offset(c, 0, j);
      const real* src = x + c * image + shift;
      std::fill(dst, dst + t_lo, real(0));
      if (masked) {
        const real* kj = keep + j * plane;
#pragma omp simd
        for (int64_t t = t_lo; t < t_hi; ++t) dst[t] = kj[t] != 0 ? src[t] : real(0);
      } else {
        std::memcpy(dst + t_lo, src + t_lo, sizeof(real) * (t_hi - t_lo));
        for (int64_t hq = 0; hq < L.rows; ++hq) {
          real* row = dst + hq * W;
          for (int64_t ow = 0; ow < left; ++ow) row[ow] = 0;
          for (int64_t ow = W - right; ow < W; ++ow) row[ow] = 0;
        }
      }
      std::fill(dst + t_hi, dst + plane, real(0));
    }
  }
}

// ---- The adjoint, by row or by channel as above (which: shifted_add_path, conv_paths.h). By
// row, a strided add does not vectorise, so the runs are first added into one contiguous buffer
// per column phase (phase[j % sw][ow + j / sw] collects padded column ow*sw + j), interleaved
// into the padded row once (e355829).

// Reached only for strides above 1 with rows of 16 and more (shifted_add_path), so always
// through the column phases.
template <int64_t SW>
void shifted_image_add_by_row(const PatchGeometry& g, const real* s, real* x) {
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, pw = g.pad_w, sw = SW ? SW : g.stride_w;
  // The interleave below writes the padded row's first sw * phase_len values, which cover every
  // column read back (pw + W <= sw * (Wo + kW)); the rest of the buffer stays zero.
  std::vector<real> row(padded_row_length(g), real(0));
  real* buf = row.data();
  const int64_t phase_len = Wo + g.kernel_w;
  std::vector<real> phases(sw * phase_len);
  for_each_padded_row(g, L, [&](int64_t c, int64_t h, int64_t ph, int64_t hq) {
    if (h < 0 || h >= g.height) return;
    std::fill(phases.begin(), phases.end(), real(0));
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const real* src = s + L.offset(c, ph, j) + hq * Wo;
      real* dst = phases.data() + (j % sw) * phase_len + j / sw;
      for (int64_t ow = 0; ow < Wo; ++ow) dst[ow] += src[ow];
    }
    for (int64_t t = 0; t < phase_len; ++t)
      for (int64_t q = 0; q < sw; ++q) buf[t * sw + q] = phases[q * phase_len + t];
    real* xr = x + (c * g.height + h) * W;
    for (int64_t w = 0; w < W; ++w) xr[w] += buf[pw + w];
  });
}

template <int64_t SW>
void shifted_image_add_by_channel(const PatchGeometry& g, const real* s, real* x) {
  const ShiftedLayout L(g);
  const PaddedChannel pad(g, L);
  const int64_t Wo = g.out_w, W = g.width, sw = SW ? SW : g.stride_w;
  int64_t h_lo, h_hi;
  pad.image_rows(g, h_lo, h_hi);
  const int64_t w_hi = std::min(W, pad.width - g.pad_w);
  // The padded channel as sw column phases, phase q holding padded columns q, q + sw, q + 2*sw, ...
  // as rows of Wq values: the run of S row (j, ph, hq) is added contiguously into phase j mod sw
  // at column j / sw, and the phases are interleaved into x once per channel.
  const int64_t Wq = (pad.width + sw - 1) / sw, phase_size = pad.rows * Wq;
  real* pq = shifted_scratch(sw * phase_size);
  for (int64_t c = 0; c < g.channels; ++c) {
    std::fill(pq, pq + sw * phase_size, real(0));
    for (int64_t j = 0; j < g.kernel_w; ++j)
      for (int64_t ph = 0; ph < L.phases; ++ph) {
        const real* src = s + L.offset(c, ph, j);
        real* phase = pq + (j % sw) * phase_size + j / sw;
        for (int64_t hq = 0; hq < L.rows; ++hq) {
          real* d = phase + (hq * g.stride_h + ph) * Wq;
          const real* r = src + hq * Wo;
#pragma omp simd
          for (int64_t ow = 0; ow < Wo; ++ow) d[ow] += r[ow];
        }
      }
    real* xc = x + c * g.height * W;
    for (int64_t h = h_lo; h < h_hi; ++h) {
      const real* r = pq + (h + g.pad_h) * Wq;
      real* xr = xc + h * W;
      // x column w is padded column w + p_w: phase (w + p_w) mod sw, index (w + p_w) / sw.
#pragma omp simd
      for (int64_t w = 0; w < w_hi; ++w) xr[w] += r[((w + g.pad_w) % sw) * phase_size + (w + g.pad_w) / sw];
    }
  }
}

// kernel_w == 1: one S row per image row, sampled from (or added into) the image directly.
void shifted_image_column(const PatchGeometry& g, const real* x, real* s) {
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, pw = g.pad_w, sw = g.stride_w;
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
}

void shifted_image_add_column(const PatchGeometry& g, const real* s, real* x) {
  const ShiftedLayout L(g);
  const int64_t Wo = g.out_w, W = g.width, pw = g.pad_w, sw = g.stride_w;
  int64_t lo, hi;
  valid_range(W, Wo, sw, pw, 0, lo, hi);
  for_each_padded_row(g, L, [&](int64_t c, int64_t h, int64_t ph, int64_t hq) {
    if (h < 0 || h >= g.height || lo >= hi) return;
    const real* src = s + L.offset(c, ph, 0) + hq * Wo + lo;
    real* dst = x + (c * g.height + h) * W + lo * sw - pw;
    for (int64_t t = 0; t < hi - lo; ++t) dst[t * sw] += src[t];
  });
}

}  // namespace

void shifted_image(const PatchGeometry& g, const real* x, real* s) {
  using conv_detail::ShiftedBuild;
  const ShiftedBuild build = conv_detail::shifted_build(g);
  if (build == ShiftedBuild::kColumn) return shifted_image_column(g, x, s);
  if (build == ShiftedBuild::kSame) return shifted_image_same(g, x, s);
#if defined(__AVX512F__)
  if (g.stride_w == 2 && shifted_image_stride2_avx512(g, x, s)) return;
#endif
  const bool by_channel = build == ShiftedBuild::kByChannel;  // only at strides above 1
  if (g.stride_w == 1) return shifted_image_by_row<1>(g, x, s);
  if (g.stride_w == 2) return by_channel ? shifted_image_by_channel<2>(g, x, s) : shifted_image_by_row<2>(g, x, s);
  return by_channel ? shifted_image_by_channel<0>(g, x, s) : shifted_image_by_row<0>(g, x, s);
}

void shifted_image_add(const PatchGeometry& g, const real* s, real* x) {
  switch (conv_detail::shifted_add_path(g)) {
    case conv_detail::ShiftedAdd::kColumn:
      return shifted_image_add_column(g, s, x);
    case conv_detail::ShiftedAdd::kByChannel:
      if (g.stride_w == 1) return shifted_image_add_by_channel<1>(g, s, x);
      if (g.stride_w == 2) return shifted_image_add_by_channel<2>(g, s, x);
      return shifted_image_add_by_channel<0>(g, s, x);
    case conv_detail::ShiftedAdd::kByRow:
      if (g.stride_w == 2) return shifted_image_add_by_row<2>(g, s, x);
      return shifted_image_add_by_row<0>(g, s, x);
  }
}

}  // namespace st
