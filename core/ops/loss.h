#pragma once
// Softmax family and classification losses.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace st {

// Along `axis` (negative counts from the end); the shape of x. Stable for any logit magnitude
// (the maximum is subtracted before exponentiating).
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

// logits: [N, C]; labels: N class indices in [0, C) (an index out of range throws naming it).
// Mean over N of -log_softmax(logits)[n, label_n]; returns a scalar (shape []).
// Gradient: (softmax(logits) - onehot(labels)) / N.
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);

// Soft-target cross-entropy for distillation: logits, target_logits: [N, C] of one shape.
// Mean over N of -sum_c softmax(target_logits / T)[n, c] * log_softmax(logits / T)[n, c].
// (The T² factor of Hinton et al. is applied by the distillation loss, not here.) Gradients flow
// to both arguments; pass a detached teacher output to train only the student. temperature > 0.
Tensor soft_cross_entropy(const Tensor& logits, const Tensor& target_logits, real temperature = 1);

}  // namespace st
