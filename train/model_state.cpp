#include "train/model_state.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "core/error.h"

namespace st {

namespace {
std::vector<std::pair<std::string, Tensor>> state_of(const Module& model) {
  std::vector<std::pair<std::string, Tensor>> all = model.named_parameters();
  for (auto& b : model.named_buffers()) all.push_back(b);
  return all;
}
}  // namespace

void append_model_state(const Module& model, Checkpoint* ckpt) {
  for (auto& [name, t] : state_of(model)) ckpt->tensors.emplace_back(name, t.detach());
}

namespace {
void load_one(const Checkpoint& ckpt, const std::string& name, Tensor t) {
  const Tensor& src = ckpt.tensor(name);
  ST_CHECK(src.shape() == t.shape(), "checkpoint '" << ckpt.source << "': tensor '" << name << "' has shape "
                                                    << shape_str(src.shape()) << " but the model expects "
                                                    << shape_str(t.shape()));
  t.copy_(src);
}
}  // namespace

std::vector<std::string> load_model_state_present(const Checkpoint& ckpt, Module& model) {
  std::vector<std::string> missing;
  for (auto& [name, t] : state_of(model)) {
    if (ckpt.has_tensor(name))
      load_one(ckpt, name, t);
    else
      missing.push_back(name);
  }
  return missing;
}

void load_model_state(const Checkpoint& ckpt, Module& model) {
  for (auto& [name, t] : state_of(model)) load_one(ckpt, name, t);
}

void load_model_state_exact(const Checkpoint& ckpt, Module& model) {
  load_model_state(ckpt, model);
  std::set<std::string> known;
  for (auto& [name, t] : state_of(model)) known.insert(name);
  for (auto& [name, t] : ckpt.tensors)
    ST_CHECK(known.count(name) || name.rfind("optim.", 0) == 0,
             "checkpoint '" << ckpt.source << "' holds tensor '" << name
                            << "', which this config's model does not have: a checkpoint of another model?");
}

std::string first_non_finite(const Module& model) {
  for (auto& [name, t] : state_of(model)) {
    const real* p = t.data();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(p[i])) return name;
  }
  return "";
}

std::string model_checksum(const Module& model) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(tensors_checksum(state_of(model))));
  return buf;
}

}  // namespace st
