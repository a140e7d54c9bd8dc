#pragma once
// Task: what differs between learning problems — how a batch goes through the model, the loss
// (with distillation from a teacher) and the metrics. The training loop (train/train_loop.h),
// evaluation and `strassen eval` see only this interface.
//
//   ClassificationTask  a Layer on example batches ([B, ...] inputs, [B] labels): cross-entropy,
//                       top-1, top-5 (train/classification_task.h)
//   LanguageModelTask   a SequenceModel on token batches: cross-entropy per token, perplexity, the
//                       recurrent state carried from batch to batch and detached, reset at the
//                       start of every pass (train/language_model_task.h)
//
// Distillation (strassennets.md §4): L = (1 − λ)·CE(y, z) + λ·T²·CE(softmax(z_t/T), softmax(z/T)),
// the teacher in evaluation mode recording no graph.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/batch.h"
#include "layers/module.h"
#include "train/metrics.h"

namespace st {

// Sums over the batches of one pass; they add across batches (and across ranks).
struct MetricSums {
  int64_t count = 0;    // examples, or tokens
  double loss_sum = 0;  // Σ of the per-example (per-token) loss
  int64_t top1 = 0, top5 = 0;  // classification

  void add(const MetricSums& o) { count += o.count, loss_sum += o.loss_sum, top1 += o.top1, top5 += o.top5; }
};

struct DistillOptions {
  double lambda = 0.5;
  double temperature = 1;
};

// The metric that picks the best checkpoint (and drives a plateau schedule in its direction).
struct Monitor {
  std::string name;  // a name report() gives, e.g. "top1" or "ppl"
  bool higher_is_better = true;
};

class Task {
 public:
  virtual ~Task() = default;

  // The trained model (parameters, buffers, train/eval mode).
  virtual Module& model() = 0;
  // Before every pass over a BatchSource (a training epoch, an evaluation): resets carried state.
  virtual void start_pass() {}
  // Training step's forward: the loss to back-propagate (distillation included when a teacher is
  // set); adds the batch's loss and metrics into `sums`. `seed` positions any dropout
  // Generator for (seed, batch.epoch, batch.index).
  virtual Tensor training_loss(const Batch& batch, uint64_t seed, MetricSums* sums) = 0;
  // Evaluation forward (the caller sets eval mode and disables gradients); adds into `sums`.
  virtual void evaluate_batch(const Batch& batch, MetricSums* sums) = 0;
  // Named metrics from sums, in logging order: training = the subset logged for training.
  virtual std::vector<std::pair<std::string, double>> report(const MetricSums& sums, bool training) const = 0;
  virtual Monitor monitor() const = 0;
  // What count() counts, for messages and throughput: "images", "tokens".
  virtual const char* unit() const = 0;
};

// The value of `name` in `report`; throws st::Error when absent.
double metric(const std::vector<std::pair<std::string, double>>& report, const std::string& name);

}  // namespace st
