#pragma once
// The training loop of `strassen train` and the evaluation of `strassen eval`.
//
// A run directory holds: config.json (the fully resolved config), metrics.jsonl (one JSON
// object per logged step and per epoch), last.ckpt (after every epoch) and best.ckpt (the best
// validation top-1; the test split when there is no hold-out). Checkpoints carry the model, the
// optimizer's momentum, the epoch, the learning-rate state and the seed, so that --resume after
// a kill continues to exactly the weights of an uninterrupted run with the same thread count:
// every source of randomness (initialisation, shuffling, augmentation) is a pure function of
// (seed, epoch, position).
//
// Phases (config "phases"): each phase sets the Strassen layers' mode, gets a fresh optimizer
// (momentum reset) and its own schedule counted from the phase's first epoch; its end writes
// phase<k>_<name>.ckpt. best.ckpt holds the best epoch of the current (in the end: the last) phase.
// A resumed run continues inside a phase with its momentum, or starts the next phase afresh.
// With "distill", the teacher runs in evaluation mode without recording a graph.
#include <string>

#include "config/experiment.h"
#include "layers/layer.h"
#include "data/loader.h"
#include "io/checkpoint.h"
#include "train/metrics.h"

namespace st {

struct TrainRunOptions {
  std::string out_dir;   // created if missing
  bool resume = false;   // continue from out_dir/last.ckpt
  bool progress = true;  // progress display on stderr
};

struct PhaseResult {
  std::string name, mode;  // mode: the Strassen mode, empty without Strassen layers
  EvalResult test;         // after the phase's last epoch (top1/top5 only for phases done before a --resume)
};

struct TrainSummary {
  int64_t epochs_run = 0;    // in this invocation
  std::vector<PhaseResult> phases;  // multi-phase runs: one per finished phase
  EvalResult last_test;
  double best_top1 = 0;
  std::string checksum;  // model_checksum() of the final weights
  double seconds = 0;
};

TrainSummary run_training(const ExperimentConfig& config, const TrainRunOptions& options);

// Mean loss, top-1 and top-5 of `model` in evaluation mode over one pass of `loader`.
EvalResult evaluate(Layer& model, CifarLoader& loader);

// The config's model with a checkpoint's weights, its Strassen layers in the mode the checkpoint
// was saved in (the config's last phase's mode for checkpoints that do not say), in eval mode.
std::shared_ptr<Layer> load_trained_model(const ExperimentConfig& config, const Checkpoint& ckpt);

// Writes the export form of a trained ternary Strassen model to out_path: W_b and W_c exactly
// {−1, 0, 1} with the scales folded into ã and the hidden BN statistics (fold_ternary_scales),
// so that `strassen eval` on it gives the same results. Throws unless the checkpoint's layers are
// ternary (spn_ternary / ternary_frozen) with the TWN rule (or fixed with step 1).
void export_ternary(const ExperimentConfig& config, const std::string& checkpoint_path, const std::string& out_path);

// Evaluates a checkpoint on the config's test split.
EvalResult evaluate_checkpoint(const ExperimentConfig& config, const std::string& checkpoint_path);

}  // namespace st
