#include "train/run_dir.h"

#include <fstream>

#include "core/error.h"
#include "train/model_state.h"

namespace st {

namespace fs = std::filesystem;

RunDir::RunDir(const std::string& dir, bool resume) : out_(dir) {
  ST_CHECK(!dir.empty(), "train: no run directory given");
  if (resume)
    ST_CHECK(fs::exists(last()), "--resume: no checkpoint '" << last().string() << "' to resume from");
  else
    ST_CHECK(!fs::exists(last()), "run directory '" << out_.string() << "' already holds a checkpoint; pass --resume "
                                                    << "to continue it or choose another --out");
}

fs::path RunDir::phase(size_t index, const std::string& name) const {
  return out_ / ("phase" + std::to_string(index + 1) + "_" + name + ".ckpt");
}

void RunDir::create(const std::string& resolved_config) const {
  fs::create_directories(out_);
  std::ofstream cfg(file("config.json"));
  ST_CHECK(cfg << resolved_config, "cannot write '" << file("config.json").string() << "'");
}

Checkpoint make_checkpoint(const Module& model, const TrainState& state, const ExperimentConfig& c) {
  const std::string bad = first_non_finite(model);
  ST_CHECK(bad.empty(), "training diverged: '" << bad << "' holds a NaN or infinite value after epoch " << state.epoch
                                               << "; the checkpoints of the last finite epoch are kept");
  Checkpoint ck;
  append_model_state(model, &ck);
  write_train_state(state, &ck);
  ck.texts["config"] = c.resolved_json;
  ck.texts["model_config"] = c.model_json;
  return ck;
}

}  // namespace st
