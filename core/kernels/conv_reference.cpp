#include "core/kernels/conv_reference.h"

#include <cstddef>
#include <vector>

namespace st {

void conv2d_reference(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y) {
  const int64_t Ci = g.group_in(), Co = g.group_out();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t co = 0; co < g.out_channels; ++co) {
      const int64_t c0 = (co / Co) * Ci;  // first input channel of co's group
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          double acc = b ? b[co] : 0.0;
          for (int64_t ci = 0; ci < Ci; ++ci)
            for (int64_t i = 0; i < g.kernel_h; ++i)
              for (int64_t j = 0; j < g.kernel_w; ++j) {
                const int64_t ih = oh * g.stride_h - g.pad_h + i, iw = ow * g.stride_w - g.pad_w + j;
                if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                acc += static_cast<double>(x[((n * g.in_channels + c0 + ci) * g.in_h + ih) * g.in_w + iw]) *
                       w[((co * Ci + ci) * g.kernel_h + i) * g.kernel_w + j];
              }
          y[((n * g.out_channels + co) * g.out_h + oh) * g.out_w + ow] = static_cast<real>(acc);
        }
    }
}

void conv2d_backward_reference(const Conv2dGeometry& g, const real* x, const real* w, const real* dy, real* dx,
                               real* dw, real* db) {
  const int64_t Ci = g.group_in(), Co = g.group_out();
  std::vector<double> gx(g.batch * g.in_channels * g.in_h * g.in_w, 0.0);
  std::vector<double> gw(g.out_channels * Ci * g.kernel_h * g.kernel_w, 0.0);
  std::vector<double> gb(g.out_channels, 0.0);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t co = 0; co < g.out_channels; ++co) {
      const int64_t c0 = (co / Co) * Ci;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const double d = dy[((n * g.out_channels + co) * g.out_h + oh) * g.out_w + ow];
          gb[co] += d;
          for (int64_t ci = 0; ci < Ci; ++ci)
            for (int64_t i = 0; i < g.kernel_h; ++i)
              for (int64_t j = 0; j < g.kernel_w; ++j) {
                const int64_t ih = oh * g.stride_h - g.pad_h + i, iw = ow * g.stride_w - g.pad_w + j;
                if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                const int64_t xi = ((n * g.in_channels + c0 + ci) * g.in_h + ih) * g.in_w + iw;
                const int64_t wi = ((co * Ci + ci) * g.kernel_h + i) * g.kernel_w + j;
                gx[xi] += d * w[wi];
                gw[wi] += d * x[xi];
              }
        }
    }
  for (std::size_t i = 0; i < gx.size(); ++i) dx[i] = static_cast<real>(gx[i]);
  for (std::size_t i = 0; i < gw.size(); ++i) dw[i] = static_cast<real>(gw[i]);
  if (db)
    for (std::size_t i = 0; i < gb.size(); ++i) db[i] = static_cast<real>(gb[i]);
}

void conv_transpose2d_reference(const Conv2dGeometry& g, const real* x, const real* w, const real* b, real* y) {
  // Names from the transposed conv's point of view: input x_t [N, Cin_t, Hin, Win], output
  // y_t [N, Cout_t, Hout, Wout], weight [Cin_t, Cout_t/G, kH, kW].
  const int64_t Cin_t = g.out_channels, Hin = g.out_h, Win = g.out_w;
  const int64_t Cout_t = g.in_channels, Hout = g.in_h, Wout = g.in_w;
  const int64_t Cg_in = Cin_t / g.groups, Cg_out = Cout_t / g.groups;
  std::vector<double> acc(g.batch * Cout_t * Hout * Wout, 0.0);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t ci = 0; ci < Cin_t; ++ci) {
      const int64_t grp = ci / Cg_in;
      for (int64_t ih = 0; ih < Hin; ++ih)
        for (int64_t iw = 0; iw < Win; ++iw) {
          const double v = x[((n * Cin_t + ci) * Hin + ih) * Win + iw];
          for (int64_t co = 0; co < Cg_out; ++co)
            for (int64_t i = 0; i < g.kernel_h; ++i)
              for (int64_t j = 0; j < g.kernel_w; ++j) {
                const int64_t oh = ih * g.stride_h - g.pad_h + i, ow = iw * g.stride_w - g.pad_w + j;
                if (oh < 0 || oh >= Hout || ow < 0 || ow >= Wout) continue;
                acc[((n * Cout_t + grp * Cg_out + co) * Hout + oh) * Wout + ow] +=
                    v * w[((ci * Cg_out + co) * g.kernel_h + i) * g.kernel_w + j];
              }
        }
    }
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < Cout_t; ++c)
      for (int64_t p = 0; p < Hout * Wout; ++p) {
        const int64_t k = (n * Cout_t + c) * Hout * Wout + p;
        y[k] = static_cast<real>(acc[k] + (b ? b[c] : 0.0));
      }
}

}  // namespace st
