#pragma once
// ExperimentConfig: everything one `strassen train` run needs, read from a JSON config file
// (plus --set overrides) with every key validated. docs/training.md lists the keys.
#include <cstdint>
#include <string>
#include <vector>

#include "data/transforms.h"
#include "models/factory.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

namespace st {

struct DataConfig {
  std::string dataset = "cifar10";        // "cifar10" or "imagenet" (read, but no loader yet)
  std::string dir;                        // STRASSEN_CIFAR10_DIR / STRASSEN_IMAGENET_DIR overrides it
  int64_t image_size = 32;                // input side the dataset feeds the model: 32, 224 (ImageNet)
  std::vector<std::string> train_files;   // relative to dir; empty: data_batch_1..5.bin
  std::vector<std::string> test_files;    // relative to dir; empty: test_batch.bin
  int64_t holdout = 0;                    // training images held out as a validation set
  int64_t limit_train = 0;                // use only the first N training images (0: all)
  int64_t batch_size = 128;
  int64_t eval_batch_size = 500;
  int64_t workers = 1;                    // loader threads building batches (0: on the training thread)
  ImageTransformOptions train_transform;  // augmentation + normalisation for training
  ImageTransformOptions eval_transform;   // normalisation only
};

struct OptimConfig {
  SgdOptions sgd;
  bool no_decay_bn_bias = false;  // exempt batch-norm parameters and biases from weight decay
  double clip_grad_norm = 0;      // 0: off
};

struct ScheduleConfig {
  LrScheduleOptions lr;  // base_lr is optim.lr
  bool plateau = false;  // kind "plateau": reduce-on-plateau on the validation metric
  PlateauOptions plateau_options;
};

// One phase of a run (strassennets.md §4: full-precision SPN, then ternary, then frozen ternary).
// A config without "phases" is one phase made of the top-level epochs, optim and schedule.
struct PhaseConfig {
  std::string name;                  // "phase1", ... unless given
  bool has_mode = false;             // switch every Strassen layer to `mode` when the phase starts
  StrassenMode mode = StrassenMode::SpnFloat;
  int64_t epochs = 1;
  OptimConfig optim;                 // the top-level optim with the phase's keys replacing its own
  ScheduleConfig schedule;           // the phase's schedule (epochs count from the phase start)
};

// Initial weights from another run's checkpoint (not used on --resume).
struct InitConfig {
  std::string checkpoint;  // empty: none
  bool strict = true;      // every model tensor must be in the checkpoint; false: load those present
};

// Knowledge distillation (§4): L = (1-λ)·CE(y, z) + λ·T²·CE(softmax(z_t/T), softmax(z/T)).
struct DistillConfig {
  bool enabled = false;
  std::string teacher_config;      // an experiment config whose "model" block builds the teacher
  std::string teacher_checkpoint;  // its weights
  double lambda = 0.5;
  double temperature = 1;
};

struct ExperimentConfig {
  std::string name;
  std::string source;  // the config file
  uint64_t seed = 1;
  int64_t threads = 0;  // 0: OpenMP's default (all cores)
  int64_t epochs = 1;      // all phases together
  int64_t log_every = 50;  // steps between metrics lines
  DataConfig data;
  ModelOptions model;
  OptimConfig optim;        // the first phase's
  ScheduleConfig schedule;  // the first phase's
  std::vector<PhaseConfig> phases;  // at least one
  InitConfig init;
  DistillConfig distill;
  std::string resolved_json;  // the fully resolved config (defaults filled in), pretty-printed
  std::string model_json;     // its "model" block on one line: what checkpoints are checked against
};

// Reads and validates `path` after applying the "key.path=value" overrides. Throws st::Error
// naming the file and the key for unknown keys, wrong types and out-of-range values (model sizes
// have upper bounds; names that become file names are restricted to [A-Za-z0-9._-]), and naming
// the file for a missing file, a directory, invalid JSON or nesting deeper than kMaxJsonDepth.
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from a config's text; `source` names it in messages (tests/fuzz/fuzz_config.cpp).
ExperimentConfig parse_experiment_config(const std::string& text, const std::string& source,
                                         const std::vector<std::string>& overrides = {});

}  // namespace st
