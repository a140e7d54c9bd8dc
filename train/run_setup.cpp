#include "train/run_setup.h"

#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "core/error.h"
#include "data/cifar10.h"
#include "data/cifar_dataset.h"
#include "data/loader.h"
#include "layers/strassen.h"
#include "models/factory.h"
#include "train/classification_task.h"
#include "train/model_state.h"
#include "train/train_loop.h"

namespace st {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> resolve_files(const DataConfig& d, const std::vector<std::string>& names, const char* split) {
  if (names.empty()) return cifar10_split_files(d.dir, split);
  ST_CHECK(fs::is_directory(d.dir), "cifar10: data directory '" << d.dir << "' does not exist");
  std::vector<std::string> out;
  for (const std::string& n : names) out.push_back(fs::path(n).is_absolute() ? n : (fs::path(d.dir) / n).string());
  return out;
}

std::shared_ptr<const Cifar10> read_split(const DataConfig& d, const std::vector<std::string>& names, const char* split) {
  return std::make_shared<const Cifar10>(read_cifar10_files(resolve_files(d, names, split)));
}

std::vector<int64_t> iota_indices(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

LoaderOptions loader_options(const ExperimentConfig& c, bool train) {
  LoaderOptions o;
  o.batch_size = train ? c.data.batch_size : c.data.eval_batch_size;
  o.shuffle = train;
  o.seed = c.seed;
  o.workers = c.data.workers;
  o.prefetch = std::max<int64_t>(3, 2 * c.data.workers);
  return o;
}

void open_cifar10(const ExperimentConfig& c, bool with_train, RunData* out) {
  const DataConfig& d = c.data;
  out->num_classes = Cifar10::kClasses;
  if (with_train) {
    auto train = read_split(d, d.train_files, "train");
    int64_t n = train->size();
    if (d.limit_train > 0) n = std::min(n, d.limit_train);
    ST_CHECK(d.holdout < n, "config '" << c.source << "': data.holdout " << d.holdout
                                       << " leaves no training images out of " << n);
    std::vector<int64_t> train_idx = iota_indices(n), val_idx;
    if (d.holdout > 0) std::tie(train_idx, val_idx) = holdout_split(n, d.holdout, c.seed);
    out->train_examples = static_cast<int64_t>(train_idx.size());
    out->held_out = static_cast<int64_t>(val_idx.size());
    out->train = std::make_unique<Loader>(std::make_shared<CifarDataset>(train, d.train_transform), train_idx,
                                          loader_options(c, true));
    if (!val_idx.empty())
      out->val = std::make_unique<Loader>(std::make_shared<CifarDataset>(train, d.eval_transform), val_idx,
                                          loader_options(c, false));
  }
  auto test = read_split(d, d.test_files, "test");
  out->test_examples = test->size();
  out->test = std::make_unique<Loader>(std::make_shared<CifarDataset>(test, d.eval_transform),
                                       iota_indices(test->size()), loader_options(c, false));
}

}  // namespace

int64_t model_num_classes(const ModelOptions& m) {
  if (m.name == "resnet_cifar") return m.resnet.num_classes;
  if (m.name == "vgg7") return m.vgg.num_classes;
  if (m.name == "resnet18") return m.resnet18.num_classes;
  ST_THROW("model '" << m.name << "' has no known number of classes");
}

RunData open_run_data(const ExperimentConfig& c, bool with_train) {
  ST_CHECK(c.data.dataset == "cifar10", "config '" << c.source << "': data.dataset \"" << c.data.dataset
                                                   << "\": the ImageNet loader does not exist yet (strassen count "
                                                      "reads this config; train and eval cannot)");
  RunData out;
  open_cifar10(c, with_train, &out);
  const int64_t classes = model_num_classes(c.model);
  ST_CHECK(classes >= out.num_classes, "config '" << c.source << "': model.num_classes " << classes << " is fewer than the "
                                                  << out.num_classes << " classes of data.dataset \"" << c.data.dataset
                                                  << "\"");
  return out;
}

std::unique_ptr<Task> make_task(const ExperimentConfig& c, std::shared_ptr<Layer> model, std::shared_ptr<Layer> teacher) {
  DistillOptions d;
  d.lambda = c.distill.lambda;
  d.temperature = c.distill.temperature;
  return std::make_unique<ClassificationTask>(std::move(model), std::move(teacher), d);
}

void check_same_model(const Checkpoint& ck, const ExperimentConfig& c) {
  if (!ck.texts.count("model_config")) return;  // older checkpoints: the tensor check alone
  ST_CHECK(ck.text("model_config") == c.model_json,
           "checkpoint '" << ck.source << "' holds a model other than the one config '" << c.source
                          << "' describes (their \"model\" blocks differ)");
}

std::shared_ptr<Layer> load_trained_model(const ExperimentConfig& c, const Checkpoint& ck) {
  Generator gen(c.seed);
  std::shared_ptr<Layer> model = build_model(c.model, gen);
  load_model_state_exact(ck, *model);
  check_same_model(ck, c);
  if (c.model.strassen.enabled) {
    StrassenMode mode = phase_strassen_mode(c, c.phases.size() - 1);
    if (ck.texts.count("strassen_mode")) mode = parse_strassen_mode(ck.text("strassen_mode"));
    set_strassen_mode(*model, mode);
  }
  model->eval();
  return model;
}

std::shared_ptr<Layer> build_teacher(const ExperimentConfig& c) {
  if (!c.distill.enabled) return nullptr;
  return load_trained_model(load_experiment_config(c.distill.teacher_config), load_checkpoint(c.distill.teacher_checkpoint));
}

void apply_threads(const ExperimentConfig& c) {
  if (c.threads > 0) omp_set_num_threads(static_cast<int>(c.threads));
}

}  // namespace st
