#pragma once
// LanguageModelTask: a SequenceModel on token batches (data/token_streams.h). Loss = mean
// cross-entropy per token (the gradient of the batch-mean loss); metrics loss and ppl =
// exp(loss) per token. The recurrent state is carried from batch to batch, detached (truncated
// back-propagation through time), and reset at the start of every pass. A distillation teacher,
// another SequenceModel, carries its own state alongside.
#include <memory>
#include <vector>

#include "layers/sequence_model.h"
#include "train/task.h"

namespace st {

class LanguageModelTask : public Task {
 public:
  explicit LanguageModelTask(std::shared_ptr<SequenceModel> model, std::shared_ptr<SequenceModel> teacher = nullptr,
                             DistillOptions distill = {});

  Module& model() override { return *model_; }
  void start_pass() override;
  Tensor training_loss(const Batch& batch, uint64_t seed, MetricSums* sums) override;
  void evaluate_batch(const Batch& batch, MetricSums* sums) override;
  std::vector<std::pair<std::string, double>> report(const MetricSums& sums, bool training) const override;
  Monitor monitor() const override { return {"ppl", false}; }
  const char* unit() const override { return "tokens"; }

 private:
  Tensor teacher_logits(const Batch& batch);

  std::shared_ptr<SequenceModel> model_, teacher_;
  DistillOptions distill_;
  std::vector<Tensor> state_, teacher_state_;
};

}  // namespace st
