#pragma once
// One LSTM layer over a whole sequence as a single fused op with its own backward.
#include "core/tensor.h"

namespace st {

struct LstmOutput {
  Tensor output;  // [T, B, H]: h_t for every step
  Tensor h_n;     // [B, H]: last hidden state
  Tensor c_n;     // [B, H]: last cell state
};

// x: [T, B, I]; h0, c0: [B, H] or undefined (zeros); w_ih: [4H, I]; w_hh: [4H, H];
// b_ih, b_hh: [4H] or undefined. Gates in PyTorch's order (input, forget, cell, output):
//   [i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g);  h_t = σ(o) ⊙ tanh(c_t)
// Gradients flow to x, h0, c0, the weights and biases, from any of the three outputs (an output
// nobody uses contributes zero). Shapes are checked against x and w_ih (H = w_ih rows / 4, T >= 1);
// a mismatch throws st::Error naming the shapes.
//
// One graph node for the whole sequence (kernels in core/kernels/lstm.h): it saves the activated
// gates [T, B, 4H] and cell states [T, B, H] as plain buffers, not one node per step. h_n and c_n
// are copies of the last step, not views of output.
LstmOutput lstm(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih, const Tensor& b_hh);

}  // namespace st
