#include "analysis/op_count.h"

#include <map>

#include "core/autograd.h"
#include "core/error.h"
#include "layers/strassen_layer.h"

namespace st {

namespace {

using CallLog = std::map<const Module*, std::vector<CallShapes>>;

// Visits the module tree in registration order, one row per counted module. A Countable is a
// leaf of the walk: its cost covers its submodules.
void visit(const Module& mod, const std::string& name, const CallLog& log, ModelCount* m) {
  static const std::vector<CallShapes> kNoCalls;
  auto it = log.find(&mod);
  const std::vector<CallShapes>& calls = it == log.end() ? kNoCalls : it->second;
  LayerCount c;
  if (auto* countable = dynamic_cast<const Countable*>(&mod)) {
    ST_CHECK(!calls.empty() || !countable->needs_calls(),
             "count: " << mod.describe() << " '" << name
                       << "' was not called through Layer::operator() in the forward pass, so it cannot be counted "
                          "(call layers as (*layer)(x), not layer->forward(x))");
    static_cast<LayerCost&>(c) = countable->cost(calls);
    if (auto* s = dynamic_cast<const StrassenLayer*>(&mod)) {
      ++m->strassen_layers;
      if (s->mode() == StrassenMode::Dense) ++m->dense_strassen_layers;
    }
  } else {
    // A container or parameter-free layer: its own parameters (if any) at 32 bits, then its children.
    for (auto& [pname, t] : mod.named_parameters())
      if (pname.find('.') == std::string::npos) c.add_params(t.numel(), false);
    c.type = mod.describe();
    c.detail = "operations not counted";
    for (auto& [child_name, child] : mod.named_children())
      visit(*child, name.empty() ? child_name : name + "." + child_name, log, m);
    if (c.params == 0) return;
  }
  c.name = name;
  c.calls = static_cast<int64_t>(calls.size());
  if (!calls.empty() && !calls.back().outputs.empty()) c.output = calls.back().outputs[0];
  m->layers.push_back(c);
}

// Restores the Strassen modes and the training flag however the pass ends.
class RestoreState {
 public:
  RestoreState(Module& model, std::vector<StrassenLayer*> layers)
      : model_(model), layers_(std::move(layers)), training_(model.is_training()) {
    for (StrassenLayer* l : layers_) modes_.push_back(l->mode());
  }
  ~RestoreState() {
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->set_mode(modes_[i]);
    model_.train(training_);
  }

 private:
  Module& model_;
  std::vector<StrassenLayer*> layers_;
  std::vector<StrassenMode> modes_;
  bool training_;
};

}  // namespace

ModelCount count_model(Layer& model, const Shape& input) {
  CallLog log;
  {
    const std::vector<StrassenLayer*> strassen = find_strassen_layers(model);
    RestoreState restore(model, strassen);
    for (StrassenLayer* l : strassen) l->set_mode(StrassenMode::Dense);
    model.eval();
    NoGradGuard no_grad;
    const LayerObserver observer = [&log](const Module& layer, const CallShapes& call) {
      log[&layer].push_back(call);
    };
    LayerObserverGuard guard(observer);
    model(Tensor::zeros(input));
  }
  ModelCount m;
  m.input = input;
  visit(model, "", log, &m);
  m.total.name = "total";
  for (const LayerCount& c : m.layers) m.total += c;
  m.unused_params = m.total.unused_params;
  return m;
}

}  // namespace st
