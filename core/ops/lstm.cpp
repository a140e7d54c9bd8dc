#include "core/ops/lstm.h"

#include <cstring>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/lstm.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

const real* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

// The gradient buffer of an input that wants one, else nullptr (the kernel skips it).
real* grad_or_null(const Tensor& t) { return t.defined() && t.requires_grad() ? grad_buffer(t).data() : nullptr; }

// Checks every shape against x and w_ih; returns the sizes.
LstmSizes check_shapes(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                       const Tensor& b_ih, const Tensor& b_hh) {
  ST_CHECK(x.defined() && w_ih.defined() && w_hh.defined(), "lstm: x, w_ih and w_hh must be defined");
  ST_CHECK(x.dim() == 3, "lstm: x must be [T, B, I], got " << shape_str(x.shape()));
  ST_CHECK(x.size(0) > 0, "lstm: empty sequence, x " << shape_str(x.shape()));
  ST_CHECK(w_ih.dim() == 2 && w_ih.size(0) % 4 == 0 && w_ih.size(0) > 0 && w_ih.size(1) == x.size(2),
           "lstm: w_ih " << shape_str(w_ih.shape()) << " must be [4H, " << x.size(2) << "] for x "
                         << shape_str(x.shape()));
  LstmSizes s;
  s.T = x.size(0), s.B = x.size(1), s.I = x.size(2), s.H = w_ih.size(0) / 4;
  const Shape w_hh_shape{4 * s.H, s.H}, state{s.B, s.H}, bias{4 * s.H};
  ST_CHECK(w_hh.shape() == w_hh_shape, "lstm: w_hh " << shape_str(w_hh.shape()) << " does not match hidden size "
                                                     << s.H << " from w_ih " << shape_str(w_ih.shape()));
  for (auto [t, name] : {std::pair<const Tensor*, const char*>{&h0, "h0"}, {&c0, "c0"}})
    ST_CHECK(!t->defined() || t->shape() == state,
             "lstm: " << name << " " << shape_str(t->shape()) << " must be " << shape_str(state) << " (batch "
                      << s.B << " from x " << shape_str(x.shape()) << ", hidden size " << s.H << " from w_ih "
                      << shape_str(w_ih.shape()) << ")");
  for (auto [t, name] : {std::pair<const Tensor*, const char*>{&b_ih, "b_ih"}, {&b_hh, "b_hh"}})
    ST_CHECK(!t->defined() || t->shape() == bias, "lstm: " << name << " " << shape_str(t->shape()) << " must be "
                                                           << shape_str(bias) << " for w_ih "
                                                           << shape_str(w_ih.shape()));
  return s;
}

}  // namespace

LstmOutput lstm(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih, const Tensor& b_hh) {
  ProfileScope prof("lstm");
  const LstmSizes s = check_shapes(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
  const int64_t T = s.T, B = s.B, H = s.H;
  const LstmWeights w{w_ih.data(), w_hh.data(), data_or_null(b_ih), data_or_null(b_hh)};

  // output [T, B, H] = h_t of every step; cells [T, B, H] = c_t; gates [T, B, 4H] activated.
  // cells and gates are what the backward needs besides output; they stay plain buffers.
  Tensor output = Tensor::empty({T, B, H});
  Tensor cells = Tensor::empty({T, B, H});
  Tensor gates = Tensor::empty({T, B, 4 * H});
  lstm_forward(s, x.data(), data_or_null(h0), data_or_null(c0), w, output.data(), cells.data(), gates.data());

  // h_n, c_n: copies of the last step (small), so that no output aliases another.
  Tensor h_n = Tensor::empty({B, H}), c_n = Tensor::empty({B, H});
  std::memcpy(h_n.data(), output.data() + (T - 1) * B * H, sizeof(real) * B * H);
  std::memcpy(c_n.data(), cells.data() + (T - 1) * B * H, sizeof(real) * B * H);
  if (!needs_graph({&x, &h0, &c0, &w_ih, &w_hh, &b_ih, &b_hh})) return {output, h_n, c_n};

  Tensor saved_h = output.detach();
  record_node("lstm", {x, h0, c0, w_ih, w_hh, b_ih, b_hh}, {output, h_n, c_n},
              [s, x, h0, c0, w_ih, w_hh, b_ih, b_hh, saved_h, cells, gates](const std::vector<Tensor>& g) {
                const LstmWeights w{w_ih.data(), w_hh.data(), data_or_null(b_ih), data_or_null(b_hh)};
                LstmGrads d;
                d.dx = grad_or_null(x);
                d.dh0 = grad_or_null(h0);
                d.dc0 = grad_or_null(c0);
                d.dw_ih = grad_or_null(w_ih);
                d.dw_hh = grad_or_null(w_hh);
                d.db_ih = grad_or_null(b_ih);
                d.db_hh = grad_or_null(b_hh);
                lstm_backward(s, x.data(), data_or_null(h0), data_or_null(c0), w, saved_h.data(), cells.data(),
                              gates.data(), data_or_null(g[0]), data_or_null(g[1]), data_or_null(g[2]), d);
              });
  return {output, h_n, c_n};
}

}  // namespace st
