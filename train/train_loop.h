#pragma once
// The parts of the training loop: one epoch, one evaluation pass, one phase. run_training
// (train/trainer.h) strings phases together; these functions know nothing of run directories
// beyond the checkpoint writer they are given.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "config/experiment.h"
#include "data/batch.h"
#include "optim/sgd.h"
#include "train/metrics.h"
#include "train/task.h"
#include "train/train_state.h"

namespace st {

using Report = std::vector<std::pair<std::string, double>>;

// One pass of `source` in evaluation mode without gradients; the model's mode is restored.
MetricSums evaluate(Task& task, BatchSource& source);

// What stays fixed through one epoch of training.
struct EpochSetup {
  Task& task;
  BatchSource& train;
  Sgd& sgd;
  double clip_grad_norm = 0;  // 0: off
  uint64_t seed = 0;
  int64_t log_every = 50;
  int64_t epochs_total = 1;   // for the progress label
  bool progress = true;
  MetricsLog* log = nullptr;
  // The learning rate at step `step` of the epoch (0-based) out of `steps`.
  std::function<double(int64_t step, int64_t steps)> lr;
};

struct EpochStats {
  MetricSums sums;
  double lr = 0;       // the last step's
  double seconds = 0;  // training time, evaluation excluded
};

// Trains epoch `epoch` (0-based, global) from step `first_step`. Throws st::Error when the
// training loss becomes NaN or infinite, naming the epoch and step.
EpochStats train_epoch(const EpochSetup& setup, int64_t epoch, int64_t first_step = 0);

// The evaluation sets of a run: test always, validation when data.holdout > 0.
struct EvalSets {
  BatchSource* test = nullptr;
  BatchSource* val = nullptr;  // null: none
};

// What the phase loop reports to its caller.
struct PhaseOutcome {
  Report test;  // after the phase's last epoch
  int64_t epochs_run = 0;
  double best_metric = 0;
};

// Writes the state of the run after an epoch (model + TrainState) to the checkpoint files:
// implemented by the trainer's run directory.
using SaveFn = std::function<void(const TrainState& state, bool improved, bool phase_end)>;

// Runs phase `index` of `config` over global epochs [max(first, resume.epoch), end): a fresh
// optimiser and schedule, or, when `resume` is non-null and belongs to this phase, its momentum,
// plateau state and best metric. Each epoch is logged and saved through `save`.
PhaseOutcome run_phase(const ExperimentConfig& config, size_t index, int64_t first, int64_t end, Task& task,
                       BatchSource& train, const EvalSets& evals, MetricsLog& log, const TrainState* resume,
                       bool progress, const SaveFn& save);

// The mode the Strassen layers are in during phase `index`: the last mode a phase up to it set,
// or the model config's own.
StrassenMode phase_strassen_mode(const ExperimentConfig& config, size_t index);

// "91.37%" for top1/top5, "82.10" for ppl, "0.1234" otherwise: a metric's value as shown.
std::string format_value(const std::string& name, double value);
// "loss 0.1234", "top-1 91.37%", "ppl 82.10": one metric as the console shows it.
std::string format_metric(const std::string& name, double value);
// The report's metrics except the loss, joined by ", " ("top-1 91.37%, top-5 99.70%").
std::string format_scores(const Report& report);

}  // namespace st
