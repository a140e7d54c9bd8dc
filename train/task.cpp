#include "train/task.h"

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "train/distill.h"

namespace st {

double metric(const std::vector<std::pair<std::string, double>>& report, const std::string& name) {
  for (const auto& [n, v] : report)
    if (n == name) return v;
  ST_THROW("no metric '" << name << "' in this task's report");
}

// (1 − λ)·CE + λ·T²·soft-CE, shared by both tasks (train/distill.h).
Tensor distillation_loss(const Tensor& hard_loss, const Tensor& logits, const Tensor& teacher_logits,
                         const DistillOptions& d) {
  const double t = d.temperature;
  Tensor soft = soft_cross_entropy(logits, teacher_logits, static_cast<real>(t));
  return add(mul_scalar(hard_loss, static_cast<real>(1 - d.lambda)), mul_scalar(soft, static_cast<real>(d.lambda * t * t)));
}

}  // namespace st
