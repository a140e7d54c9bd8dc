#include "train/train_loop.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/autograd.h"
#include "core/error.h"
#include "layers/strassen.h"
#include "optim/schedule.h"
#include "train/progress.h"

namespace st {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Parameter groups: optionally batch-norm parameters and biases (every 1-D parameter) without
// weight decay. `names` receives the parameter names in the optimiser's order.
std::vector<ParamGroup> make_groups(const Module& model, const OptimConfig& o, std::vector<std::string>* names) {
  ParamGroup decay{{}, o.sgd.weight_decay}, no_decay{{}, 0.0};
  std::vector<std::string> decay_names, no_decay_names;
  for (auto& [name, p] : model.named_parameters()) {
    const bool exempt = o.no_decay_bn_bias && p.dim() <= 1;
    (exempt ? no_decay : decay).params.push_back(p);
    (exempt ? no_decay_names : decay_names).push_back(name);
  }
  *names = decay_names;
  names->insert(names->end(), no_decay_names.begin(), no_decay_names.end());
  return {decay, no_decay};
}

void log_step(MetricsLog* log, const Task& task, int64_t epoch, int64_t step, double loss, double lr, double rate) {
  if (!log) return;
  log->write(JsonLine()
                 .add("type", "step")
                 .add("epoch", epoch + 1)
                 .add("step", step + 1)
                 .add("loss", loss)
                 .add("lr", lr)
                 .add(std::string(task.unit()) + "_per_s", rate));
}

}  // namespace

StrassenMode phase_strassen_mode(const ExperimentConfig& c, size_t index) {
  StrassenMode mode = c.model.strassen.layer.mode;
  for (size_t i = 0; i <= index; ++i)
    if (c.phases[i].has_mode) mode = c.phases[i].mode;
  return mode;
}

std::string format_value(const std::string& name, double value) {
  if (name == "top1" || name == "top5") return fmt("%.2f%%", 100 * value);
  if (name == "ppl") return fmt("%.2f", value);
  return fmt("%.4f", value);
}

std::string format_metric(const std::string& name, double value) {
  const std::string label = name == "top1" ? "top-1" : name == "top5" ? "top-5" : name;
  return label + " " + format_value(name, value);
}

std::string format_scores(const Report& report) {
  std::string out;
  for (const auto& [name, value] : report)
    if (name != "loss") out += (out.empty() ? "" : ", ") + format_metric(name, value);
  return out;
}

MetricSums evaluate(Task& task, BatchSource& source) {
  NoGradGuard no_grad;
  Module& model = task.model();
  const bool was_training = model.is_training();
  model.eval();
  task.start_pass();
  MetricSums sums;
  source.start_epoch(0);
  Batch b;
  while (source.next(b)) task.evaluate_batch(b, &sums);
  model.train(was_training);
  return sums;
}

EpochStats train_epoch(const EpochSetup& s, int64_t epoch, int64_t first_step) {
  s.task.model().train();
  s.task.start_pass();
  s.train.start_epoch(epoch, first_step);
  const int64_t steps = s.train.batches_per_epoch();
  Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(s.epochs_total), steps,
                    s.train.examples_per_epoch() / std::max<int64_t>(1, steps), s.progress);
  EpochStats stats;
  double window_loss = 0;
  int64_t window_steps = 0;
  Batch b;
  for (int64_t step = first_step; s.train.next(b); ++step) {
    stats.lr = s.lr(step, steps);
    s.sgd.set_lr(stats.lr);
    Tensor loss = s.task.training_loss(b, s.seed, &stats.sums);
    s.sgd.zero_grad();
    loss.backward();
    if (s.clip_grad_norm > 0) clip_grad_norm(s.sgd.parameters(), s.clip_grad_norm);
    s.sgd.step();
    const double l = loss.item();
    ST_CHECK(std::isfinite(l), "training diverged: loss is " << l << " at epoch " << epoch + 1 << " step " << step + 1
                                                            << " (lower optim.lr?)");
    window_loss += l;
    ++window_steps;
    const double seen = static_cast<double>(stats.sums.count);
    progress.update(step + 1, "loss " + fmt("%.4f", stats.sums.loss_sum / seen));
    if ((step + 1) % s.log_every == 0) {
      log_step(s.log, s.task, epoch, step, window_loss / static_cast<double>(window_steps), stats.lr,
               seen / progress.elapsed_seconds());
      window_loss = 0;
      window_steps = 0;
    }
  }
  stats.seconds = progress.elapsed_seconds();
  progress.finish("loss " + fmt("%.4f", stats.sums.loss_sum / std::max<double>(1, static_cast<double>(stats.sums.count))));
  return stats;
}

namespace {

// One phase's optimiser, schedule and the state that carries across its epochs.
struct PhaseRun {
  std::vector<std::string> param_names;
  Sgd sgd;
  LrSchedule schedule;
  ReduceOnPlateau plateau;
  double plateau_lr;
  double best;
  PhaseRun(const Module& model, const PhaseConfig& ph, bool higher_is_better)
      : sgd(make_groups(model, ph.optim, &param_names), ph.optim.sgd),
        schedule(ph.schedule.lr),
        plateau(ph.schedule.plateau_options),
        plateau_lr(ph.optim.sgd.lr),
        best(higher_is_better ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity()) {}

  void restore(const TrainState& r) {
    for (auto& [name, m] : r.momentum)
      for (size_t i = 0; i < param_names.size(); ++i)
        if (param_names[i] == name) sgd.momentum_buffers()[i] = m.clone();
    best = r.best_metric;
    plateau_lr = r.lr;
    plateau.set_state(r.plateau_has_best, r.plateau_best, r.plateau_bad);
  }

  TrainState state(const ExperimentConfig& c, size_t index, const std::string& mode) {
    TrainState s;
    s.phase = static_cast<int64_t>(index);
    s.phase_name = c.phases[index].name;
    s.strassen_mode = mode;
    s.lr = plateau_lr;
    s.plateau_has_best = plateau.has_best();
    s.plateau_best = plateau.best();
    s.plateau_bad = plateau.bad_epochs();
    s.best_metric = best;
    s.seed = c.seed;
    s.threads = omp_get_max_threads();
    for (size_t i = 0; i < param_names.size(); ++i)
      s.momentum.emplace_back(param_names[i], sgd.momentum_buffers()[i]);
    return s;
  }
};

Report with_prefix(const std::string& prefix, const Report& r) {
  Report out;
  for (const auto& [name, value] : r) out.emplace_back(prefix + name, value);
  return out;
}

// Evaluation after an epoch; a non-finite loss is divergence, reported before anything is saved.
Report checked_eval(Task& task, BatchSource& source, const char* split, int64_t epoch) {
  const Report r = task.report(evaluate(task, source), false);
  const double loss = metric(r, "loss");
  ST_CHECK(std::isfinite(loss), "training diverged: " << split << " loss is " << loss << " after epoch " << epoch + 1
                                                      << "; the checkpoints of the last finite epoch are kept");
  return r;
}

// The epoch's line in metrics.jsonl and on the console.
struct EpochRecord {
  int64_t epoch;
  std::string phase, mode;  // phase: empty for single-phase runs; mode: empty without Strassen layers
  const EpochStats* stats;
  Report train, test;
  const Report* val;  // null: no validation set
};

void log_epoch(MetricsLog& log, const Task& task, const EpochRecord& e) {
  JsonLine line;
  line.add("type", "epoch").add("epoch", e.epoch + 1);
  if (!e.phase.empty()) line.add("phase", e.phase);
  if (!e.mode.empty()) line.add("mode", e.mode);
  line.add("lr", e.stats->lr);
  for (const auto& [name, value] : with_prefix("train_", e.train)) line.add(name, value);
  for (const auto& [name, value] : with_prefix("test_", e.test)) line.add(name, value);
  if (e.val)
    for (const auto& [name, value] : with_prefix("val_", *e.val)) line.add(name, value);
  line.add("train_seconds", e.stats->seconds)
      .add(std::string(task.unit()) + "_per_s", static_cast<double>(e.stats->sums.count) / e.stats->seconds);
  log.write(line);
}

void print_epoch(const Task& task, const EpochRecord& e, int64_t epochs_total) {
  std::string train, test;
  for (const auto& [name, value] : e.train) train += " " + format_metric(name, value);
  for (const auto& [name, value] : e.test) test += " " + format_metric(name, value);
  const std::string monitored = task.monitor().name;
  const std::string val = e.val ? " | val " + format_metric(monitored, metric(*e.val, monitored)) : "";
  std::fprintf(stderr, "epoch %lld/%lld: train%s | test%s%s\n", static_cast<long long>(e.epoch + 1),
               static_cast<long long>(epochs_total), train.c_str(), test.c_str(), val.c_str());
}

// The plateau schedule observes the monitored metric when its mode points the same way, else the
// loss (a "min" plateau on a classification run watches the loss).
double plateau_signal(const ScheduleConfig& sc, const Monitor& m, const Report& r) {
  const bool wants_max = sc.plateau_options.mode == "max";
  return wants_max == m.higher_is_better ? metric(r, m.name) : metric(r, "loss");
}

}  // namespace

PhaseOutcome run_phase(const ExperimentConfig& c, size_t index, int64_t first, int64_t end, Task& task,
                       BatchSource& train, const EvalSets& evals, MetricsLog& log, const TrainState* resume,
                       bool progress, const SaveFn& save) {
  const PhaseConfig& ph = c.phases[index];
  const bool has_strassen = c.model.strassen.enabled;
  const StrassenMode mode = phase_strassen_mode(c, index);
  if (has_strassen) set_strassen_mode(task.model(), mode);
  const std::string mode_name = has_strassen ? strassen_mode_name(mode) : "";
  const Monitor monitor = task.monitor();
  PhaseRun run(task.model(), ph, monitor.higher_is_better);
  const int64_t start = resume ? std::max(first, resume->epoch) : first;
  if (resume && resume->epoch > first && resume->phase == static_cast<int64_t>(index))
    run.restore(*resume);  // within a phase a resumed run continues its optimiser state
  if (c.phases.size() > 1)
    std::fprintf(stderr, "phase %zu/%zu '%s'%s%s: epochs %lld-%lld, lr %g\n", index + 1, c.phases.size(),
                 ph.name.c_str(), has_strassen ? ", mode " : "", mode_name.c_str(), static_cast<long long>(first + 1),
                 static_cast<long long>(end), ph.optim.sgd.lr);
  EpochSetup setup{task, train, run.sgd, ph.optim.clip_grad_norm, c.seed, c.log_every, c.epochs, progress, &log, {}};
  PhaseOutcome out;
  out.best_metric = run.best;
  for (int64_t epoch = start; epoch < end; ++epoch) {
    const double phase_epoch = static_cast<double>(epoch - first);
    setup.lr = [&](int64_t step, int64_t steps) {
      return ph.schedule.plateau ? run.plateau_lr : run.schedule.lr(phase_epoch + static_cast<double>(step) / steps);
    };
    const EpochStats stats = train_epoch(setup, epoch);
    EpochRecord rec{epoch, c.phases.size() > 1 ? ph.name : "", mode_name, &stats, task.report(stats.sums, true), {}, nullptr};
    rec.test = checked_eval(task, *evals.test, "test", epoch);
    Report val;
    if (evals.val) val = checked_eval(task, *evals.val, "validation", epoch), rec.val = &val;
    const Report& watched = evals.val ? val : rec.test;
    if (ph.schedule.plateau) run.plateau_lr = run.plateau.observe(plateau_signal(ph.schedule, monitor, watched), run.plateau_lr);
    log_epoch(log, task, rec);
    print_epoch(task, rec, c.epochs);
    const double m = metric(watched, monitor.name);
    const bool improved = monitor.higher_is_better ? m > run.best : m < run.best;
    if (improved) run.best = m;
    TrainState state = run.state(c, index, mode_name);
    state.epoch = epoch + 1;
    state.last_eval = rec.test;
    save(state, improved, epoch + 1 == end && c.phases.size() > 1);
    out.test = rec.test;
    out.best_metric = run.best;
    ++out.epochs_run;
  }
  return out;
}

}  // namespace st
