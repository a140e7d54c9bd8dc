#pragma once
// RunDir: the files of a `strassen train` run directory (see train/trainer.h), and
// make_checkpoint, the one place a training checkpoint is assembled — and refused when the model
// holds a NaN or an infinity, so that no checkpoint is ever written from diverged state.
#include <filesystem>
#include <string>

#include "config/experiment.h"
#include "io/checkpoint.h"
#include "layers/module.h"
#include "train/train_state.h"

namespace st {

class RunDir {
 public:
  // Checks the directory against the intent: with `resume` it must hold last.ckpt, without it it
  // must not (a finished or running run is never overwritten). Throws st::Error naming the path.
  RunDir(const std::string& dir, bool resume);
  std::filesystem::path last() const { return out_ / "last.ckpt"; }
  std::filesystem::path best() const { return out_ / "best.ckpt"; }
  std::filesystem::path phase(size_t index, const std::string& name) const;  // phase<k>_<name>.ckpt
  std::filesystem::path file(const char* name) const { return out_ / name; }
  // Creates the directory and writes config.json.
  void create(const std::string& resolved_config) const;

 private:
  std::filesystem::path out_;
};

// The model's parameters and buffers, the TrainState, the resolved config and the model block
// (checked by check_same_model when the checkpoint is loaded). Throws st::Error naming the first
// parameter or buffer that is not finite ("training diverged: ...").
Checkpoint make_checkpoint(const Module& model, const TrainState& state, const ExperimentConfig& config);

}  // namespace st
