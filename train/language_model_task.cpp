#include "train/language_model_task.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/loss.h"
#include "data/sampler.h"
#include "train/distill.h"

namespace st {

namespace {

void require_tokens(const Batch& b) {
  ST_CHECK(b.is_tokens() && b.size() == b.rows * b.steps,
           "language model: batch " << b.index << " is not a block of tokens");
}

void detach_all(std::vector<Tensor>& state) {
  for (Tensor& t : state) t = t.detach();
}

void add_metrics(const Batch& b, double mean_loss, MetricSums* sums) {
  sums->count += b.size();
  sums->loss_sum += mean_loss * static_cast<double>(b.size());
}

}  // namespace

LanguageModelTask::LanguageModelTask(std::shared_ptr<SequenceModel> model, std::shared_ptr<SequenceModel> teacher,
                                     DistillOptions distill)
    : model_(std::move(model)), teacher_(std::move(teacher)), distill_(distill) {
  ST_CHECK(model_ != nullptr, "language model: null model");
  if (teacher_) {
    ST_CHECK(teacher_->vocabulary() == model_->vocabulary(), "language model: the teacher's vocabulary of "
                                                                 << teacher_->vocabulary() << " words is not the model's "
                                                                 << model_->vocabulary());
    teacher_->eval();
  }
}

void LanguageModelTask::start_pass() {
  state_.clear();
  teacher_state_.clear();
}

Tensor LanguageModelTask::teacher_logits(const Batch& b) {
  NoGradGuard no_grad;
  Tensor logits = teacher_->forward(b.tokens, b.rows, b.steps, teacher_state_);
  detach_all(teacher_state_);
  return logits;
}

Tensor LanguageModelTask::training_loss(const Batch& b, uint64_t seed, MetricSums* sums) {
  require_tokens(b);
  // The dropout stream of (seed, epoch, batch), derived as the loader derives its epoch streams.
  model_->dropout_generator().set_seed(derive_epoch_seed(seed, b.epoch, static_cast<uint64_t>(b.index)));
  Tensor logits = model_->forward(b.tokens, b.rows, b.steps, state_);
  detach_all(state_);
  Tensor loss = cross_entropy(logits, b.targets);
  add_metrics(b, loss.item(), sums);
  if (teacher_) loss = distillation_loss(loss, logits, teacher_logits(b), distill_);
  return loss;
}

void LanguageModelTask::evaluate_batch(const Batch& b, MetricSums* sums) {
  require_tokens(b);
  Tensor logits = model_->forward(b.tokens, b.rows, b.steps, state_);
  detach_all(state_);
  add_metrics(b, cross_entropy(logits, b.targets).item(), sums);
}

std::vector<std::pair<std::string, double>> LanguageModelTask::report(const MetricSums& s, bool) const {
  const double loss = s.loss_sum / std::max<double>(1, static_cast<double>(s.count));
  return {{"loss", loss}, {"ppl", std::exp(loss)}};
}

}  // namespace st
