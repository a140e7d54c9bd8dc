#include "train/trainer.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/checkpoint.h"
#include "layers/strassen.h"
#include "models/factory.h"
#include "train/model_state.h"
#include "train/run_dir.h"
#include "train/run_setup.h"
#include "train/train_state.h"

namespace st {

namespace fs = std::filesystem;

namespace {

TrainState read_resume_state(const RunDir& dir, const ExperimentConfig& c, Module& model) {
  const Checkpoint ck = load_checkpoint(dir.last().string());
  load_model_state_exact(ck, model);
  check_same_model(ck, c);
  TrainState s = read_train_state(ck);
  ST_CHECK(s.epoch <= c.epochs, "--resume: checkpoint '" << ck.source << "' is after epoch " << s.epoch
                                                         << " but the config has only " << c.epochs);
  ST_CHECK(s.phase < static_cast<int64_t>(c.phases.size()),
           "--resume: checkpoint '" << ck.source << "' is in phase " << s.phase + 1 << " but the config has only "
                                    << c.phases.size());
  if (s.threads != omp_get_max_threads())
    std::fprintf(stderr, "warning: resuming with %d threads, the checkpoint was written with %lld; results may differ "
                         "in the last bits from an uninterrupted run\n",
                 omp_get_max_threads(), static_cast<long long>(s.threads));
  if (ck.texts.count("config") && ck.text("config") != c.resolved_json)
    std::fprintf(stderr, "warning: the config differs from the one the checkpoint was trained with\n");
  std::fprintf(stderr, "resuming '%s' after epoch %lld\n", ck.source.c_str(), static_cast<long long>(s.epoch));
  return s;
}

void load_init(const InitConfig& init, Module& model) {
  if (init.checkpoint.empty()) return;
  const Checkpoint ck = load_checkpoint(init.checkpoint);
  if (init.strict) return load_model_state(ck, model);
  const std::vector<std::string> missing = load_model_state_present(ck, model);
  std::fprintf(stderr, "init: loaded '%s'; %zu model tensors not in it keep their initial values%s%s\n",
               init.checkpoint.c_str(), missing.size(), missing.empty() ? "" : " (first: ",
               missing.empty() ? "" : (missing.front() + ")").c_str());
}

void print_start(const ExperimentConfig& c, const Layer& model, const RunData& d) {
  std::fprintf(stderr, "%s: %s, %lld parameters; %lld training %s (%lld held out), %lld test %s; %d threads\n",
               c.name.c_str(), model.describe().substr(0, 60).c_str(), static_cast<long long>(model.num_parameters()),
               static_cast<long long>(d.train_examples), d.unit, static_cast<long long>(d.held_out),
               static_cast<long long>(d.test_examples), d.unit, omp_get_max_threads());
}

// The result a phase finished before a --resume left in its checkpoint.
bool finished_phase(const RunDir& dir, const ExperimentConfig& c, size_t index, PhaseResult* out) {
  const fs::path path = dir.phase(index, c.phases[index].name);
  if (!fs::exists(path)) return false;
  const TrainState s = read_train_state(load_checkpoint(path.string()));
  *out = PhaseResult{c.phases[index].name, s.strassen_mode, s.last_eval};
  return true;
}

// Orders the Report of a checkpoint's last evaluation as the task reports it (loss first).
Report ordered(Report r) {
  std::stable_partition(r.begin(), r.end(), [](const auto& m) { return m.first == "loss"; });
  return r;
}

}  // namespace

TrainSummary run_training(const ExperimentConfig& c, const TrainRunOptions& opt, std::shared_ptr<Layer> teacher) {
  apply_threads(c);
  const RunDir dir(opt.out_dir, opt.resume);
  RunData data = open_run_data(c, true);  // data first: a bad file fails before anything is written
  Generator init_gen(c.seed);
  std::shared_ptr<Layer> model = build_model(c.model, init_gen);
  std::unique_ptr<Task> task = make_task(c, model, std::move(teacher));

  TrainState resumed;
  if (opt.resume)
    resumed = read_resume_state(dir, c, *model);
  else
    load_init(c.init, *model);
  dir.create(c.resolved_json);
  MetricsLog log;
  // Log epochs are 1-based: keep what the completed epochs logged, drop the repeated one's lines.
  log.open(dir.file("metrics.jsonl").string(), opt.resume ? resumed.epoch + 1 : -1);
  print_start(c, *model, data);

  TrainSummary summary;
  summary.monitor = task->monitor();
  summary.best = resumed.best_metric;
  const auto run_start = std::chrono::steady_clock::now();
  int64_t first = 0;
  for (size_t pi = 0; pi < c.phases.size(); ++pi) {
    const PhaseConfig& ph = c.phases[pi];
    const int64_t end = first + ph.epochs;
    const bool multi = c.phases.size() > 1;
    if (opt.resume && resumed.epoch >= end) {  // finished before a --resume: report what it logged
      PhaseResult r;
      if (multi && finished_phase(dir, c, pi, &r)) summary.phases.push_back({r.name, r.mode, ordered(r.test)});
      first = end;
      continue;
    }
    const SaveFn save = [&](const TrainState& state, bool improved, bool phase_end) {
      const Checkpoint ck = make_checkpoint(*model, state, c);
      if (improved) save_checkpoint(dir.best().string(), ck);
      if (phase_end) save_checkpoint(dir.phase(pi, ph.name).string(), ck);
      save_checkpoint(dir.last().string(), ck);
    };
    const EvalSets evals{data.test.get(), data.val.get()};
    const PhaseOutcome o = run_phase(c, pi, first, end, *task, *data.train, evals, log, opt.resume ? &resumed : nullptr,
                                     opt.progress, save);
    summary.epochs_run += o.epochs_run;
    summary.best = o.best_metric;
    if (o.epochs_run > 0) summary.last_test = o.test;
    if (multi) {
      const std::string mode = c.model.strassen.enabled ? strassen_mode_name(phase_strassen_mode(c, pi)) : "";
      summary.phases.push_back({ph.name, mode, o.test});
      JsonLine line;
      line.add("type", "phase").add("phase", ph.name).add("mode", mode).add("epochs_done", end);
      for (const auto& [name, value] : o.test)
        if (name != "loss") line.add("test_" + name, value);
      log.write(line);
    }
    first = end;
  }
  summary.checksum = model_checksum(*model);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  return summary;
}

void export_ternary(const ExperimentConfig& c, const std::string& checkpoint_path, const std::string& out_path) {
  ST_CHECK(c.model.strassen.enabled, "export: config '" << c.source << "' has no Strassen layers (model.strassen) to fold");
  Checkpoint ck = load_checkpoint(checkpoint_path);
  std::shared_ptr<Layer> model = load_trained_model(c, ck);
  fold_ternary_scales(*model);
  Checkpoint out;
  append_model_state(*model, &out);
  out.texts = ck.texts;
  out.texts["folded"] = "1";
  out.texts["folded_from"] = checkpoint_path;
  save_checkpoint(out_path, out);
}

EvalSummary evaluate_checkpoint(const ExperimentConfig& c, const std::string& checkpoint_path) {
  apply_threads(c);
  RunData data = open_run_data(c, false);
  const Checkpoint ck = load_checkpoint(checkpoint_path);
  std::unique_ptr<Task> task = make_task(c, load_trained_model(c, ck), nullptr);
  const MetricSums sums = evaluate(*task, *data.test);
  return EvalSummary{sums.count, task->unit(), task->report(sums, false)};
}

}  // namespace st
