#pragma once
// ClassificationTask: a Layer mapping example batches [B, ...] to logits [B, classes]; loss =
// cross-entropy (with an optional distillation teacher, another Layer over the same inputs);
// metrics loss, top1, top5 (training logs loss and top1).
#include <memory>

#include "layers/layer.h"
#include "train/task.h"

namespace st {

class ClassificationTask : public Task {
 public:
  // teacher: null for none; it is put in evaluation mode.
  explicit ClassificationTask(std::shared_ptr<Layer> model, std::shared_ptr<Layer> teacher = nullptr,
                              DistillOptions distill = {});

  Module& model() override { return *model_; }
  Layer& layer() { return *model_; }
  Tensor training_loss(const Batch& batch, uint64_t seed, MetricSums* sums) override;
  void evaluate_batch(const Batch& batch, MetricSums* sums) override;
  std::vector<std::pair<std::string, double>> report(const MetricSums& sums, bool training) const override;
  Monitor monitor() const override { return {"top1", true}; }
  const char* unit() const override { return "images"; }

 private:
  std::shared_ptr<Layer> model_, teacher_;
  DistillOptions distill_;
};

}  // namespace st
