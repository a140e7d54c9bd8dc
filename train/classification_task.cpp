#include "train/classification_task.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/loss.h"
#include "train/distill.h"

namespace st {

namespace {

void add_metrics(const Tensor& logits, const Batch& b, double mean_loss, MetricSums* sums) {
  const int64_t n = b.size();
  const TopK k = count_correct(logits, b.targets);
  sums->count += n;
  sums->loss_sum += mean_loss * static_cast<double>(n);
  sums->top1 += k.top1;
  sums->top5 += k.top5;
}

void require_examples(const Batch& b) {
  ST_CHECK(!b.is_tokens() && b.inputs.defined(), "classification: batch " << b.index << " holds tokens, not examples");
}

}  // namespace

ClassificationTask::ClassificationTask(std::shared_ptr<Layer> model, std::shared_ptr<Layer> teacher,
                                       DistillOptions distill)
    : model_(std::move(model)), teacher_(std::move(teacher)), distill_(distill) {
  ST_CHECK(model_ != nullptr, "classification: null model");
  if (teacher_) teacher_->eval();
}

Tensor ClassificationTask::training_loss(const Batch& b, uint64_t, MetricSums* sums) {
  require_examples(b);
  Tensor logits = (*model_)(b.inputs);
  Tensor loss = cross_entropy(logits, b.targets);
  if (teacher_) {
    Tensor teacher_logits;
    {
      NoGradGuard no_grad;
      teacher_logits = (*teacher_)(b.inputs);
    }
    loss = distillation_loss(loss, logits, teacher_logits, distill_);
  }
  add_metrics(logits, b, loss.item(), sums);
  return loss;
}

void ClassificationTask::evaluate_batch(const Batch& b, MetricSums* sums) {
  require_examples(b);
  Tensor logits = (*model_)(b.inputs);
  add_metrics(logits, b, cross_entropy(logits, b.targets).item(), sums);
}

std::vector<std::pair<std::string, double>> ClassificationTask::report(const MetricSums& s, bool training) const {
  const double n = std::max<double>(1, static_cast<double>(s.count));
  std::vector<std::pair<std::string, double>> r{{"loss", s.loss_sum / n}, {"top1", static_cast<double>(s.top1) / n}};
  if (!training) r.emplace_back("top5", static_cast<double>(s.top5) / n);
  return r;
}

}  // namespace st
