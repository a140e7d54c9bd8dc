#include "train/train_state.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace st {

namespace {

constexpr const char* kMomentumPrefix = "optim.momentum.";
constexpr const char* kEvalPrefix = "test_";
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string where(const Checkpoint& ck, const std::string& key) {
  return "checkpoint '" + ck.source + "': text '" + key + "'";
}

}  // namespace

int64_t text_int(const Checkpoint& ck, const std::string& key, int64_t min, int64_t max) {
  const std::string& s = ck.text(key);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  ST_CHECK(!s.empty() && end == s.c_str() + s.size() && errno == 0,
           where(ck, key) << " = '" << s << "' is not an integer");
  ST_CHECK(v >= min && v <= max, where(ck, key) << " = " << v << " is outside [" << min << ", " << max << "]");
  return v;
}

uint64_t text_uint64(const Checkpoint& ck, const std::string& key) {
  const std::string& s = ck.text(key);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  ST_CHECK(!s.empty() && s[0] != '-' && end == s.c_str() + s.size() && errno == 0,
           where(ck, key) << " = '" << s << "' is not an unsigned integer");
  return v;
}

double text_double(const Checkpoint& ck, const std::string& key) {
  const std::string& s = ck.text(key);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  ST_CHECK(!s.empty() && end == s.c_str() + s.size() && !std::isnan(v), where(ck, key) << " = '" << s << "' is not a number");
  return v;
}

void write_train_state(const TrainState& s, Checkpoint* ck) {
  auto& t = ck->texts;
  t["epoch"] = std::to_string(s.epoch);
  t["step"] = std::to_string(s.step);
  t["phase"] = std::to_string(s.phase);
  t["phase_name"] = s.phase_name;
  if (!s.strassen_mode.empty()) t["strassen_mode"] = s.strassen_mode;
  t["lr"] = exact(s.lr);
  t["plateau_has_best"] = s.plateau_has_best ? "1" : "0";
  t["plateau_best"] = exact(s.plateau_best);
  t["plateau_bad"] = std::to_string(s.plateau_bad);
  t["best_metric"] = exact(s.best_metric);
  for (const auto& [name, value] : s.last_eval) t[kEvalPrefix + name] = exact(value);
  t["seed"] = std::to_string(s.seed);
  t["threads"] = std::to_string(s.threads);
  t["world_size"] = std::to_string(s.world_size);
  for (const auto& [name, m] : s.momentum)
    if (m.defined()) ck->tensors.emplace_back(kMomentumPrefix + name, m);
}

TrainState read_train_state(const Checkpoint& ck) {
  TrainState s;
  s.epoch = text_int(ck, "epoch", 0, kMax);
  s.step = ck.texts.count("step") ? text_int(ck, "step", 0, kMax) : 0;
  s.phase = text_int(ck, "phase", 0, kMax);
  s.phase_name = ck.text("phase_name");
  if (ck.texts.count("strassen_mode")) s.strassen_mode = ck.text("strassen_mode");
  s.lr = text_double(ck, "lr");
  s.plateau_has_best = text_int(ck, "plateau_has_best", 0, 1) == 1;
  s.plateau_best = text_double(ck, "plateau_best");
  s.plateau_bad = text_int(ck, "plateau_bad", 0, kMax);
  // Checkpoints before best_metric existed kept the best top-1 as best_top1.
  s.best_metric = text_double(ck, ck.texts.count("best_metric") ? "best_metric" : "best_top1");
  const std::string prefix = kEvalPrefix;
  for (const auto& [key, value] : ck.texts)
    if (key.compare(0, prefix.size(), prefix) == 0) s.last_eval.emplace_back(key.substr(prefix.size()), text_double(ck, key));
  s.seed = text_uint64(ck, "seed");
  s.threads = text_int(ck, "threads", 1, 1 << 20);
  s.world_size = ck.texts.count("world_size") ? text_int(ck, "world_size", 1, 1 << 20) : 1;
  const std::string mp = kMomentumPrefix;
  for (const auto& [name, t] : ck.tensors)
    if (name.compare(0, mp.size(), mp) == 0) s.momentum.emplace_back(name.substr(mp.size()), t);
  return s;
}

}  // namespace st
