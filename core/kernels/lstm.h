#pragma once
// LSTM kernels over a whole sequence, on raw row-major buffers (no autograd; core/ops/lstm.cpp
// wraps them). Gates are in PyTorch's order (input, forget, cell, output):
//   [i f g o]_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t)
//
// Buffer shapes (T steps, B batch rows, I inputs, H hidden units; a time-major sequence [T, B, *]
// is stored as [T*B, *]):
//   x      [T*B, I]     h0, c0 [B, H] (nullptr: zeros)
//   w_ih   [4H, I]      w_hh [4H, H]      b_ih, b_hh [4H] (nullptr: absent)
//   h, c   [T*B, H]     h_t and c_t of every step
//   gates  [T*B, 4H]    the activated gates σ(i), σ(f), tanh(g), σ(o) of every step, per row in
//                       that order: what the backward needs besides h and c
#include <cstdint>

#include "core/real.h"

namespace st {

struct LstmSizes {
  int64_t T = 0, B = 0, I = 0, H = 0;
};

struct LstmWeights {
  const real* w_ih = nullptr;  // [4H, I]
  const real* w_hh = nullptr;  // [4H, H]
  const real* b_ih = nullptr;  // [4H] or nullptr
  const real* b_hh = nullptr;  // [4H] or nullptr
};

// Gradient buffers; each nullptr is skipped, the others are accumulated into (+=).
struct LstmGrads {
  real* dx = nullptr;     // [T*B, I]
  real* dh0 = nullptr;    // [B, H]
  real* dc0 = nullptr;    // [B, H]
  real* dw_ih = nullptr;  // [4H, I]
  real* dw_hh = nullptr;  // [4H, H]
  real* db_ih = nullptr;  // [4H]
  real* db_hh = nullptr;  // [4H]
};

// Forward: one GEMM for the input projections of all steps, then per step a GEMM for the
// recurrent projection and the fused gate pointwise math. Writes h, c and gates.
void lstm_forward(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w, real* h,
                  real* c, real* gates);

// Backward through time from the forward's saved h, c and gates. Incoming gradients:
// dh_out [T*B, H] (w.r.t. h of every step), dh_n and dc_n [B, H] (w.r.t. the last h and c); any
// may be nullptr (zero). Accumulates into the non-null buffers of `g`.
void lstm_backward(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w,
                   const real* h, const real* c, const real* gates, const real* dh_out, const real* dh_n,
                   const real* dc_n, const LstmGrads& g);

// Naive references (plain loops, double accumulation, one step at a time) for tests and
// benchmarks, with the same contracts as above. The forward reference writes only h and c.
void lstm_forward_reference(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w,
                            real* h, real* c);
void lstm_backward_reference(const LstmSizes& s, const real* x, const real* h0, const real* c0,
                             const LstmWeights& w, const real* dh_out, const real* dh_n, const real* dc_n,
                             const LstmGrads& g);

}  // namespace st
