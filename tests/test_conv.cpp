// Convolution and pooling in the float build: the im2col + GEMM kernels (through the ops,
// forward and backward) against the naive direct-loop references, output-size rules, and error
// messages that name the shapes.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/conv_gemm.h"
#include "core/kernels/conv_reference.h"
#include "core/kernels/conv_winograd.h"
#include "core/kernels/pool.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace st;

namespace {

Tensor random(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return rand_uniform(shape, gen, -1, 1);
}

// Normwise relative agreement: max |a - b| <= rtol * max(1, max |b|). Sums of K products of
// uniform values grow like sqrt(K); the norm scale keeps the tolerance meaningful for them.
void check_close(const real* a, const real* b, int64_t n, double rtol = 1e-4) {
  double scale = 1, worst = 0;
  int64_t where = 0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(double(b[i])));
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (d > worst) worst = d, where = i;
  }
  INFO("worst element " << where << ": " << (n ? a[where] : 0) << " vs " << (n ? b[where] : 0) << " (scale " << scale
                        << ")");
  CHECK(worst <= rtol * scale);
}

void check_close(const Tensor& a, const std::vector<real>& b, double rtol = 1e-4) {
  REQUIRE(a.defined());
  REQUIRE(a.numel() == static_cast<int64_t>(b.size()));
  check_close(a.data(), b.data(), a.numel(), rtol);
}

struct ConvCase {
  int64_t n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, groups;
  bool bias;
};

std::string describe(const ConvCase& c) {
  std::ostringstream os;
  os << "x [" << c.n << ", " << c.c_in << ", " << c.h << ", " << c.w << "] c_out " << c.c_out << " kernel " << c.kh
     << "x" << c.kw << " stride " << c.sh << "x" << c.sw << " pad " << c.ph << "x" << c.pw << " groups " << c.groups
     << (c.bias ? " bias" : " no bias");
  return os.str();
}

const std::vector<ConvCase> kConvCases = {
    {2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, true},     // the common 3×3 same conv
    {2, 4, 7, 9, 6, 3, 3, 2, 2, 1, 1, 2, false},    // stride 2, odd sizes, groups 2
    {3, 4, 9, 7, 8, 5, 5, 1, 1, 2, 2, 4, true},     // padding 2, groups 4, batch 3
    {2, 3, 7, 9, 5, 1, 3, 1, 1, 0, 1, 1, true},     // 1×3 kernel
    {2, 3, 9, 7, 4, 3, 1, 2, 1, 1, 0, 1, false},    // 3×1 kernel, stride only along H
    {2, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 2, true},     // pointwise fast path, groups 2
    {5, 5, 6, 6, 3, 1, 1, 1, 1, 0, 0, 1, false},    // pointwise fast path, odd batch
    {1, 5, 6, 7, 3, 1, 1, 2, 2, 0, 0, 1, true},     // 1×1 stride 2: im2col path, batch 1
    {1, 3, 4, 4, 2, 1, 1, 1, 1, 1, 1, 1, true},     // 1×1 padded
    {2, 2, 3, 3, 3, 5, 5, 1, 1, 1, 1, 1, true},     // kernel = padded input: 1×1 output
    {3, 2, 10, 6, 4, 2, 4, 3, 2, 0, 1, 2, false},   // even kernel, mixed strides
    {4, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1, 1, true}, // large enough to use every thread
    {3, 128, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, false}, // stride 1, K = 1152, P = 49: the batched GEMM
    {3, 128, 8, 8, 24, 3, 3, 1, 1, 1, 1, 1, true},  // the same with P = 64: the register tiles
    {8, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, true}, // ResNet-20 stage shape, batch 8
    {8, 16, 16, 16, 32, 3, 3, 2, 2, 1, 1, 1, false},// stage transition, stride 2
    {2, 5, 11, 13, 9, 3, 3, 1, 1, 2, 2, 1, true},   // odd sizes, padding 2, partial register tiles
    {3, 8, 17, 15, 12, 3, 3, 3, 3, 1, 1, 1, false}, // stride 3
    {1, 4, 9, 9, 10, 3, 3, 1, 1, 1, 1, 1, true},    // batch 1: split by positions
    {2, 3, 17, 19, 5, 3, 3, 1, 1, 1, 1, 1, true},   // weight gradient by dots: P % 16 != 0, Co % 4 != 0
    {2, 4, 16, 17, 6, 3, 3, 1, 1, 1, 1, 2, false},  // ... with groups
    {2, 8, 9, 11, 16, 2, 2, 2, 2, 0, 0, 1, true},   // kernel = stride: windows without overlap,
    {2, 6, 10, 9, 5, 3, 3, 3, 3, 0, 0, 1, false},   // ... a row and a column past the last window,
    {2, 8, 8, 8, 8, 2, 2, 2, 2, 0, 0, 2, true},     // ... groups
    {3, 128, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, true},   // P = 49, K = 1152, stride 1: register tiles
    {2, 120, 9, 10, 36, 3, 3, 1, 1, 1, 1, 1, true}, // K = 1080, 5 blocks: panels packed, but not the
                                                    // partial panel or the partial block
    {2, 120, 13, 13, 6, 3, 3, 2, 2, 1, 1, 1, false},// ... stride 2, P = 49: one GEMM per chunk of images
    {2, 128, 16, 17, 36, 3, 3, 2, 2, 1, 1, 1, true},// ... stride 2, P = 72 (2 panels, 8 positions):
                                                    // the register tiles, panels packed in blocks
                                                    // of rows, input gradient by phases
    {2, 37, 40, 40, 12, 3, 3, 1, 1, 1, 1, 1, true}, // S of 746 KiB: forward by chunks of 16, 16 and 5
                                                    // channels, partial block
    {2, 12, 40, 40, 37, 3, 3, 1, 1, 1, 1, 1, false},// ... the input gradient (a forward conv of dy) by
                                                    // chunks
    {2, 40, 48, 48, 16, 3, 3, 2, 2, 1, 1, 1, true}, // stride 2, S of 576 KiB: chunks of 16, 16, 8
    {3, 64, 8, 8, 12, 4, 4, 2, 2, 1, 1, 1, true},   // stride 2, K = 1024, P = 16: the register tiles
    {2, 3, 32, 32, 8, 3, 3, 1, 1, 1, 1, 1, true},   // output rows of 32 (whole panels): col read from
                                                    // the padded image, in both directions
    {1, 5, 30, 32, 12, 5, 3, 1, 1, 1, 1, 1, false}, // ... batch 1 (split by panels), 5×3 kernel,
                                                    // partial block
    {2, 4, 34, 66, 8, 3, 3, 1, 1, 0, 0, 1, true},   // ... no padding, rows of two panels
    {2, 2, 6, 30, 4, 3, 3, 1, 1, 2, 2, 1, true},    // ... padding 2
    {2, 4, 8, 32, 6, 3, 3, 1, 1, 1, 1, 2, false},   // ... groups 2
    {2, 8, 13, 14, 6, 5, 5, 3, 3, 1, 1, 1, false},  // input gradient by phases at stride 3: taps
                                                    // 2, 1, 2 per axis, pads 1, 0, 0, rows of 5,
                                                    // 5 and 4 (two shifted images of dy)
    {2, 8, 11, 9, 12, 3, 3, 2, 2, 2, 2, 1, true},   // stride 2, padding 2: a phase would start
                                                    // below dy's first row, so by columns
    {2, 8, 8, 34, 8, 2, 2, 2, 2, 0, 0, 1, true},    // kernel = stride, rows of 17: kernel columns
                                                    // interleaved into runs of dx, panels across
                                                    // rows, a partial panel, a column past the last
                                                    // window
    {2, 4, 8, 64, 8, 4, 4, 4, 4, 0, 0, 1, false},   // ... 4×4 (four columns interleaved)
    {3, 16, 4, 8, 24, 1, 1, 1, 1, 0, 0, 1, true},   // 1×1 with whole panels (P = 32): the image
                                                    // read in place, in every direction
    {2, 16, 8, 8, 16, 1, 1, 1, 1, 0, 0, 2, false},  // ... groups 2, P = 64, Co 8 per group
    {2, 16, 16, 16, 12, 1, 1, 1, 1, 0, 0, 1, true}, // ... P = 256 (weight gradient by dots),
                                                    // partial block
    {1, 4, 130, 130, 40, 3, 3, 1, 1, 0, 0, 1, true},// weight gradient with dy transposed a block of
                                                    // positions at a time (P × 48 channels: 3 MiB),
                                                    // the image split by positions, partial block
    {2, 128, 5, 6, 130, 3, 3, 1, 1, 1, 1, 1, true}, // 3×3 stride 1, 128 channels and more: Winograd
    // Forward tiles 14 rows tall (row_blocks, conv_paths.cpp: a panel of col over one L1, output
    // channels 14 n + 8 m):
    {2, 32, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, true},   // ResNet-20's stage 3: 4 wide blocks and 1 of 8
    {2, 56, 6, 7, 30, 3, 3, 1, 1, 1, 1, 1, false},  // 14 + 8 + 8, partial panel (42 positions); the
                                                    // input gradient (56 = 4 × 14, K = 270) too
    {2, 32, 9, 9, 28, 3, 3, 2, 2, 1, 1, 1, true},   // stride 2, 2 wide blocks, P = 25
    {2, 32, 4, 4, 22, 3, 3, 1, 1, 1, 1, 1, true},   // P = 16: the one-packet wide tile
    {2, 64, 6, 6, 44, 3, 3, 1, 1, 1, 1, 2, false},  // groups 2, 22 channels each (14 + 8)
    {2, 40, 48, 48, 22, 3, 3, 1, 1, 1, 1, 1, true}, // S of 1.1 MiB: forward by chunks of channels
};

Conv2dGeometry geometry_of(const ConvCase& c) {
  Conv2dGeometry g;
  g.batch = c.n, g.in_channels = c.c_in, g.in_h = c.h, g.in_w = c.w;
  g.out_channels = c.c_out, g.kernel_h = c.kh, g.kernel_w = c.kw;
  g.stride_h = c.sh, g.stride_w = c.sw, g.pad_h = c.ph, g.pad_w = c.pw, g.groups = c.groups;
  g.out_h = (c.h + 2 * c.ph - c.kh) / c.sh + 1;
  g.out_w = (c.w + 2 * c.pw - c.kw) / c.sw + 1;
  return g;
}

// Random input x, weight w, bias b and output gradient dy of case c, from seeds seed .. seed + 3.
struct ConvTensors {
  Tensor x, w, b, dy;
};
ConvTensors random_conv_tensors(const ConvCase& c, const Conv2dGeometry& g, uint64_t seed) {
  return {random({c.n, c.c_in, c.h, c.w}, seed), random({c.c_out, c.c_in / c.groups, c.kh, c.kw}, seed + 1),
          random({c.c_out}, seed + 2), random({c.n, c.c_out, g.out_h, g.out_w}, seed + 3)};
}

real dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a.data()[i]) * b.data()[i];
  return static_cast<real>(s);
}

}  // namespace

TEST_CASE("conv2d forward and backward match the direct-loop reference", "[conv]") {
  uint64_t seed = 100;
  for (const ConvCase& c : kConvCases) {
    INFO(describe(c));
    const Conv2dGeometry g = geometry_of(c);
    Tensor x = random({c.n, c.c_in, c.h, c.w}, ++seed).set_requires_grad(true);
    Tensor w = random({c.c_out, c.c_in / c.groups, c.kh, c.kw}, ++seed).set_requires_grad(true);
    Tensor b = c.bias ? random({c.c_out}, ++seed).set_requires_grad(true) : Tensor();
    Conv2dOptions opt{c.sh, c.sw, c.ph, c.pw, c.groups};
    Tensor y = conv2d(x, w, b, opt);
    REQUIRE(y.shape() == Shape{c.n, c.c_out, g.out_h, g.out_w});

    std::vector<real> y_ref(y.numel());
    conv2d_reference(g, x.data(), w.data(), c.bias ? b.data() : nullptr, y_ref.data());
    check_close(y, y_ref);

    Tensor dy = random(y.shape(), ++seed);
    y.backward(dy);
    std::vector<real> dx_ref(x.numel()), dw_ref(w.numel()), db_ref(c.c_out);
    conv2d_backward_reference(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data());
    check_close(x.grad(), dx_ref);
    check_close(w.grad(), dw_ref);
    if (c.bias) check_close(b.grad(), db_ref);

    // Every input-gradient path in its accumulating form: dx += the gradient.
    std::vector<real> dx_twice(dx_ref), twice(dx_ref);
    conv2d_backward_input(g, dy.data(), w.data(), dx_twice.data(), /*add=*/true);
    for (real& v : twice) v *= 2;
    check_close(dx_twice.data(), twice.data(), x.numel());
  }
}

TEST_CASE("conv2d as one GEMM per chunk of images matches the reference, chunks of every size", "[conv]") {
  ConvCase c{5, 6, 7, 6, 4, 3, 3, 2, 1, 1, 0, 1, true};
  const Conv2dGeometry g = geometry_of(c);
  const auto [x, w, b, dy] = random_conv_tensors(c, g, 900);
  std::vector<real> y_ref(dy.numel()), dx_ref(x.numel()), dw_ref(w.numel()), db_ref(c.c_out);
  conv2d_reference(g, x.data(), w.data(), b.data(), y_ref.data());
  conv2d_backward_reference(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data());
  for (int64_t chunk : {1, 2, 5, 0}) {
    INFO("chunk " << chunk);
    Tensor y = Tensor::full(dy.shape(), std::numeric_limits<real>::quiet_NaN());
    conv2d_forward_gemm(g, x.data(), w.data(), b.data(), y.data(), /*relu=*/false, chunk);
    check_close(y, y_ref);
    Tensor dx = Tensor::full(x.shape(), std::numeric_limits<real>::quiet_NaN());
    conv2d_backward_input_gemm(g, dy.data(), w.data(), dx.data(), /*add=*/false, chunk);
    check_close(dx, dx_ref);
    conv2d_backward_input_gemm(g, dy.data(), w.data(), dx.data(), /*add=*/true, chunk);  // now twice
    for (real& v : dx_ref) v *= 2;
    check_close(dx, dx_ref);
    for (real& v : dx_ref) v /= 2;
    Tensor dw = Tensor::ones(w.shape());
    conv2d_backward_weight_gemm(g, x.data(), dy.data(), dw.data(), chunk);
    std::vector<real> dw_plus_one = dw_ref;
    for (real& v : dw_plus_one) v += 1;
    check_close(dw, dw_plus_one);
  }
}

TEST_CASE("conv2d by Winograd F(2x2, 3x3) matches the reference: paddings, odd planes, chunks", "[conv]") {
  const std::vector<ConvCase> cases = {
      {3, 5, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, true},    // odd plane: the last row and column of tiles
                                                     // hang over the edge
      {2, 4, 8, 6, 3, 3, 3, 1, 1, 1, 1, 1, false},   // even plane, not square
      {2, 3, 9, 10, 5, 3, 3, 1, 1, 0, 0, 1, true},   // no padding
      {2, 6, 5, 6, 4, 3, 3, 1, 1, 2, 2, 1, true},    // padding 2: tiles reach two rows past x
      {1, 2, 3, 3, 2, 3, 3, 1, 1, 1, 0, 1, false},   // padding 1 × 0, one row of tiles
      {4, 16, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, true} // enough work for every thread
  };
  uint64_t seed = 920;
  for (const ConvCase& c : cases) {
    INFO(describe(c));
    const Conv2dGeometry g = geometry_of(c);
    REQUIRE(winograd_applies(g));
    const auto [x, w, b, dy] = random_conv_tensors(c, g, seed += 4);
    const Tensor res = random(dy.shape(), seed + 5);
    std::vector<real> y_ref(dy.numel()), dx_ref(x.numel()), dw_ref(w.numel()), db_ref(c.c_out);
    conv2d_reference(g, x.data(), w.data(), c.bias ? b.data() : nullptr, y_ref.data());
    conv2d_backward_reference(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(), db_ref.data());
    std::vector<real> y_res_relu(y_ref);
    for (int64_t i = 0; i < dy.numel(); ++i) y_res_relu[i] = std::max(y_ref[i] + res.data()[i], real(0));
    for (int64_t chunk : {1, 2, 0}) {
      INFO("chunk " << chunk);
      Tensor y = Tensor::full(dy.shape(), std::numeric_limits<real>::quiet_NaN());
      conv2d_forward_winograd(g, x.data(), w.data(), c.bias ? b.data() : nullptr, y.data(), false, nullptr, chunk);
      check_close(y, y_ref);
      conv2d_forward_winograd(g, x.data(), w.data(), c.bias ? b.data() : nullptr, y.data(), true, res.data(), chunk);
      check_close(y, y_res_relu);
      Tensor dx = Tensor::full(x.shape(), std::numeric_limits<real>::quiet_NaN());
      conv2d_backward_input_winograd(g, dy.data(), w.data(), dx.data(), /*add=*/false, chunk);
      check_close(dx, dx_ref);
      conv2d_backward_input_winograd(g, dy.data(), w.data(), dx.data(), /*add=*/true, chunk);  // now twice
      std::vector<real> twice(dx_ref);
      for (real& v : twice) v *= 2;
      check_close(dx, twice);
      Tensor dw = Tensor::ones(w.shape());
      conv2d_backward_weight_winograd(g, x.data(), dy.data(), dw.data(), chunk);
      std::vector<real> dw_plus_one = dw_ref;
      for (real& v : dw_plus_one) v += 1;
      check_close(dw, dw_plus_one);
    }
  }
  // The same bits on repeated calls and with one thread: each of the 16 GEMMs runs on one thread.
  {
    const ConvCase c{6, 16, 12, 10, 20, 3, 3, 1, 1, 1, 1, 1, true};
    const Conv2dGeometry g = geometry_of(c);
    const ConvTensors t = random_conv_tensors(c, g, 960);
    const auto run = [&](std::vector<real>& y, std::vector<real>& dx, std::vector<real>& dw) {
      y.assign(t.dy.numel(), real(0));
      dx.assign(t.x.numel(), real(0));
      dw.assign(t.w.numel(), real(0));
      conv2d_forward_winograd(g, t.x.data(), t.w.data(), t.b.data(), y.data(), false, nullptr, 2);
      conv2d_backward_input_winograd(g, t.dy.data(), t.w.data(), dx.data(), false, 2);
      conv2d_backward_weight_winograd(g, t.x.data(), t.dy.data(), dw.data(), 2);
    };
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    std::vector<real> y1, dx1, dw1;
    run(y1, dx1, dw1);
    omp_set_num_threads(threads);
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<real> y, dx, dw;
      run(y, dx, dw);
      CHECK(y == y1);
      CHECK(dx == dx1);
      CHECK(dw == dw1);
    }
  }
  // Where it does not apply.
  for (const ConvCase& c : {ConvCase{1, 2, 8, 8, 2, 3, 3, 2, 2, 1, 1, 1, false}, ConvCase{1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 2, false},
                            ConvCase{1, 2, 8, 8, 2, 5, 5, 1, 1, 2, 2, 1, false}, ConvCase{1, 2, 8, 8, 2, 3, 3, 1, 1, 3, 3, 1, false}}) {
    INFO(describe(c));
    CHECK_FALSE(winograd_applies(geometry_of(c)));
  }
  // One image's transformed planes against the 16 MiB chunk budget: ResNet-18's 256 channels at
  // 14×14 (0.8 M values) fit, 128 channels at 224×224 (51 M) do not.
  CHECK(winograd_image_fits_chunk(geometry_of({16, 256, 14, 14, 256, 3, 3, 1, 1, 1, 1, 1, false})));
  CHECK_FALSE(winograd_image_fits_chunk(geometry_of({1, 128, 224, 224, 128, 3, 3, 1, 1, 1, 1, 1, false})));
}

TEST_CASE("conv2d forward kernel with S built by chunks of channels: bias, ReLU, partial chunk and block", "[conv]") {
  // S = 35 channels × 3 shifts × 50 × 48 floats = 0.96 MiB, K = 315: built 16, 16, then 3
  // channels at a time.
  const ConvCase c{2, 35, 48, 48, 10, 3, 3, 1, 1, 1, 1, 1, true};
  const Conv2dGeometry g = geometry_of(c);
  const auto [x, w, b, dy] = random_conv_tensors(c, g, 910);
  std::vector<real> y_ref(c.n * c.c_out * g.out_plane());
  conv2d_reference(g, x.data(), w.data(), b.data(), y_ref.data());
  for (real& v : y_ref) v = std::max(v, real(0));
  Tensor y = Tensor::full({c.n, c.c_out, g.out_h, g.out_w}, std::numeric_limits<real>::quiet_NaN());
  conv2d_forward(g, x.data(), w.data(), b.data(), y.data(), /*relu=*/true);
  check_close(y, y_ref);
}

namespace {

// conv2d_forward of case c (with bias) into a NaN-filled y, with a residual and the ReLU, against
// max(reference + residual, 0): each applied exactly once, every output written.
void check_forward_residual_relu(const ConvCase& c, uint64_t seed) {
  const Conv2dGeometry g = geometry_of(c);
  const auto [x, w, b, residual] = random_conv_tensors(c, g, seed);
  std::vector<real> y_ref(residual.numel());
  conv2d_reference(g, x.data(), w.data(), b.data(), y_ref.data());
  for (int64_t i = 0; i < residual.numel(); ++i) y_ref[i] = std::max(y_ref[i] + residual.data()[i], real(0));
  Tensor y = Tensor::full(residual.shape(), std::numeric_limits<real>::quiet_NaN());
  conv2d_forward(g, x.data(), w.data(), b.data(), y.data(), /*relu=*/true, residual.data());
  check_close(y, y_ref);
}

}  // namespace

TEST_CASE("conv2d forward with packed panels in blocks of rows: bias, residual and ReLU applied once", "[conv]") {
  // K = 1080: blocks of 192 rows of col and a partial one of 120; 36 output channels (a partial
  // block of them) over P = 90 positions (two packed panels and a partial one).
  check_forward_residual_relu({2, 120, 9, 10, 36, 3, 3, 1, 1, 1, 1, 1, true}, 920);
}

TEST_CASE("conv2d forward in 14-row blocks: bias, residual and ReLU applied once", "[conv]") {
  // K = 288, 36 output channels: two blocks of 14 and one of 8; P = 72: two panels and a partial
  // one of 8 positions.
  check_forward_residual_relu({2, 32, 8, 9, 36, 3, 3, 1, 1, 1, 1, 1, true}, 930);
}

TEST_CASE("conv2d results do not depend on the schedule; forward and input gradient not on the thread count", "[conv]") {
  // Pieces of the batch go to whichever thread is free: every output must still come out the same
  // bits, as with one thread. 12 images of 100 positions (a partial panel), enough work to split.
  const ConvCase c{12, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, true};
  const Conv2dGeometry g = geometry_of(c);
  const ConvTensors t = random_conv_tensors(c, g, 930);
  const Tensor &x = t.x, &w = t.w, &b = t.b, &dy = t.dy;  // named, for the lambdas to capture
  const auto run = [&](std::vector<real>& y, std::vector<real>& dx) {
    y.assign(dy.numel(), real(0));
    dx.assign(x.numel(), real(0));
    conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
    conv2d_backward_input(g, dy.data(), w.data(), dx.data(), /*add=*/false);
  };
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<real> y1, dx1;
  run(y1, dx1);
  omp_set_num_threads(threads);
  // The weight gradient sums its pieces in piece order: the same bits on every call (though not
  // the one-thread bits, whose sums run in another order).
  const auto weight_gradient = [&] {
    std::vector<real> dw(w.numel(), real(0));
    conv2d_backward_weight(g, x.data(), dy.data(), dw.data());
    return dw;
  };
  const std::vector<real> dw1 = weight_gradient();
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<real> y, dx;
    run(y, dx);
    CHECK(y == y1);
    CHECK(dx == dx1);
    CHECK(weight_gradient() == dw1);
  }
}

TEST_CASE("conv2d backward accumulates into existing gradients", "[conv]") {
  Tensor x = random({2, 3, 5, 5}, 1).set_requires_grad(true);
  Tensor w = random({4, 3, 3, 3}, 2).set_requires_grad(true);
  Tensor b = random({4}, 3).set_requires_grad(true);
  for (const Conv2dOptions& opt : {Conv2dOptions::make(1, 1), Conv2dOptions::make(1, 0)}) {
    x.zero_grad(), w.zero_grad(), b.zero_grad();
    Tensor dy = random(conv2d(x, w, b, opt).shape(), 4);
    conv2d(x, w, b, opt).backward(dy);
    const std::vector<real> gx = x.grad().to_vector(), gw = w.grad().to_vector(), gb = b.grad().to_vector();
    conv2d(x, w, b, opt).backward(dy);
    for (auto [t, once] : {std::pair{x, gx}, std::pair{w, gw}, std::pair{b, gb}}) {
      std::vector<real> twice(once);
      for (real& v : twice) v *= 2;
      check_close(t.grad(), twice);
    }
  }
}

TEST_CASE("conv2d without grad records nothing", "[conv]") {
  Tensor x = random({1, 2, 4, 4}, 1), w = random({3, 2, 3, 3}, 2).set_requires_grad(true);
  NoGradGuard ng;
  Tensor y = conv2d(x, w, Tensor(), Conv2dOptions::make(1, 1));
  CHECK_FALSE(y.requires_grad());
  CHECK(y.grad_fn() == nullptr);
}

namespace {

struct TransposeCase {
  int64_t n, c_in, h, w, c_out, kh, kw, stride, pad, output_padding, groups;
  bool bias;
  int64_t output_h, output_w;  // explicit output size, 0 = derived
};

}  // namespace

TEST_CASE("conv_transpose2d forward and backward match the reference", "[conv]") {
  const std::vector<TransposeCase> cases = {
      {2, 4, 5, 5, 3, 2, 2, 2, 0, 0, 1, true, 0, 0},     // the upsampling 2×2 stride 2
      {2, 4, 5, 6, 6, 3, 3, 2, 1, 0, 1, false, 10, 12},  // explicit size picks output padding 1
      {2, 4, 5, 6, 6, 3, 3, 2, 1, 0, 1, true, 9, 11},    // ... and 0
      {2, 4, 4, 4, 6, 3, 3, 1, 1, 0, 2, true, 0, 0},     // groups 2
      {3, 6, 3, 5, 4, 3, 3, 3, 0, 2, 2, false, 0, 0},    // output padding 2 with stride 3
      {1, 3, 4, 3, 2, 1, 3, 1, 0, 0, 1, true, 0, 0},     // 1×3 kernel, batch 1
      {2, 4, 6, 6, 4, 1, 1, 1, 0, 0, 1, true, 0, 0},     // pointwise
      // Stride 1 to a multiple of 8 channels: the flipped-kernel path, which overwrites y.
      {2, 4, 6, 6, 16, 1, 1, 1, 0, 0, 1, true, 0, 0},    // pointwise (a Strassen layer's W_c, p = 1)
      {2, 16, 8, 8, 16, 1, 1, 1, 0, 0, 1, false, 0, 0},  // ... whole panels: read in place
      {2, 5, 5, 7, 8, 3, 3, 1, 1, 0, 1, false, 0, 0},    // 3×3, pad 1
  };
  uint64_t seed = 500;
  for (const TransposeCase& c : cases) {
    INFO("x [" << c.n << ", " << c.c_in << ", " << c.h << ", " << c.w << "] c_out " << c.c_out << " kernel " << c.kh
               << "x" << c.kw << " stride " << c.stride << " pad " << c.pad << " output_padding "
               << c.output_padding << " groups " << c.groups << " output " << c.output_h << "x" << c.output_w);
    ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(c.stride, c.pad, c.groups);
    opt.output_padding_h = opt.output_padding_w = c.output_padding;
    opt.output_h = c.output_h, opt.output_w = c.output_w;
    Tensor x = random({c.n, c.c_in, c.h, c.w}, ++seed).set_requires_grad(true);
    Tensor w = random({c.c_in, c.c_out / c.groups, c.kh, c.kw}, ++seed).set_requires_grad(true);
    Tensor b = c.bias ? random({c.c_out}, ++seed).set_requires_grad(true) : Tensor();
    Tensor y = conv_transpose2d(x, w, b, opt);

    const int64_t out_h = c.output_h ? c.output_h : (c.h - 1) * c.stride - 2 * c.pad + c.kh + c.output_padding;
    const int64_t out_w = c.output_w ? c.output_w : (c.w - 1) * c.stride - 2 * c.pad + c.kw + c.output_padding;
    REQUIRE(y.shape() == Shape{c.n, c.c_out, out_h, out_w});
    const Conv2dGeometry g = conv_transpose2d_geometry(c.n, c.c_in, c.h, c.w, c.c_out, out_h, out_w, c.kh, c.kw,
                                                       c.stride, c.stride, c.pad, c.pad, c.groups);
    std::vector<real> y_ref(y.numel());
    conv_transpose2d_reference(g, x.data(), w.data(), c.bias ? b.data() : nullptr, y_ref.data());
    check_close(y, y_ref);

    // The gradients of a transposed conv are those of the conv2d it is the adjoint of, with the
    // roles of input and output swapped: dx = conv2d(dy), dw = conv2d weight gradient.
    Tensor dy = random(y.shape(), ++seed);
    y.backward(dy);
    std::vector<real> dx_ref(x.numel()), dw_ref(w.numel()), unused(dy.numel()), db_ref(c.c_out, 0);
    conv2d_reference(g, dy.data(), w.data(), nullptr, dx_ref.data());
    conv2d_backward_reference(g, dy.data(), w.data(), x.data(), unused.data(), dw_ref.data(), nullptr);
    for (int64_t i = 0; i < dy.numel(); ++i) db_ref[(i / (out_h * out_w)) % c.c_out] += dy.data()[i];
    check_close(x.grad(), dx_ref);
    check_close(w.grad(), dw_ref);
    if (c.bias) check_close(b.grad(), db_ref);
  }
}

TEST_CASE("conv2d input gradients add up when the input has several consumers", "[conv]") {
  // The first consumer's backward writes the fresh gradient buffer, the others add to it; both
  // kernel paths (stride 1 with 8 input channels, and stride 2).
  for (int64_t stride : {1, 2}) {
    INFO("stride " << stride);
    const Tensor x0 = random({2, 8, 7, 6}, 800 + stride);
    const Tensor w1 = random({5, 8, 3, 3}, 810 + stride), w2 = random({5, 8, 3, 3}, 820 + stride);
    const Conv2dOptions opt = Conv2dOptions::make(stride, 1);
    std::vector<real> separate(x0.numel(), 0);
    for (const Tensor& w : {w1, w2}) {
      Tensor x = x0.clone().set_requires_grad(true);
      sum(conv2d(x, w, Tensor(), opt)).backward();
      for (int64_t i = 0; i < x.numel(); ++i) separate[i] += x.grad().data()[i];
    }
    Tensor x = x0.clone().set_requires_grad(true);
    sum(add(conv2d(x, w1, Tensor(), opt), conv2d(x, w2, Tensor(), opt))).backward();
    for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(x.grad().data()[i] == Approx(separate[i]).margin(1e-5));
  }
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d", "[conv]") {
  // <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for matching stride, padding, groups and
  // an output size equal to x's.
  Tensor x = random({2, 4, 9, 8}, 11), w = random({6, 2, 3, 3}, 12);
  const Tensor cx = conv2d(x, w, Tensor(), Conv2dOptions::make(2, 1, 2));
  Tensor y = random(cx.shape(), 13);
  ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(2, 1, 2);
  opt.output_h = 9, opt.output_w = 8;
  const Tensor ty = conv_transpose2d(y, w, Tensor(), opt);
  REQUIRE(ty.shape() == x.shape());
  CHECK(dot(cx, y) == Approx(dot(x, ty)).epsilon(1e-4));
}

TEST_CASE("conv_transpose2d explicit output size rules", "[conv]") {
  // (H-1)*s - 2p + k = (5-1)*2 - 2 + 3 = 9: admissible output heights are 9 and 10.
  Tensor x = random({1, 2, 5, 5}, 1), w = random({2, 3, 3, 3}, 2);
  ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(2, 1);
  CHECK(conv_transpose2d(x, w, Tensor(), opt).shape() == Shape{1, 3, 9, 9});
  opt.output_h = 10;
  CHECK(conv_transpose2d(x, w, Tensor(), opt).shape() == Shape{1, 3, 10, 9});
  opt.output_w = 10;
  CHECK(conv_transpose2d(x, w, Tensor(), opt).shape() == Shape{1, 3, 10, 10});
  // The explicit size and the equivalent output padding give the same result.
  ConvTranspose2dOptions padded = ConvTranspose2dOptions::make(2, 1);
  padded.output_padding_h = padded.output_padding_w = 1;
  const Tensor a = conv_transpose2d(x, w, Tensor(), opt), b = conv_transpose2d(x, w, Tensor(), padded);
  CHECK(a.to_vector() == b.to_vector());

  opt.output_h = 11;
  CHECK_THROWS_AS(conv_transpose2d(x, w, Tensor(), opt), Error);
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), opt),
                    Catch::Contains("requested output height 11 is out of range [9, 10]") &&
                        Catch::Contains("[1, 2, 5, 5]") && Catch::Contains("[2, 3, 3, 3]"));
  opt.output_h = 8;
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), opt), Catch::Contains("out of range [9, 10]"));
  opt.output_h = 0, opt.output_w = 0;
  opt.output_padding_h = 2;
  CHECK_THROWS_WITH(conv_transpose2d(x, w, Tensor(), opt),
                    Catch::Contains("output padding 2") && Catch::Contains("stride 2"));
}

TEST_CASE("conv errors name the shapes", "[conv]") {
  Tensor x = random({2, 3, 8, 8}, 1);
  CHECK_THROWS_AS(conv2d(x, random({4, 2, 3, 3}, 2), Tensor()), Error);
  CHECK_THROWS_WITH(conv2d(x, random({4, 2, 3, 3}, 2), Tensor()),
                    Catch::Contains("conv2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2 "
                                    "(groups 1)"));
  CHECK_THROWS_WITH(conv2d(x, random({4, 1, 3, 3}, 2), Tensor(), Conv2dOptions::make(1, 0, 2)),
                    Catch::Contains("input [2, 3, 8, 8] has 3 channels, not divisible by groups 2"));
  CHECK_THROWS_WITH(conv2d(random({2, 4, 8, 8}, 1), random({3, 2, 3, 3}, 2), Tensor(), Conv2dOptions::make(1, 0, 2)),
                    Catch::Contains("weight [3, 2, 3, 3] has 3 output channels, not divisible by groups 2"));
  CHECK_THROWS_WITH(conv2d(x, random({4, 3, 3, 3}, 2), random({5}, 3)),
                    Catch::Contains("bias [5] does not match weight [4, 3, 3, 3]"));
  // Output extent <= 0: a 5×5 kernel on a 4×4 input (the truncating division would say 1).
  CHECK_THROWS_AS(conv2d(random({1, 1, 4, 4}, 1), random({1, 1, 5, 5}, 2), Tensor()), Error);
  CHECK_THROWS_WITH(conv2d(random({1, 1, 4, 4}, 1), random({1, 1, 5, 5}, 2), Tensor()),
                    Catch::Contains("weight [1, 1, 5, 5]") && Catch::Contains("input [1, 1, 4, 4]"));
  CHECK_NOTHROW(conv2d(random({1, 1, 4, 4}, 1), random({1, 1, 5, 5}, 2), Tensor(), Conv2dOptions::make(1, 1)));
  CHECK_THROWS_WITH(conv2d(random({3, 8, 8}, 1), random({4, 3, 3, 3}, 2), Tensor()),
                    Catch::Contains("input must be 4-D") && Catch::Contains("[3, 8, 8]"));
  CHECK_THROWS_WITH(conv2d(x, random({4, 3, 3, 3}, 2), Tensor(), Conv2dOptions::make(0, 0)),
                    Catch::Contains("stride must be positive"));

  CHECK_THROWS_WITH(conv_transpose2d(x, random({4, 2, 3, 3}, 2), Tensor()),
                    Catch::Contains("conv_transpose2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] "
                                    "expects 4"));
  CHECK_THROWS_WITH(conv_transpose2d(x, random({3, 2, 3, 3}, 2), Tensor(), ConvTranspose2dOptions::make(1, 0, 2)),
                    Catch::Contains("not divisible by groups 2"));
  CHECK_THROWS_WITH(conv_transpose2d(x, random({3, 2, 3, 3}, 2), random({3}, 3)),
                    Catch::Contains("bias [3] does not match weight [3, 2, 3, 3] (expected [2])"));
  // (1-1)*1 - 2*2 + 3 = -1: no output.
  CHECK_THROWS_WITH(conv_transpose2d(random({1, 3, 1, 1}, 1), random({3, 2, 3, 3}, 2), Tensor(),
                                     ConvTranspose2dOptions::make(1, 2)),
                    Catch::Contains("is not positive") && Catch::Contains("[1, 3, 1, 1]"));
}

// ---- pooling -----------------------------------------------------------------------------

TEST_CASE("pool output sizes follow PyTorch", "[pool]") {
  CHECK(pool_output_size(5, 2, 2, 0, false) == 2);
  CHECK(pool_output_size(5, 2, 2, 0, true) == 3);
  CHECK(pool_output_size(4, 3, 2, 0, false) == 1);
  CHECK(pool_output_size(4, 3, 2, 0, true) == 2);
  // ceil_mode would add a window starting in the right padding (at 6 - 1 = 5 >= 5): dropped.
  CHECK(pool_output_size(5, 3, 2, 1, true) == 3);
  CHECK(pool_output_size(6, 3, 2, 1, true) == 4);
  CHECK(pool_output_size(32, 3, 2, 1, false) == 16);
  CHECK(pool_output_size(2, 3, 1, 0, false) <= 0);
}

TEST_CASE("max_pool2d values, padding, ceil_mode and gradient routing", "[pool]") {
  // x[i][j] = 5i + j increases to the bottom right, so each window's maximum is its clipped
  // bottom-right corner.
  Tensor x = Tensor::arange(25);
  x = Tensor::from_vector({1, 1, 5, 5}, x.to_vector()).set_requires_grad(true);
  Tensor y = max_pool2d(x, Pool2dOptions::make(3, 2, 1));
  REQUIRE(y.shape() == Shape{1, 1, 3, 3});
  CHECK(y.to_vector() == std::vector<real>{6, 8, 9, 16, 18, 19, 21, 23, 24});
  y.backward(Tensor::ones(y.shape()));
  std::vector<real> expect(25, 0);
  for (int64_t i : {6, 8, 9, 16, 18, 19, 21, 23, 24}) expect[i] = 1;
  CHECK(x.grad().to_vector() == expect);

  std::vector<real> v(30);
  for (int i = 0; i < 30; ++i) v[i] = real(i);
  Pool2dOptions ceil = Pool2dOptions::make(2, 2);
  ceil.ceil_mode = true;
  Tensor z = max_pool2d(Tensor::from_vector({1, 1, 5, 6}, v), ceil);
  REQUIRE(z.shape() == Shape{1, 1, 3, 3});
  CHECK(z.to_vector() == std::vector<real>{7, 9, 11, 19, 21, 23, 25, 27, 29});

  // Padding acts as -inf: an all-negative input keeps its own values, not 0.
  Tensor neg = Tensor::full({1, 1, 2, 2}, -3);
  CHECK(max_pool2d(neg, Pool2dOptions::make(2, 1, 1)).to_vector() == std::vector<real>(9, -3));
}

TEST_CASE("max_pool2d gradient goes to the first maximum", "[pool]") {
  Tensor x = Tensor::from_vector({1, 1, 2, 2}, {1, 5, 5, 2}).set_requires_grad(true);
  Tensor y = max_pool2d(x, Pool2dOptions::make(2, 2));
  y.backward(Tensor::full(y.shape(), 3));
  CHECK(x.grad().to_vector() == std::vector<real>{0, 3, 0, 0});
}

TEST_CASE("max_pool2d kernel matches the plain loop: values, ties, NaN, the argmax and the backward", "[pool]") {
  // Values from a small set, so that windows hold ties (as pooled ReLU outputs do: many zeros), a
  // few NaN and -inf; every geometry that has a window, edges and interior both.
  Generator gen(21);
  int cases = 0;
  for (int64_t k : {1, 2, 3, 4})
    for (int64_t s : {1, 2, 3})
      for (int64_t pad = 0; pad <= k / 2; ++pad)
        for (bool ceil : {false, true})
          for (int64_t in_w : {1, 5, 12, 37}) {
            PoolGeometry g;
            g.planes = 3, g.in_h = 7, g.in_w = in_w;
            g.kernel_h = g.kernel_w = k, g.stride_h = g.stride_w = s, g.pad_h = g.pad_w = pad;
            g.out_h = pool_output_size(g.in_h, k, s, pad, ceil);
            g.out_w = pool_output_size(g.in_w, k, s, pad, ceil);
            if (g.out_h <= 0 || g.out_w <= 0) continue;
            INFO("kernel " << k << " stride " << s << " pad " << pad << (ceil ? " ceil" : "") << " width " << in_w);
            std::vector<real> x(g.planes * g.in_h * g.in_w);
            for (real& v : x) {
              const int r = static_cast<int>(gen.uniform() * 40);
              v = r == 0 ? std::numeric_limits<real>::quiet_NaN()
                         : r == 1 ? -std::numeric_limits<real>::infinity() : real(r % 4);
            }
            const int64_t outs = g.planes * g.out_h * g.out_w;
            std::vector<real> y(outs), y_ref(outs);
            std::vector<int32_t> at(outs), at_ref(outs);
            max_pool2d_forward(g, x.data(), y.data(), at.data());
            max_pool2d_forward_reference(g, x.data(), y_ref.data(), at_ref.data());
            CHECK(at == at_ref);
            for (int64_t i = 0; i < outs; ++i)
              REQUIRE((y[i] == y_ref[i] || (std::isnan(y[i]) && std::isnan(y_ref[i]))));
            std::vector<real> y2(outs);
            max_pool2d_forward(g, x.data(), y2.data(), nullptr);  // without the argmax
            for (int64_t i = 0; i < outs; ++i) REQUIRE((y2[i] == y[i] || (std::isnan(y2[i]) && std::isnan(y[i]))));
            // The backward: each dy goes to its window's argmax, added (add) or into zeros written
            // by the kernel over whatever dx held (!add).
            std::vector<real> dy(outs), dx_ref(x.size(), real(0.5));
            for (real& v : dy) v = static_cast<real>(gen.uniform());
            for (int64_t i = 0; i < outs; ++i) dx_ref[(i / (g.out_h * g.out_w)) * g.in_h * g.in_w + at_ref[i]] += dy[i];
            std::vector<real> dx_add(x.size(), real(0.5)), dx_write(x.size(), std::numeric_limits<real>::quiet_NaN());
            max_pool2d_backward(g, dy.data(), at.data(), dx_add.data(), /*add=*/true);
            max_pool2d_backward(g, dy.data(), at.data(), dx_write.data(), /*add=*/false);
            for (size_t i = 0; i < x.size(); ++i) {
              REQUIRE(dx_add[i] == Approx(dx_ref[i]));
              REQUIRE(dx_write[i] == Approx(dx_ref[i] - real(0.5)).margin(1e-6));
            }
            ++cases;
          }
  CHECK(cases > 100);
}

TEST_CASE("avg_pool2d divisors: count_include_pad and ceil_mode", "[pool]") {
  Tensor ones = Tensor::ones({1, 1, 4, 4});
  Pool2dOptions opt = Pool2dOptions::make(3, 2, 1);
  opt.ceil_mode = true;
  // Windows per axis start at -1, 1, 3; their real elements number 2, 3, 1; the include-pad
  // divisors (clipped to the padded extent 5) are 3, 3, 2.
  Tensor y = avg_pool2d(ones, opt);
  REQUIRE(y.shape() == Shape{1, 1, 3, 3});
  const std::vector<double> expect = {4. / 9, 6. / 9, 2. / 6, 6. / 9, 1, 3. / 6, 2. / 6, 3. / 6, 1. / 4};
  for (int i = 0; i < 9; ++i) CHECK(y.data()[i] == Approx(expect[i]));
  opt.count_include_pad = false;
  for (real v : avg_pool2d(ones, opt).to_vector()) CHECK(v == Approx(1));

  // Plain 2×2 average.
  Tensor x = Tensor::from_vector({1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -6}).set_requires_grad(true);
  Tensor a = avg_pool2d(x, Pool2dOptions::make(2, 2));
  CHECK(a.to_vector() == std::vector<real>{2.5, -3});
  a.backward(Tensor::from_vector({1, 2, 1, 1}, {4, 8}));
  CHECK(x.grad().to_vector() == std::vector<real>{1, 1, 1, 1, 2, 2, 2, 2});
}

TEST_CASE("global_avg_pool2d", "[pool]") {
  Tensor x = Tensor::from_vector({2, 2, 1, 3}, {1, 2, 3, 4, 5, 6, -1, -2, -3, 0, 0, 3}).set_requires_grad(true);
  Tensor y = global_avg_pool2d(x);
  REQUIRE(y.shape() == Shape{2, 2});
  CHECK(y.to_vector() == std::vector<real>{2, 5, -2, 1});
  y.backward(Tensor::from_vector({2, 2}, {3, 6, 9, 12}));
  CHECK(x.grad().to_vector() == std::vector<real>{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
}

TEST_CASE("pool errors name the shapes", "[pool]") {
  CHECK_THROWS_AS(max_pool2d(Tensor::zeros({1, 1, 2, 2}), Pool2dOptions::make(3, 1)), Error);
  CHECK_THROWS_WITH(max_pool2d(Tensor::zeros({1, 1, 2, 2}), Pool2dOptions::make(3, 1)),
                    Catch::Contains("[1, 1, 2, 2]"));
  CHECK_THROWS_WITH(avg_pool2d(Tensor::zeros({1, 1, 8, 8}), Pool2dOptions::make(2, 2, 2)),
                    Catch::Contains("at most half of the kernel"));
  CHECK_THROWS_WITH(max_pool2d(Tensor::zeros({4, 8, 8}), Pool2dOptions::make(2, 2)),
                    Catch::Contains("4-D") && Catch::Contains("[4, 8, 8]"));
  CHECK_THROWS_WITH(global_avg_pool2d(Tensor::zeros({4, 8})), Catch::Contains("[4, 8]"));
}

TEST_CASE("subsample_pad_channels equals a 1x1 strided average pool padded with zero channels", "[pool][shape]") {
  const Tensor x = random({3, 4, 7, 6}, 61);
  for (int64_t stride : {1, 2, 3}) {
    INFO("stride " << stride);
    const Tensor y = subsample_pad_channels(x, stride, 2, 3);
    const Tensor pooled = avg_pool2d(x, Pool2dOptions::make(1, stride));
    const int64_t h = pooled.size(2), w = pooled.size(3);
    const Tensor expected = concat({Tensor::zeros({3, 2, h, w}), pooled, Tensor::zeros({3, 3, h, w})}, 1);
    REQUIRE(y.shape() == expected.shape());
    for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(y.data()[i] == expected.data()[i]);
  }
  CHECK_THROWS_WITH(subsample_pad_channels(random({3, 4}, 1), 2, 1, 1), Catch::Contains("[3, 4]"));
}
