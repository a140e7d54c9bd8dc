#include "train/trainer.h"

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "layers/strassen.h"
#include "data/cifar10.h"
#include "io/checkpoint.h"
#include "models/factory.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/model_state.h"
#include "train/progress.h"

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

std::vector<int64_t> iota_indices(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

LoaderOptions loader_options(const DataConfig& d, bool train, uint64_t seed) {
  LoaderOptions o;
  o.batch_size = train ? d.batch_size : d.eval_batch_size;
  o.shuffle = train;
  o.drop_last = false;
  o.transform = train ? d.train_transform : d.eval_transform;
  o.seed = seed;
  o.prefetch = 3;
  return o;
}

std::shared_ptr<const Cifar10> load_split(const DataConfig& d, const std::vector<std::string>& names, const char* split) {
  return std::make_shared<const Cifar10>(read_cifar10_files(resolve_files(d, names, split)));
}

// Parameter groups: optionally batch-norm parameters and biases (every 1-D parameter) without
// weight decay. `names` receives the parameter names in the optimizer's order.
std::vector<ParamGroup> make_groups(const Module& model, const OptimConfig& o, std::vector<std::string>* names) {
  ParamGroup decay{{}, o.sgd.weight_decay}, no_decay{{}, 0.0};
  std::vector<std::string> decay_names, no_decay_names;
  for (auto& [name, p] : model.named_parameters()) {
    if (o.no_decay_bn_bias && p.dim() <= 1) {
      no_decay.params.push_back(p);
      no_decay_names.push_back(name);
    } else {
      decay.params.push_back(p);
      decay_names.push_back(name);
    }
  }
  *names = decay_names;
  names->insert(names->end(), no_decay_names.begin(), no_decay_names.end());
  return {decay, no_decay};
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The config layer reads ImageNet configs (for `strassen count`), but only CIFAR-10 has a loader.
void require_loader(const ExperimentConfig& c) {
  ST_CHECK(c.data.dataset == "cifar10", "config '" << c.source << "': data.dataset \"" << c.data.dataset
                                                   << "\": the ImageNet loader does not exist yet (strassen count "
                                                      "reads this config; train and eval cannot)");
}

void set_threads(const ExperimentConfig& c) {
  if (c.threads > 0) omp_set_num_threads(static_cast<int>(c.threads));
}

}  // namespace

EvalResult evaluate(Layer& model, CifarLoader& loader) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  EvalResult r;
  double loss_sum = 0;
  int64_t top1 = 0, top5 = 0;
  loader.start_epoch(0);
  Batch b;
  while (loader.next(b)) {
    Tensor logits = model(b.images);
    const int64_t n = static_cast<int64_t>(b.labels.size());
    loss_sum += static_cast<double>(cross_entropy(logits, b.labels).item()) * static_cast<double>(n);
    const TopK k = count_correct(logits, b.labels);
    top1 += k.top1, top5 += k.top5, r.count += n;
  }
  model.train(was_training);
  if (r.count > 0) {
    r.loss = loss_sum / static_cast<double>(r.count);
    r.top1 = static_cast<double>(top1) / static_cast<double>(r.count);
    r.top5 = static_cast<double>(top5) / static_cast<double>(r.count);
  }
  return r;
}

namespace {

// The mode the Strassen layers are in during phase `index`: the last mode a phase up to it set,
// or the model config's own.
StrassenMode phase_mode(const ExperimentConfig& c, size_t index) {
  StrassenMode mode = c.model.strassen.layer.mode;
  for (size_t i = 0; i <= index; ++i)
    if (c.phases[i].has_mode) mode = c.phases[i].mode;
  return mode;
}

}  // namespace

std::shared_ptr<Layer> load_trained_model(const ExperimentConfig& c, const Checkpoint& ck) {
  Generator gen(c.seed);
  std::shared_ptr<Layer> model = build_model(c.model, gen);
  load_model_state(ck, *model);
  if (c.model.strassen.enabled)
    set_strassen_mode(*model, ck.texts.count("strassen_mode") ? parse_strassen_mode(ck.text("strassen_mode"))
                                                              : phase_mode(c, c.phases.size() - 1));
  model->eval();
  return model;
}

namespace {
std::shared_ptr<Layer> load_teacher(const DistillConfig& d) {
  return load_trained_model(load_experiment_config(d.teacher_config), load_checkpoint(d.teacher_checkpoint));
}
// Cross-entropy, or with a teacher the distillation loss of strassennets.md §4:
// (1−λ)·CE(y, z) + λ·T²·CE(softmax(z_t/T), softmax(z/T)). The teacher records no graph.
Tensor training_loss(const Tensor& logits, const Batch& b, Layer* teacher, const DistillConfig& d) {
  Tensor loss = cross_entropy(logits, b.labels);
  if (!teacher) return loss;
  Tensor teacher_logits;
  {
    NoGradGuard no_grad;
    teacher_logits = (*teacher)(b.images);
  }
  const double t = d.temperature;
  Tensor soft = soft_cross_entropy(logits, teacher_logits, static_cast<real>(t));
  return add(mul_scalar(loss, static_cast<real>(1 - d.lambda)), mul_scalar(soft, static_cast<real>(d.lambda * t * t)));
}

}  // namespace

TrainSummary run_training(const ExperimentConfig& c, const TrainRunOptions& opt) {
  require_loader(c);
  set_threads(c);
  ST_CHECK(!opt.out_dir.empty(), "train: no run directory given");
  const fs::path out(opt.out_dir);
  const fs::path last_path = out / "last.ckpt", best_path = out / "best.ckpt";
  if (opt.resume) {
    ST_CHECK(fs::exists(last_path), "--resume: no checkpoint '" << last_path.string() << "' to resume from");
  } else {
    ST_CHECK(!fs::exists(last_path), "run directory '" << out.string() << "' already holds a checkpoint; pass --resume to "
                                                       << "continue it or choose another --out");
  }

  // Data first: a missing or corrupt file fails before anything is written.
  auto train_set = load_split(c.data, c.data.train_files, "train");
  auto test_set = load_split(c.data, c.data.test_files, "test");
  int64_t n_train = train_set->size();
  if (c.data.limit_train > 0) n_train = std::min(n_train, c.data.limit_train);
  ST_CHECK(c.data.holdout < n_train, "config '" << c.source << "': data.holdout " << c.data.holdout
                                                << " leaves no training images out of " << n_train);
  std::vector<int64_t> train_idx = iota_indices(n_train), val_idx;
  if (c.data.holdout > 0) {
    auto split = holdout_split(n_train, c.data.holdout, c.seed);
    train_idx = std::move(split.first);
    val_idx = std::move(split.second);
  }
  CifarLoader train_loader(train_set, train_idx, loader_options(c.data, true, c.seed));
  CifarLoader test_loader(test_set, iota_indices(test_set->size()), loader_options(c.data, false, c.seed));
  std::unique_ptr<CifarLoader> val_loader;
  if (!val_idx.empty()) val_loader = std::make_unique<CifarLoader>(train_set, val_idx, loader_options(c.data, false, c.seed));

  Generator init_gen(c.seed);
  std::shared_ptr<Layer> model = build_model(c.model, init_gen);
  const bool has_strassen = c.model.strassen.enabled;
  std::shared_ptr<Layer> teacher;
  if (c.distill.enabled) teacher = load_teacher(c.distill);

  // Phase p covers the global epochs [phase_start[p], phase_start[p + 1]).
  std::vector<int64_t> phase_start{0};
  for (const PhaseConfig& p : c.phases) phase_start.push_back(phase_start.back() + p.epochs);

  int64_t start_epoch = 0;
  Checkpoint resumed;
  if (opt.resume) {
    resumed = load_checkpoint(last_path.string());
    load_model_state(resumed, *model);
    start_epoch = std::stoll(resumed.text("epoch"));
    ST_CHECK(start_epoch <= c.epochs, "--resume: checkpoint '" << last_path.string() << "' is after epoch " << start_epoch
                                                               << " but the config has only " << c.epochs);
    if (resumed.text("threads") != std::to_string(omp_get_max_threads()))
      std::fprintf(stderr, "warning: resuming with %d threads, the checkpoint was written with %s; results may differ "
                           "in the last bits from an uninterrupted run\n",
                   omp_get_max_threads(), resumed.text("threads").c_str());
    if (resumed.text("config") != c.resolved_json)
      std::fprintf(stderr, "warning: the config differs from the one the checkpoint was trained with\n");
    std::fprintf(stderr, "resuming '%s' after epoch %lld\n", last_path.string().c_str(), static_cast<long long>(start_epoch));
  } else if (!c.init.checkpoint.empty()) {
    const Checkpoint init = load_checkpoint(c.init.checkpoint);
    if (c.init.strict) {
      load_model_state(init, *model);
    } else {
      const std::vector<std::string> missing = load_model_state_present(init, *model);
      std::fprintf(stderr, "init: loaded '%s'; %zu model tensors not in it keep their initial values%s%s\n",
                   c.init.checkpoint.c_str(), missing.size(), missing.empty() ? "" : " (first: ",
                   missing.empty() ? "" : (missing.front() + ")").c_str());
    }
  }

  fs::create_directories(out);
  {
    std::ofstream cfg_out(out / "config.json");
    ST_CHECK(cfg_out << c.resolved_json, "cannot write '" << (out / "config.json").string() << "'");
  }
  MetricsLog log;
  // Log epochs are 1-based: keep what the completed epochs logged, drop the repeated one's lines.
  log.open((out / "metrics.jsonl").string(), opt.resume ? start_epoch + 1 : -1);

  std::fprintf(stderr, "%s: %s, %lld parameters; %lld training images (%lld held out), %lld test images; %d threads\n",
               c.name.c_str(), model->describe().substr(0, 60).c_str(), static_cast<long long>(model->num_parameters()),
               static_cast<long long>(train_idx.size()), static_cast<long long>(val_idx.size()),
               static_cast<long long>(test_set->size()), omp_get_max_threads());

  TrainSummary summary;
  const auto run_start = std::chrono::steady_clock::now();
  const int64_t steps = train_loader.batches_per_epoch();
  for (size_t pi = 0; pi < c.phases.size(); ++pi) {
    const PhaseConfig& ph = c.phases[pi];
    const fs::path phase_path = out / ("phase" + std::to_string(pi + 1) + "_" + ph.name + ".ckpt");
    if (start_epoch >= phase_start[pi + 1]) {  // finished before a --resume: report what it logged
      if (fs::exists(phase_path)) {
        const Checkpoint done = load_checkpoint(phase_path.string());
        PhaseResult r;
        r.name = ph.name;
        r.mode = done.texts.count("strassen_mode") ? done.text("strassen_mode") : "";
        r.test.top1 = std::stod(done.text("test_top1"));
        r.test.top5 = std::stod(done.text("test_top5"));
        summary.phases.push_back(r);
      }
      continue;
    }
    const StrassenMode mode = phase_mode(c, pi);
    if (has_strassen) set_strassen_mode(*model, mode);
    const std::string mode_name = has_strassen ? strassen_mode_name(mode) : "";
    std::vector<std::string> param_names;
    Sgd sgd(make_groups(*model, ph.optim, &param_names), ph.optim.sgd);
    const LrSchedule schedule(ph.schedule.lr);
    ReduceOnPlateau plateau(ph.schedule.plateau_options);
    double plateau_lr = ph.optim.sgd.lr;
    double best_top1 = -1;
    // Within a phase a resumed run continues its optimizer state; a new phase starts afresh.
    if (opt.resume && start_epoch > phase_start[pi] && (resumed.texts.count("phase") ? std::stoul(resumed.text("phase")) : 0) == pi) {
      for (size_t i = 0; i < param_names.size(); ++i) {
        const std::string key = "optim.momentum." + param_names[i];
        if (resumed.has_tensor(key)) sgd.momentum_buffers()[i] = resumed.tensor(key).clone();
      }
      best_top1 = std::stod(resumed.text("best_top1"));
      plateau_lr = std::stod(resumed.text("lr"));
      plateau.set_state(resumed.text("plateau_has_best") == "1", std::stod(resumed.text("plateau_best")),
                        std::stoll(resumed.text("plateau_bad")));
    }
    if (c.phases.size() > 1)
      std::fprintf(stderr, "phase %zu/%zu '%s'%s%s: epochs %lld-%lld, lr %g\n", pi + 1, c.phases.size(), ph.name.c_str(),
                   has_strassen ? ", mode " : "", mode_name.c_str(), static_cast<long long>(phase_start[pi] + 1),
                   static_cast<long long>(phase_start[pi + 1]), ph.optim.sgd.lr);

    auto save = [&](const fs::path& path, int64_t epochs_done, const EvalResult& test) {
      Checkpoint ck;
      append_model_state(*model, &ck);
      for (size_t i = 0; i < param_names.size(); ++i)
        if (sgd.momentum_buffers()[i].defined())
          ck.tensors.emplace_back("optim.momentum." + param_names[i], sgd.momentum_buffers()[i]);
      ck.texts["epoch"] = std::to_string(epochs_done);
      ck.texts["phase"] = std::to_string(pi);
      ck.texts["phase_name"] = ph.name;
      if (has_strassen) ck.texts["strassen_mode"] = mode_name;
      ck.texts["best_top1"] = fmt("%.17g", best_top1);
      ck.texts["test_top1"] = fmt("%.17g", test.top1);
      ck.texts["test_top5"] = fmt("%.17g", test.top5);
      ck.texts["lr"] = fmt("%.17g", plateau_lr);
      ck.texts["plateau_has_best"] = plateau.has_best() ? "1" : "0";
      ck.texts["plateau_best"] = fmt("%.17g", plateau.best());
      ck.texts["plateau_bad"] = std::to_string(plateau.bad_epochs());
      ck.texts["threads"] = std::to_string(omp_get_max_threads());
      ck.texts["seed"] = std::to_string(c.seed);
      ck.texts["config"] = c.resolved_json;
      save_checkpoint(path.string(), ck);
    };

    EvalResult test;
    for (int64_t epoch = std::max(start_epoch, phase_start[pi]); epoch < phase_start[pi + 1]; ++epoch) {
      const int64_t phase_epoch = epoch - phase_start[pi];
      model->train();
      train_loader.start_epoch(epoch);
      Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs), steps, c.data.batch_size,
                        opt.progress);
      double loss_sum = 0, window_loss = 0;
      int64_t seen = 0, correct = 0, window_steps = 0;
      double lr = 0;
      Batch b;
      for (int64_t step = 0; train_loader.next(b); ++step) {
        lr = ph.schedule.plateau ? plateau_lr
                                 : schedule.lr(static_cast<double>(phase_epoch) + static_cast<double>(step) / steps);
        sgd.set_lr(lr);
        Tensor logits = (*model)(b.images);
        Tensor loss = training_loss(logits, b, teacher.get(), c.distill);
        sgd.zero_grad();
        loss.backward();
        if (ph.optim.clip_grad_norm > 0) clip_grad_norm(sgd.parameters(), ph.optim.clip_grad_norm);
        sgd.step();

        const double l = loss.item();
        ST_CHECK(std::isfinite(l), "training diverged: loss is " << l << " at epoch " << epoch + 1 << " step " << step + 1
                                                                << " (lower optim.lr?)");
        const int64_t n = static_cast<int64_t>(b.labels.size());
        loss_sum += l * static_cast<double>(n);
        seen += n;
        correct += count_correct(logits, b.labels).top1;
        window_loss += l;
        ++window_steps;
        progress.update(step + 1, "loss " + fmt("%.4f", loss_sum / static_cast<double>(seen)));
        if ((step + 1) % c.log_every == 0) {
          log.write(JsonLine()
                        .add("type", "step")
                        .add("epoch", epoch + 1)
                        .add("step", step + 1)
                        .add("loss", window_loss / static_cast<double>(window_steps))
                        .add("lr", lr)
                        .add("images_per_s", static_cast<double>(seen) / progress.elapsed_seconds()));
          window_loss = 0;
          window_steps = 0;
        }
      }
      const double train_seconds = progress.elapsed_seconds();
      progress.finish("loss " + fmt("%.4f", loss_sum / std::max<double>(1, static_cast<double>(seen))));

      test = evaluate(*model, test_loader);
      EvalResult val;
      if (val_loader) val = evaluate(*model, *val_loader);
      const double monitored = val_loader ? val.top1 : test.top1;
      if (ph.schedule.plateau)
        plateau_lr = plateau.observe(ph.schedule.plateau_options.mode == "max" ? monitored : (val_loader ? val.loss : test.loss),
                                     plateau_lr);

      JsonLine line;
      line.add("type", "epoch").add("epoch", epoch + 1);
      if (c.phases.size() > 1) line.add("phase", ph.name);
      if (has_strassen) line.add("mode", mode_name);
      line.add("lr", lr)
          .add("train_loss", loss_sum / std::max<double>(1, static_cast<double>(seen)))
          .add("train_top1", static_cast<double>(correct) / std::max<double>(1, static_cast<double>(seen)))
          .add("test_loss", test.loss)
          .add("test_top1", test.top1)
          .add("test_top5", test.top5);
      if (val_loader) line.add("val_loss", val.loss).add("val_top1", val.top1).add("val_top5", val.top5);
      line.add("train_seconds", train_seconds).add("images_per_s", static_cast<double>(seen) / train_seconds);
      log.write(line);
      std::fprintf(stderr, "epoch %lld/%lld: train loss %.4f top-1 %.2f%% | test loss %.4f top-1 %.2f%% top-5 %.2f%%%s\n",
                   static_cast<long long>(epoch + 1), static_cast<long long>(c.epochs),
                   loss_sum / std::max<double>(1, static_cast<double>(seen)),
                   100.0 * static_cast<double>(correct) / std::max<double>(1, static_cast<double>(seen)), test.loss,
                   100 * test.top1, 100 * test.top5,
                   val_loader ? (" | val top-1 " + fmt("%.2f%%", 100 * val.top1)).c_str() : "");

      const bool improved = monitored > best_top1;
      if (improved) best_top1 = monitored;
      // The phase's own checkpoint first: a kill between the two writes repeats this epoch.
      if (epoch + 1 == phase_start[pi + 1] && c.phases.size() > 1) save(phase_path, epoch + 1, test);
      save(last_path, epoch + 1, test);
      if (improved) save(best_path, epoch + 1, test);
      summary.epochs_run++;
      summary.last_test = test;
      summary.best_top1 = best_top1;
    }
    if (c.phases.size() > 1) {
      PhaseResult r;
      r.name = ph.name;
      r.mode = mode_name;
      r.test = test;
      summary.phases.push_back(r);
      log.write(JsonLine()
                    .add("type", "phase")
                    .add("phase", ph.name)
                    .add("mode", mode_name)
                    .add("epochs_done", phase_start[pi + 1])
                    .add("test_top1", test.top1)
                    .add("test_top5", test.top5));
    }
  }
  if (summary.epochs_run == 0 && opt.resume) summary.best_top1 = std::stod(resumed.text("best_top1"));
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

EvalResult evaluate_checkpoint(const ExperimentConfig& c, const std::string& checkpoint_path) {
  require_loader(c);
  set_threads(c);
  const Checkpoint ck = load_checkpoint(checkpoint_path);
  auto test_set = load_split(c.data, c.data.test_files, "test");
  std::shared_ptr<Layer> model = load_trained_model(c, ck);
  CifarLoader loader(test_set, iota_indices(test_set->size()), loader_options(c.data, false, c.seed));
  return evaluate(*model, loader);
}

}  // namespace st
