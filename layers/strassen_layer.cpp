#include "layers/strassen_layer.h"

#include <algorithm>

#include "core/error.h"

namespace st {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void collect(Module& m, std::vector<StrassenLayer*>* out) {
  if (auto* s = dynamic_cast<StrassenLayer*>(&m)) {
    out->push_back(s);
    return;  // a Strassen layer owns its SPNs
  }
  for (auto& [name, child] : m.named_children()) collect(*child, out);
}

}  // namespace

const char* strassen_mode_name(StrassenMode mode) {
  switch (mode) {
    case StrassenMode::Dense: return "dense";
    case StrassenMode::SpnFloat: return "spn_fp";
    case StrassenMode::SpnTernary: return "spn_ternary";
    case StrassenMode::TernaryB: return "ternary_b";
    case StrassenMode::TernaryC: return "ternary_c";
    default: return "ternary_frozen";
  }
}

StrassenMode parse_strassen_mode(const std::string& name) {
  for (StrassenMode m : {StrassenMode::Dense, StrassenMode::SpnFloat, StrassenMode::SpnTernary, StrassenMode::TernaryB,
                         StrassenMode::TernaryC, StrassenMode::TernaryFrozen})
    if (name == strassen_mode_name(m)) return m;
  ST_THROW("unknown Strassen mode '" << name
                                     << "' (known: dense, spn_fp, spn_ternary, ternary_b, ternary_c, ternary_frozen)");
}

bool uses_ternary_b(StrassenMode m) {
  return m == StrassenMode::SpnTernary || m == StrassenMode::TernaryB || m == StrassenMode::TernaryFrozen;
}

bool uses_ternary_c(StrassenMode m) {
  return m == StrassenMode::SpnTernary || m == StrassenMode::TernaryC || m == StrassenMode::TernaryFrozen;
}

std::vector<StrassenLayer*> find_strassen_layers(Module& model) {
  std::vector<StrassenLayer*> layers;
  collect(model, &layers);
  return layers;
}

int64_t fold_ternary_scales(Module& model) {
  const std::vector<StrassenLayer*> layers = find_strassen_layers(model);
  for (StrassenLayer* l : layers) l->fold_ternary_scales();
  return static_cast<int64_t>(layers.size());
}

int64_t set_strassen_mode(Module& model, StrassenMode mode) {
  const std::vector<StrassenLayer*> layers = find_strassen_layers(model);
  for (StrassenLayer* l : layers) l->set_mode(mode);
  return static_cast<int64_t>(layers.size());
}

void add_strassen_parameters(const Module& layer, StrassenMode mode, const std::vector<std::string>& dense,
                             const std::vector<std::string>& shared, const std::vector<std::string>& ternary,
                             LayerCost* cost) {
  const bool dense_mode = mode == StrassenMode::Dense;
  for (auto& [name, t] : layer.named_parameters()) {
    const bool used = dense_mode ? contains(dense, name) || contains(shared, name) : !contains(dense, name);
    if (!used)
      cost->unused_params += t.numel();
    else
      cost->add_params(t.numel(), !dense_mode && contains(ternary, name));
  }
}

}  // namespace st
