#pragma once
// The distillation loss of strassennets.md §4, from a hard loss and both models' logits:
// (1 − λ)·hard_loss + λ·T²·CE(softmax(teacher_logits/T), softmax(logits/T)).
#include "core/tensor.h"
#include "train/task.h"

namespace st {

Tensor distillation_loss(const Tensor& hard_loss, const Tensor& logits, const Tensor& teacher_logits,
                         const DistillOptions& d);

}  // namespace st
