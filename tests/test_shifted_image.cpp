// The shifted image (core/kernels/im2col.h) and its adjoint against loops written straight from
// the layout's definition, S[j][c][ph][hq][ow] = x[c][hq*s_h + ph - p_h][ow*s_w - p_w + j] (0 in
// the padding), and against im2col: column-matrix row (c, i, j) is the run of S at
// ShiftedLayout::offset(c, i, j). The conv tests cover these kernels only through the
// convolutions; here every geometry the kernels branch on is checked element by element.
#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

#include "core/kernels/im2col.h"
#include "core/rng.h"

using namespace st;

namespace {

struct PatchCase {
  int64_t channels, height, width, kh, kw, sh, sw, ph, pw;
};

PatchGeometry geometry_of(const PatchCase& c) {
  PatchGeometry g;
  g.channels = c.channels, g.height = c.height, g.width = c.width;
  g.kernel_h = c.kh, g.kernel_w = c.kw, g.stride_h = c.sh, g.stride_w = c.sw, g.pad_h = c.ph, g.pad_w = c.pw;
  g.out_h = (c.height + 2 * c.ph - c.kh) / c.sh + 1;
  g.out_w = (c.width + 2 * c.pw - c.kw) / c.sw + 1;
  return g;
}

std::string describe(const PatchCase& c) {
  std::ostringstream os;
  os << "x [" << c.channels << ", " << c.height << ", " << c.width << "] kernel " << c.kh << "x" << c.kw << " stride "
     << c.sh << "x" << c.sw << " pad " << c.ph << "x" << c.pw;
  return os.str();
}

const std::vector<PatchCase> kCases = {
    {3, 8, 8, 3, 3, 1, 1, 1, 1},     // "same" 3×3: the flat masked copy (two rows per 16 values)
    {3, 16, 16, 3, 3, 1, 1, 1, 1},   // ... one row per 16 values
    {2, 5, 32, 3, 3, 1, 1, 1, 1},    // ... two chunks per row
    {2, 6, 14, 3, 3, 1, 1, 1, 1},    // ... rows across chunks (the column pattern repeats every 7 chunks)
    {2, 4, 3, 3, 3, 1, 1, 1, 1},     // ... a plane shorter than one chunk
    {2, 5, 1, 3, 3, 1, 1, 1, 1},     // ... one column wide
    {2, 6, 7, 5, 5, 1, 1, 2, 2},     // "same" 5×5
    {2, 9, 7, 3, 3, 1, 1, 0, 0},     // stride 1 without padding: the padded channel
    {2, 7, 9, 3, 3, 1, 1, 2, 2},     // stride 1, padding wider than "same"
    {3, 32, 32, 3, 3, 2, 2, 1, 1},   // ResNet-20's stage transition: rows of 16
    {3, 16, 16, 3, 3, 2, 2, 1, 1},   // ... and the second one: rows of 8
    {2, 5, 70, 3, 3, 2, 2, 1, 1},    // stride 2, rows of 35 (three chunks of 16, the last partial)
    {2, 6, 41, 5, 5, 2, 2, 2, 2},    // stride 2, 5×5, odd width
    {2, 4, 25, 5, 5, 2, 2, 2, 2},    // ... whose last window ends in the padding
    {2, 5, 40, 3, 3, 1, 2, 1, 1},    // stride 2 along W only
    {2, 7, 9, 3, 3, 2, 2, 1, 1},     // stride 2, odd sizes
    {2, 13, 11, 7, 7, 2, 2, 3, 3},   // ResNet-18's first conv, small
    {2, 17, 15, 3, 3, 3, 3, 1, 1},   // stride 3
    {2, 10, 6, 2, 4, 3, 2, 0, 1},    // even kernel, mixed strides
    {2, 9, 7, 3, 1, 2, 1, 1, 0},     // 3×1 kernel
    {2, 7, 9, 1, 3, 1, 1, 0, 1},     // 1×3 kernel ("same" along W)
    {3, 6, 7, 1, 1, 2, 2, 0, 0},     // 1×1 stride 2
    {2, 4, 4, 1, 1, 1, 1, 1, 1},     // 1×1 padded
    {2, 3, 3, 5, 5, 1, 1, 1, 1},     // kernel = padded input: 1×1 output
    {2, 9, 11, 2, 2, 2, 2, 0, 0},    // kernel = stride, a column past the last window
    {2, 8, 12, 2, 2, 2, 2, 0, 0},    // kernel = stride covering the image: read in place
    {2, 8, 8, 4, 4, 2, 2, 1, 1},     // 4×4 stride 2 (the p = 2 Strassen W_b): two column pairs
};

// Calls f(i, k) for every element S[i] of the layout: k is the index in x of the pixel it holds, or
// -1 in the padding. Straight from the definition in im2col.h.
template <class F>
void for_each_s_element(const PatchGeometry& g, F&& f) {
  const ShiftedLayout L(g);
  for (int64_t j = 0; j < g.kernel_w; ++j)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t ph = 0; ph < L.phases; ++ph)
        for (int64_t hq = 0; hq < L.rows; ++hq)
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            const int64_t h = hq * g.stride_h + ph - g.pad_h, w = ow * g.stride_w - g.pad_w + j;
            const bool inside = h >= 0 && h < g.height && w >= 0 && w < g.width;
            f(L.offset(c, ph, j) + hq * g.out_w + ow, inside ? (c * g.height + h) * g.width + w : int64_t(-1));
          }
}

// S by the definition.
std::vector<real> shifted_by_definition(const PatchGeometry& g, const std::vector<real>& x) {
  std::vector<real> s(ShiftedLayout(g).size(g.kernel_w), real(-7));  // poison: every element must be written
  for_each_s_element(g, [&](int64_t i, int64_t k) { s[i] = k >= 0 ? x[k] : real(0); });
  return s;
}

std::vector<real> random_values(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<real> v(n);
  for (real& e : v) e = static_cast<real>(gen.uniform() * 2 - 1);
  return v;
}

}  // namespace

TEST_CASE("shifted_image equals its definition and holds im2col's rows", "[conv][im2col]") {
  uint64_t seed = 40;
  for (const PatchCase& c : kCases) {
    INFO(describe(c));
    const PatchGeometry g = geometry_of(c);
    const ShiftedLayout L(g);
    const std::vector<real> x = random_values(c.channels * c.height * c.width, ++seed);
    // Poison past the end too: nothing may be written there.
    constexpr int64_t kGuard = 64;
    std::vector<real> s(L.size(g.kernel_w) + kGuard, real(-7));
    shifted_image(g, x.data(), s.data());
    CHECK(std::vector<real>(s.end() - kGuard, s.end()) == std::vector<real>(kGuard, real(-7)));
    s.resize(L.size(g.kernel_w));
    CHECK(s == shifted_by_definition(g, x));

    std::vector<real> col(g.rows() * g.cols());
    im2col(g, x.data(), col.data());
    for (int64_t ch = 0; ch < g.channels; ++ch)
      for (int64_t i = 0; i < g.kernel_h; ++i)
        for (int64_t j = 0; j < g.kernel_w; ++j) {
          const real* row = col.data() + ((ch * g.kernel_h + i) * g.kernel_w + j) * g.cols();
          const real* run = s.data() + L.offset(ch, i, j);
          CHECK(std::vector<real>(row, row + g.cols()) == std::vector<real>(run, run + g.cols()));
        }
  }
}

TEST_CASE("shifted_image_add adds every element of S at the pixel it was copied from", "[conv][im2col]") {
  uint64_t seed = 80;
  for (const PatchCase& c : kCases) {
    INFO(describe(c));
    const PatchGeometry g = geometry_of(c);
    const ShiftedLayout L(g);
    const std::vector<real> s = random_values(L.size(g.kernel_w), ++seed);
    const std::vector<real> x0 = random_values(c.channels * c.height * c.width, ++seed);
    // The reference sums in double, element by element from the definition.
    std::vector<double> expected(x0.begin(), x0.end());
    for_each_s_element(g, [&](int64_t i, int64_t k) {
      if (k >= 0) expected[k] += s[i];
    });
    std::vector<real> x = x0;
    shifted_image_add(g, s.data(), x.data());
    for (size_t k = 0; k < x.size(); ++k) {
      INFO("element " << k);
      REQUIRE(x[k] == Approx(expected[k]).margin(1e-5));
    }
  }
}

TEST_CASE("padded_image equals its definition", "[conv][im2col]") {
  uint64_t seed = 90;
  const std::vector<PatchCase> cases = {
      {2, 32, 32, 3, 3, 1, 1, 1, 1},  // ResNet-20's 32×32 layers: rows of 34, three chunks of 16
      {3, 8, 8, 3, 3, 1, 1, 1, 1},    // a row shorter than one chunk
      {2, 5, 16, 3, 3, 1, 1, 1, 1},   // rows of 18
      {2, 6, 31, 5, 5, 1, 1, 2, 2},   // rows of 35, two columns of padding
      {2, 9, 7, 3, 3, 1, 1, 0, 0},    // no padding: the plane is the image
      {2, 7, 9, 3, 3, 1, 1, 2, 2},    // padding wider than "same"
      {2, 4, 40, 1, 3, 1, 1, 0, 1},   // 1×3 kernel, padding along W only
      {2, 3, 3, 5, 5, 1, 1, 1, 1},    // kernel = padded input
  };
  for (const PatchCase& c : cases) {
    INFO(describe(c));
    const PatchGeometry g = geometry_of(c);
    const PaddedLayout L(g);
    const std::vector<real> x = random_values(c.channels * c.height * c.width, ++seed);
    constexpr int64_t kGuard = 64;  // poison past the end: nothing may be written there
    std::vector<real> xp(L.size() + kGuard, real(-7));
    padded_image(g, x.data(), xp.data());
    CHECK(std::vector<real>(xp.end() - kGuard, xp.end()) == std::vector<real>(kGuard, real(-7)));
    std::vector<real> expected(L.size());
    for (int64_t ch = 0; ch < c.channels; ++ch)
      for (int64_t q = 0; q < L.hq; ++q)
        for (int64_t col = 0; col < L.wq; ++col) {
          const int64_t h = q - c.ph, w = col - c.pw;
          const bool inside = h >= 0 && h < c.height && w >= 0 && w < c.width;
          expected[(ch * L.hq + q) * L.wq + col] = inside ? x[(ch * c.height + h) * c.width + w] : real(0);
        }
    xp.resize(L.size());
    CHECK(xp == expected);
  }
}
