// Naive LSTM references: one step, one row, one unit at a time, accumulating in double. They
// share no code with core/kernels/lstm.cpp (no GEMM, no Eigen), so the tests can check the fused
// kernels against them.
#include <cmath>
#include <vector>

#include "core/kernels/lstm.h"

namespace st {

namespace {

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Activated gates of every step in double: acts[(t*B + b)*4H + k] (σ(i), σ(f), tanh(g), σ(o)),
// with the states h, c [T*B, H] (double) written alongside.
void reference_states(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w,
                      std::vector<double>& acts, std::vector<double>& h, std::vector<double>& c) {
  const int64_t T = s.T, B = s.B, I = s.I, H = s.H, G = 4 * H;
  acts.assign(T * B * G, 0.0);
  h.assign(T * B * H, 0.0);
  c.assign(T * B * H, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b) {
      const int64_t row = t * B + b;
      double* a = &acts[row * G];
      for (int64_t k = 0; k < G; ++k) {
        double v = (w.b_ih ? w.b_ih[k] : 0.0) + (w.b_hh ? w.b_hh[k] : 0.0);
        for (int64_t j = 0; j < I; ++j) v += double(x[row * I + j]) * w.w_ih[k * I + j];
        for (int64_t j = 0; j < H; ++j) {
          const double hp = t > 0 ? h[(row - B) * H + j] : (h0 ? double(h0[b * H + j]) : 0.0);
          v += hp * w.w_hh[k * H + j];
        }
        a[k] = (k >= 2 * H && k < 3 * H) ? std::tanh(v) : sigmoid(v);
      }
      for (int64_t j = 0; j < H; ++j) {
        const double cp = t > 0 ? c[(row - B) * H + j] : (c0 ? double(c0[b * H + j]) : 0.0);
        const double ct = a[H + j] * cp + a[j] * a[2 * H + j];
        c[row * H + j] = ct;
        h[row * H + j] = a[3 * H + j] * std::tanh(ct);
      }
    }
}

}  // namespace

void lstm_forward_reference(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w,
                            real* h, real* c) {
  std::vector<double> acts, hd, cd;
  reference_states(s, x, h0, c0, w, acts, hd, cd);
  for (size_t i = 0; i < hd.size(); ++i) h[i] = static_cast<real>(hd[i]), c[i] = static_cast<real>(cd[i]);
}

void lstm_backward_reference(const LstmSizes& s, const real* x, const real* h0, const real* c0,
                             const LstmWeights& w, const real* dh_out, const real* dh_n, const real* dc_n,
                             const LstmGrads& g) {
  const int64_t T = s.T, B = s.B, I = s.I, H = s.H, G = 4 * H;
  std::vector<double> acts, h, c;
  reference_states(s, x, h0, c0, w, acts, h, c);
  // dh, dc [B, H]: gradient w.r.t. h_t, c_t from later steps; dgate [4H] for one row.
  std::vector<double> dh(B * H, 0.0), dc(B * H, 0.0), dh_prev(B * H), dgate(G);
  for (int64_t i = 0; i < B * H; ++i) {
    if (dh_n) dh[i] = dh_n[i];
    if (dc_n) dc[i] = dc_n[i];
  }
  for (int64_t t = T - 1; t >= 0; --t) {
    for (int64_t i = 0; i < B * H; ++i) dh_prev[i] = 0;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t row = t * B + b;
      const double* a = &acts[row * G];
      for (int64_t j = 0; j < H; ++j) {
        const double i_ = a[j], f = a[H + j], gc = a[2 * H + j], o = a[3 * H + j];
        const double cp = t > 0 ? c[(row - B) * H + j] : (c0 ? double(c0[b * H + j]) : 0.0);
        const double tc = std::tanh(c[row * H + j]);
        const double dhv = dh[b * H + j] + (dh_out ? dh_out[row * H + j] : 0.0);
        const double dcv = dc[b * H + j] + dhv * o * (1 - tc * tc);
        dgate[j] = dcv * gc * i_ * (1 - i_);
        dgate[H + j] = dcv * cp * f * (1 - f);
        dgate[2 * H + j] = dcv * i_ * (1 - gc * gc);
        dgate[3 * H + j] = dhv * tc * o * (1 - o);
        dc[b * H + j] = dcv * f;
      }
      for (int64_t k = 0; k < G; ++k) {
        const double d = dgate[k];
        if (g.db_ih) g.db_ih[k] += static_cast<real>(d);
        if (g.db_hh) g.db_hh[k] += static_cast<real>(d);
        for (int64_t j = 0; j < I; ++j) {
          if (g.dw_ih) g.dw_ih[k * I + j] += static_cast<real>(d * x[row * I + j]);
          if (g.dx) g.dx[row * I + j] += static_cast<real>(d * w.w_ih[k * I + j]);
        }
        for (int64_t j = 0; j < H; ++j) {
          const double hp = t > 0 ? h[(row - B) * H + j] : (h0 ? double(h0[b * H + j]) : 0.0);
          if (g.dw_hh) g.dw_hh[k * H + j] += static_cast<real>(d * hp);
          dh_prev[b * H + j] += d * w.w_hh[k * H + j];
        }
      }
    }
    dh = dh_prev;
  }
  for (int64_t i = 0; i < B * H; ++i) {
    if (g.dh0) g.dh0[i] += static_cast<real>(dh[i]);
    if (g.dc0) g.dc0[i] += static_cast<real>(dc[i]);
  }
}

}  // namespace st
