#pragma once
// Temporal convolution followed by the max over time, as one op: the feature of a character-aware
// language model (Kim, Jernite, Sontag, Rush 2016), where every word's characters are convolved
// and only each filter's largest response is kept. One op, because the [N, L − w + 1, F] responses
// are needed only for their maximum: the backward keeps the position of each maximum, not them.
#include "core/tensor.h"

namespace st {

// x: [N, L, E], N sequences (words) of L steps (characters) of E features (their embeddings);
// weight: [F, w, E], F filters of width w (1 <= w <= L); bias: [F] or undefined. Returns [N, F]:
//   y[n, f] = bias[f] + max_{0 <= t <= L − w} sum_{k < w} sum_{e < E} x[n, t + k, e] · weight[f, k, e]
// That is PyTorch's Conv1d(E, F, w) without padding on x transposed to [N, E, L] (its weight
// [F, E, w] is this weight transposed), then the max over the L − w + 1 positions. The weight is
// [F, w, E] so that a window of x, w·E consecutive values, meets a weight row of w·E values.
// The gradient flows to the first maximal position of each (n, f), as max() does. N may be 0.
// Throws st::Error naming the shapes when x or weight is not 3-D, their E differ, w is not in
// [1, L], or bias is not [F].
//
// Forward: one GEMM per block of words over their windows (copied into rows of w·E, positions
// that would straddle two words left out); backward: for each (n, f) only the window at the
// maximum, N·F·w·E multiply-adds for each of dx and dweight.
Tensor conv_max_over_time(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace st
