#pragma once
// The training run of `strassen train` and the evaluation of `strassen eval`.
//
// A run directory holds: config.json (the fully resolved config), metrics.jsonl (one JSON
// object per logged step and per epoch), last.ckpt (after every epoch), best.ckpt (the best
// epoch of the current phase by the task's monitored metric: validation when there is a
// hold-out, else test) and, for multi-phase runs, phase<k>_<name>.ckpt at each phase's end.
// Checkpoints carry the model and the TrainState (train/train_state.h), so that --resume after a
// kill continues to exactly the weights of an uninterrupted run with the same thread count.
//
// Writes after an epoch go best, phase, last: last.ckpt is the commit point, so a kill before it
// repeats the epoch on --resume, which rewrites the same files; the run ends with exactly the
// files of an uninterrupted one. No checkpoint is written from non-finite state: a NaN or
// infinite loss (training or evaluation), parameter or buffer stops the run with a message naming
// it, and the checkpoints of the last finite epoch stay.
//
// Phases (config "phases"): each phase sets the Strassen layers' mode, gets a fresh optimiser
// (momentum reset) and its own schedule counted from the phase's first epoch.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/experiment.h"
#include "layers/layer.h"
#include "train/train_loop.h"

namespace st {

struct TrainRunOptions {
  std::string out_dir;   // created if missing
  bool resume = false;   // continue from out_dir/last.ckpt
  bool progress = true;  // progress display on stderr
};

struct PhaseResult {
  std::string name, mode;  // mode: the Strassen mode, empty without Strassen layers
  Report test;             // after the phase's last epoch
};

struct TrainSummary {
  int64_t epochs_run = 0;           // in this invocation
  std::vector<PhaseResult> phases;  // multi-phase runs: one per finished phase
  Report last_test;
  Monitor monitor;
  double best = 0;       // best monitored value of the last phase
  std::string checksum;  // model_checksum() of the final weights
  double seconds = 0;
};

// `teacher`: the distillation teacher (build_teacher(config)), null without distillation.
TrainSummary run_training(const ExperimentConfig& config, const TrainRunOptions& options,
                          std::shared_ptr<Layer> teacher = nullptr);

// Writes the export form of a trained ternary Strassen model to out_path: W_b and W_c exactly
// {−1, 0, 1} with the scales folded into ã and the hidden BN statistics (fold_ternary_scales),
// so that `strassen eval` on it gives the same results. Throws unless the checkpoint's layers are
// ternary (spn_ternary / ternary_frozen) with the TWN rule (or fixed with step 1).
void export_ternary(const ExperimentConfig& config, const std::string& checkpoint_path, const std::string& out_path);

struct EvalSummary {
  int64_t count = 0;
  const char* unit = "images";
  Report metrics;
};
// Evaluates a checkpoint (exactly the config's model) on the config's test split.
EvalSummary evaluate_checkpoint(const ExperimentConfig& config, const std::string& checkpoint_path);

}  // namespace st
