#include "config/experiment.h"

#include <cstdlib>

#include "config/json_reader.h"

namespace st {

namespace {

constexpr int64_t kMaxClasses = 100000;
constexpr double kMaxHiddenRatio = 16;  // the paper's largest is r = 4 c_out; the configs go to 6

// A string value for a message: JSON-quoted and abbreviated (it may be long or hold newlines).
std::string json_quoted(const std::string& value) { return abbreviated(nlohmann::json(value)); }

// Names that become file or directory names (the run directory, phase<k>_<name>.ckpt): refused
// at load time, not when the first file is written after hours of training.
void check_file_name(JsonReader& r, const std::string& key, const std::string& value, const char* use) {
  const bool ok = !value.empty() && value.size() <= 64 && value != "." && value != ".." &&
                  value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                      std::string::npos;
  if (!ok) r.fail(key, "= " + json_quoted(value) + " must be 1 to 64 letters, digits, '.', '-' or '_' (" + use + ")");
}

// An integer key in [lo, hi]; the bound says why where it is not obvious.
int64_t get_in_range(JsonReader& r, const std::string& key, int64_t fallback, int64_t lo, int64_t hi,
                     const std::string& why = "") {
  const int64_t v = r.get<int64_t>(key, fallback);
  if (v < lo || v > hi)
    r.fail(key, "= " + std::to_string(v) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]" +
                    (why.empty() ? "" : " (" + why + ")"));
  return v;
}

void read_transform(JsonReader r, ImageTransformOptions* t, bool augment) {
  if (augment) {
    t->pad_crop = r.get<int64_t>("pad_crop", t->pad_crop);
    if (t->pad_crop < 0 || t->pad_crop > 16) r.fail("pad_crop", "= " + std::to_string(t->pad_crop) + " must be in [0, 16]");
    t->horizontal_flip = r.get<bool>("flip", t->horizontal_flip);
  }
  const std::vector<double> mean = r.get<std::vector<double>>("mean", {t->mean[0], t->mean[1], t->mean[2]});
  const std::vector<double> std_ = r.get<std::vector<double>>("std", {t->stddev[0], t->stddev[1], t->stddev[2]});
  if (mean.size() != 3) r.fail("mean", "must have 3 values (one per channel)");
  if (std_.size() != 3) r.fail("std", "must have 3 values (one per channel)");
  for (int c = 0; c < 3; ++c) {
    if (!(std_[c] > 0)) r.fail("std", "values must be positive");
    t->mean[c] = static_cast<float>(mean[c]);
    t->stddev[c] = static_cast<float>(std_[c]);
  }
  r.finish();
}

void read_data(JsonReader r, DataConfig* d) {
  d->dataset = r.get<std::string>("dataset", d->dataset);
  // ImageNet configs are read (strassen count uses them) but there is no ImageNet loader yet:
  // train/trainer.cpp refuses them.
  const bool imagenet = d->dataset == "imagenet";
  if (d->dataset != "cifar10" && !imagenet)
    r.fail("dataset", "= " + json_quoted(d->dataset) + " is not supported (known: \"cifar10\", \"imagenet\")");
  d->image_size = imagenet ? 224 : 32;
  const char* dir_env = imagenet ? "STRASSEN_IMAGENET_DIR" : "STRASSEN_CIFAR10_DIR";
  d->dir = r.get<std::string>("dir", "");
  if (const char* env = std::getenv(dir_env); env && *env) {
    d->dir = env;
    r.set_resolved("dir", d->dir);
  }
  if (d->dir.empty()) r.fail("dir", std::string("is required (or set ") + dir_env + ")");
  if (imagenet)
    for (const char* key : {"train_files", "test_files"})
      if (r.has(key)) r.fail(key, "is a cifar10 key (ImageNet is read from the folders under data.dir)");
  // Read (and so recorded in the resolved config) only for CIFAR-10: an ImageNet config's
  // resolved copy must load again, and there these keys are errors.
  if (!imagenet) {
    d->train_files = r.get<std::vector<std::string>>("train_files", {});
    d->test_files = r.get<std::vector<std::string>>("test_files", {});
  }
  d->holdout = r.get<int64_t>("holdout", d->holdout);
  if (d->holdout < 0) r.fail("holdout", "must be >= 0");
  d->limit_train = r.get<int64_t>("limit_train", d->limit_train);
  if (d->limit_train < 0) r.fail("limit_train", "must be >= 0");
  d->batch_size = r.get<int64_t>("batch_size", d->batch_size);
  if (d->batch_size < 1 || d->batch_size > 65536) r.fail("batch_size", "must be in [1, 65536]");
  d->eval_batch_size = r.get<int64_t>("eval_batch_size", d->eval_batch_size);
  if (d->eval_batch_size < 1 || d->eval_batch_size > 65536) r.fail("eval_batch_size", "must be in [1, 65536]");
  d->workers = r.get<int64_t>("workers", d->workers);
  if (d->workers < 0 || d->workers > 256) r.fail("workers", "must be in [0, 256]");
  d->train_transform.pad_crop = imagenet ? 0 : 4;
  d->train_transform.horizontal_flip = true;
  if (imagenet) {  // the ImageNet channel statistics, 0..255 units
    d->train_transform.mean = {123.675f, 116.28f, 103.53f};
    d->train_transform.stddev = {58.395f, 57.12f, 57.375f};
  }
  read_transform(r.child("augment"), &d->train_transform, true);
  d->eval_transform = d->train_transform;
  d->eval_transform.pad_crop = 0;
  d->eval_transform.horizontal_flip = false;
  r.finish();
}

StrassenMode read_mode(JsonReader& r, const std::string& key, const std::string& fallback) {
  const std::string mode = r.get<std::string>(key, fallback);
  try {
    return parse_strassen_mode(mode);
  } catch (const Error&) {
    r.fail(key, "= " + json_quoted(mode) + " is not a mode (dense, spn_fp, spn_ternary, ternary_b, ternary_c, ternary_frozen)");
  }
}

// "quantizer": "twn" | "fixed" (with "fixed_step") | "ttq" (with "ttq_threshold").
void read_quantizer(JsonReader& r, TernaryQuantizerOptions* q) {
  const std::string name = r.get<std::string>("quantizer", std::string("twn"));
  try {
    q->rule = parse_ternary_rule(name);
  } catch (const Error&) {
    r.fail("quantizer", "= " + json_quoted(name) + " is not a quantizer (twn, fixed, ttq)");
  }
  if (q->rule == TernaryRule::Fixed) {
    q->fixed_step = static_cast<real>(r.get<double>("fixed_step", 1.0));
    if (!(q->fixed_step > 0)) r.fail("fixed_step", "must be positive");
  }
  if (q->rule == TernaryRule::Ttq) {
    q->ttq_threshold = static_cast<real>(r.get<double>("ttq_threshold", 0.05));
    if (q->ttq_threshold < 0 || q->ttq_threshold >= 1) r.fail("ttq_threshold", "must be in [0, 1)");
  }
}

void read_strassen(JsonReader r, StrassenModelOptions* s) {
  s->enabled = true;
  s->hidden_ratio = r.get<double>("hidden_ratio", s->hidden_ratio);
  if (!(s->hidden_ratio > 0 && s->hidden_ratio <= kMaxHiddenRatio))
    r.fail("hidden_ratio", "must be in (0, 16] (r = hidden_ratio x c_out)");
  s->out_patch = r.get<int64_t>("out_patch", s->out_patch);
  if (s->out_patch < 1 || s->out_patch > 8) r.fail("out_patch", "must be in [1, 8]");
  s->groups = get_in_range(r, "groups", s->groups, 1, 1024);
  s->compress_first = r.get<bool>("compress_first", s->compress_first);
  s->compress_shortcuts = r.get<bool>("compress_shortcuts", s->compress_shortcuts);
  s->compress_fc = r.get<bool>("compress_fc", s->compress_fc);
  s->uncompressed = r.get<std::vector<std::string>>("uncompressed", {});
  if (r.has("ratios")) {
    JsonReader ratios = r.child("ratios");
    for (const std::string& prefix : ratios.keys()) {
      const double v = ratios.get<double>(prefix, 1.0);
      if (!(v > 0 && v <= kMaxHiddenRatio))
        ratios.fail(prefix, "must be in (0, 16] (r / c_out of the layers under that name)");
      s->ratios.emplace_back(prefix, v);
    }
    ratios.finish();
  }
  s->layer.mode = read_mode(r, "mode", "spn_fp");
  read_quantizer(r, &s->layer.quant);
  r.finish();
}

void read_ternary(JsonReader r, TernaryModelOptions* t) {
  t->enabled = true;
  read_quantizer(r, &t->quant);
  t->compress_first = r.get<bool>("compress_first", t->compress_first);
  t->fc = r.get<std::vector<std::string>>("fc", {});
  r.finish();
}

void read_model(JsonReader r, ModelOptions* m) {
  m->name = r.require<std::string>("name");
  if (r.has("strassen")) read_strassen(r.child("strassen"), &m->strassen);
  if (r.has("ternary")) {
    if (m->strassen.enabled) r.fail("ternary", "cannot be combined with 'strassen' (the Strassen block has its own quantizer)");
    read_ternary(r.child("ternary"), &m->ternary);
  }
  // Upper bounds on the model sizes: a typo (depth 600002, base_width 1000000) must be an error
  // naming the key before any work starts, not an exhausted memory or an hour of building. Each
  // bound is well above the architectures in use (ResNet-1202 is the deepest CIFAR ResNet of
  // He et al.; widths 16x / 4x the standard ones; ImageNet-21k has 21,841 classes).
  if (m->name == "resnet_cifar") {
    m->resnet.depth = r.get<int64_t>("depth", m->resnet.depth);
    if (m->resnet.depth < 8 || m->resnet.depth > 1202 || (m->resnet.depth - 2) % 6 != 0)
      r.fail("depth", "= " + std::to_string(m->resnet.depth) + " must be 6n+2 in [8, 1202] (20, 32, 44, 56, ...)");
    const std::string shortcut = r.get<std::string>("shortcut", std::string(1, m->resnet.shortcut));
    if (shortcut != "A" && shortcut != "B") r.fail("shortcut", "= " + json_quoted(shortcut) + " must be \"A\" or \"B\"");
    m->resnet.shortcut = shortcut[0];
    m->resnet.base_width = get_in_range(r, "base_width", m->resnet.base_width, 1, 256);
    m->resnet.num_classes = get_in_range(r, "num_classes", m->resnet.num_classes, 1, kMaxClasses);
  } else if (m->name == "vgg7") {
    m->vgg.num_classes = get_in_range(r, "num_classes", m->vgg.num_classes, 1, kMaxClasses);
    m->vgg.width = r.get<double>("width", m->vgg.width);
    // 1/128 keeps the narrowest layer (128 channels at width 1) at one channel.
    if (!(m->vgg.width >= 1.0 / 128 && m->vgg.width <= 4)) r.fail("width", "must be in [1/128, 4]");
  } else if (m->name == "resnet18") {
    m->resnet18.num_classes = get_in_range(r, "num_classes", m->resnet18.num_classes, 1, kMaxClasses);
    m->resnet18.base_width = get_in_range(r, "base_width", m->resnet18.base_width, 1, 256);
  } else {
    r.fail("name", "= " + json_quoted(m->name) + " is not a known model (known: \"resnet_cifar\", \"vgg7\", \"resnet18\")");
  }
  r.finish();
}

void read_optim(JsonReader r, OptimConfig* o) {
  SgdOptions& s = o->sgd;
  s.lr = r.get<double>("lr", s.lr);
  if (!(s.lr > 0)) r.fail("lr", "must be positive");
  s.momentum = r.get<double>("momentum", 0.9);
  if (s.momentum < 0 || s.momentum >= 1) r.fail("momentum", "must be in [0, 1)");
  s.nesterov = r.get<bool>("nesterov", s.nesterov);
  if (s.nesterov && s.momentum == 0) r.fail("nesterov", "needs momentum > 0");
  s.weight_decay = r.get<double>("weight_decay", 1e-4);
  if (s.weight_decay < 0) r.fail("weight_decay", "must be >= 0");
  o->no_decay_bn_bias = r.get<bool>("no_decay_bn_bias", o->no_decay_bn_bias);
  o->clip_grad_norm = r.get<double>("clip_grad_norm", o->clip_grad_norm);
  if (o->clip_grad_norm < 0) r.fail("clip_grad_norm", "must be >= 0 (0 = off)");
  r.finish();
}

void read_schedule(JsonReader r, ScheduleConfig* s, double base_lr, int64_t epochs) {
  using Kind = LrScheduleOptions::Kind;
  LrScheduleOptions& l = s->lr;
  l.base_lr = base_lr;
  const std::string kind = r.get<std::string>("kind", "constant");
  if (kind == "constant") {
    l.kind = Kind::Constant;
  } else if (kind == "multistep") {
    l.kind = Kind::MultiStep;
    l.milestones = r.require<std::vector<int64_t>>("milestones");
    for (size_t i = 0; i < l.milestones.size(); ++i)
      if (l.milestones[i] < 1 || (i && l.milestones[i] <= l.milestones[i - 1]))
        r.fail("milestones", "must be increasing epochs >= 1");
  } else if (kind == "step") {
    l.kind = Kind::Step;
    l.step_size = r.require<int64_t>("step_size");
    if (l.step_size < 1) r.fail("step_size", "must be >= 1");
  } else if (kind == "cosine") {
    l.kind = Kind::Cosine;
    l.total_epochs = r.get<int64_t>("total_epochs", epochs);
    if (l.total_epochs < 1) r.fail("total_epochs", "must be >= 1");
    l.min_lr = r.get<double>("min_lr", 0.0);
    if (l.min_lr < 0) r.fail("min_lr", "must be >= 0");
  } else if (kind == "plateau") {
    l.kind = Kind::Constant;
    s->plateau = true;
    PlateauOptions& p = s->plateau_options;
    p.mode = r.get<std::string>("mode", std::string("max"));
    if (p.mode != "min" && p.mode != "max") r.fail("mode", "must be \"min\" or \"max\"");
    p.factor = r.get<double>("factor", 0.5);
    if (!(p.factor > 0 && p.factor < 1)) r.fail("factor", "must be in (0, 1)");
    p.threshold = r.get<double>("threshold", 1e-4);
    if (p.threshold < 0) r.fail("threshold", "must be >= 0");
    p.absolute_threshold = r.get<bool>("absolute_threshold", false);
    p.patience = r.get<int64_t>("patience", 0);
    if (p.patience < 0) r.fail("patience", "must be >= 0");
    p.min_lr = r.get<double>("min_lr", 0.0);
  } else {
    r.fail("kind", "= " + json_quoted(kind) + " is not a schedule (known: constant, multistep, step, cosine, plateau)");
  }
  if (kind == "multistep" || kind == "step") {
    l.gamma = r.get<double>("gamma", l.gamma);
    if (!(l.gamma > 0 && l.gamma <= 1)) r.fail("gamma", "must be in (0, 1]");
  }
  l.warmup_epochs = r.get<double>("warmup_epochs", 0.0);
  if (l.warmup_epochs < 0) r.fail("warmup_epochs", "must be >= 0");
  if (l.warmup_epochs > 0) {
    l.warmup_start_factor = r.get<double>("warmup_start_factor", l.warmup_start_factor);
    if (l.warmup_start_factor < 0 || l.warmup_start_factor > 1) r.fail("warmup_start_factor", "must be in [0, 1]");
  }
  r.finish();
}

void read_phase(JsonReader r, PhaseConfig* p, size_t index, bool strassen) {
  p->name = r.get<std::string>("name", "phase" + std::to_string(index + 1));
  check_file_name(r, "name", p->name, "it names the phase's checkpoint file");
  if (r.has("mode")) {
    if (!strassen) r.fail("mode", "needs a model with Strassen layers (a model.strassen block)");
    p->has_mode = true;
    p->mode = read_mode(r, "mode", "spn_fp");
  }
  p->epochs = r.require<int64_t>("epochs");
  if (p->epochs < 1 || p->epochs > 100000) r.fail("epochs", "must be in [1, 100000]");
  read_optim(r.child("optim"), &p->optim);
  read_schedule(r.child("schedule"), &p->schedule, p->optim.sgd.lr, p->epochs);
  r.finish();
}

void read_init(JsonReader r, InitConfig* i) {
  i->checkpoint = r.require<std::string>("checkpoint");
  if (i->checkpoint.empty()) r.fail("checkpoint", "must not be empty");
  i->strict = r.get<bool>("strict", i->strict);
  r.finish();
}

void read_distill(JsonReader r, DistillConfig* d) {
  d->enabled = true;
  d->teacher_config = r.require<std::string>("teacher_config");
  d->teacher_checkpoint = r.require<std::string>("teacher_checkpoint");
  d->lambda = r.get<double>("lambda", d->lambda);
  if (d->lambda < 0 || d->lambda > 1) r.fail("lambda", "must be in [0, 1]");
  d->temperature = r.get<double>("temperature", d->temperature);
  if (!(d->temperature > 0)) r.fail("temperature", "must be positive");
  r.finish();
}

// "phases": each phase inherits the top-level optim (its own keys replace those keys) and the
// top-level schedule unless it gives its own. The phases then carry the whole optimisation setup,
// so the top-level optim/schedule are folded in and removed.
void expand_phases(nlohmann::json& json, const std::string& path) {
  const nlohmann::json& phases = json["phases"];
  ST_CHECK(phases.is_array() && !phases.empty(),
           "config '" << path << "': key 'phases' must be a non-empty array of phase objects");
  ST_CHECK(!json.contains("epochs"), "config '" << path << "': key 'epochs' is given per phase when 'phases' is set");
  const nlohmann::json top_optim = json.value("optim", nlohmann::json::object());
  const nlohmann::json top_schedule = json.value("schedule", nlohmann::json::object());
  ST_CHECK(top_optim.is_object(), "config '" << path << "': key 'optim' must be an object");
  for (size_t i = 0; i < phases.size(); ++i) {
    nlohmann::json& p = json["phases"][i];
    ST_CHECK(p.is_object(), "config '" << path << "': key 'phases[" << i << "]' must be an object");
    nlohmann::json optim = top_optim;
    if (p.contains("optim")) {
      ST_CHECK(p["optim"].is_object(), "config '" << path << "': key 'phases[" << i << "].optim' must be an object");
      optim.merge_patch(p["optim"]);
    }
    p["optim"] = optim;
    if (!p.contains("schedule")) p["schedule"] = top_schedule;
  }
  json.erase("optim");
  json.erase("schedule");
}

ExperimentConfig from_json(nlohmann::json json, const std::string& path, const std::vector<std::string>& overrides) {
  for (const std::string& o : overrides) apply_override(json, o);
  ST_CHECK(json.is_object(), "config '" << path << "': the top level must be an object");
  const bool phased = json.contains("phases");
  if (phased) expand_phases(json, path);
  JsonReader r(json, path);
  ExperimentConfig c;
  c.source = path;
  c.name = r.get<std::string>("name", "experiment");
  check_file_name(r, "name", c.name, "it names the run directory runs/<name>");
  c.seed = r.get<uint64_t>("seed", c.seed);
  c.threads = r.get<int64_t>("threads", c.threads);
  if (c.threads < 0 || c.threads > 1024) r.fail("threads", "must be in [0, 1024] (0 = all cores)");
  c.log_every = r.get<int64_t>("log_every", c.log_every);
  if (c.log_every < 1) r.fail("log_every", "must be >= 1");
  read_data(r.child("data"), &c.data);
  read_model(r.child("model"), &c.model);
  if (phased) {
    std::vector<JsonReader> phases = r.child_array("phases");
    for (size_t i = 0; i < phases.size(); ++i) {
      PhaseConfig p;
      read_phase(phases[i], &p, i, c.model.strassen.enabled);
      c.phases.push_back(p);
    }
    c.epochs = 0;
    for (const PhaseConfig& p : c.phases) c.epochs += p.epochs;
  } else {
    PhaseConfig p;
    p.name = "train";
    p.epochs = r.require<int64_t>("epochs");
    if (p.epochs < 1 || p.epochs > 100000) r.fail("epochs", "must be in [1, 100000]");
    read_optim(r.child("optim"), &p.optim);
    read_schedule(r.child("schedule"), &p.schedule, p.optim.sgd.lr, p.epochs);
    c.phases.push_back(p);
    c.epochs = p.epochs;
  }
  c.optim = c.phases.front().optim;
  c.schedule = c.phases.front().schedule;
  if (r.has("init")) read_init(r.child("init"), &c.init);
  if (r.has("distill")) read_distill(r.child("distill"), &c.distill);
  r.finish();
  c.resolved_json = r.resolved().dump(2) + "\n";
  c.model_json = r.resolved().at("model").dump();
  return c;
}

}  // namespace

ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides) {
  return from_json(read_json_file(path), path, overrides);
}

ExperimentConfig parse_experiment_config(const std::string& text, const std::string& source,
                                         const std::vector<std::string>& overrides) {
  return from_json(parse_json_text(text, "config '" + source + "'"), source, overrides);
}

}  // namespace st
