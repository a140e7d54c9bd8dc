#pragma once
// From a config to the objects a run is made of: the data (one BatchSource per split), the model,
// its Task, and the distillation teacher. `strassen train` and `strassen eval` build through
// these; a new dataset is one more case of open_run_data, a new kind of problem one more Task.
#include <memory>
#include <string>

#include "config/experiment.h"
#include "data/batch.h"
#include "io/checkpoint.h"
#include "layers/layer.h"
#include "train/task.h"

namespace st {

struct RunData {
  std::unique_ptr<BatchSource> train, val, test;  // train and val null when not asked for / no holdout
  int64_t train_examples = 0, held_out = 0, test_examples = 0;
  int64_t num_classes = 0;  // targets are in [0, num_classes)
  const char* unit = "images";
};

// Reads the config's data (the train split only with `with_train`), checking it against the
// model before anything is trained: a model with fewer outputs than the data has classes is an
// error naming model.num_classes. Throws st::Error naming the file or the key at fault.
RunData open_run_data(const ExperimentConfig& config, bool with_train);

// The number of logits the config's model produces.
int64_t model_num_classes(const ModelOptions& model);

// The run's Task over `model` (with `teacher` when distilling; null otherwise).
std::unique_ptr<Task> make_task(const ExperimentConfig& config, std::shared_ptr<Layer> model,
                                std::shared_ptr<Layer> teacher);

// The distillation teacher of `config` (distill.teacher_config with distill.teacher_checkpoint's
// weights), in evaluation mode; null without distillation.
std::shared_ptr<Layer> build_teacher(const ExperimentConfig& config);

// The config's model with a checkpoint's weights (the checkpoint must hold exactly this model:
// load_model_state_exact), its Strassen layers in the mode the checkpoint was saved in (the
// config's last phase's mode for checkpoints that do not say), in eval mode.
std::shared_ptr<Layer> load_trained_model(const ExperimentConfig& config, const Checkpoint& ckpt);

// Throws st::Error when the checkpoint records a "model" config block other than `config`'s.
void check_same_model(const Checkpoint& ckpt, const ExperimentConfig& config);

// Sets OpenMP's thread count from config.threads (0: leave OpenMP's default).
void apply_threads(const ExperimentConfig& config);

}  // namespace st
