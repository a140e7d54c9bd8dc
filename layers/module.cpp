#include "layers/module.h"

#include "core/error.h"

namespace st {

namespace {
template <class List>
bool has_name(const List& list, const std::string& name) {
  for (const auto& entry : list)
    if (entry.first == name) return true;
  return false;
}
}  // namespace

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  ST_CHECK(module != nullptr, "register_module: submodule '" << name << "' is null");
  ST_CHECK(!has_name(children_, name) && !has_name(params_, name) && !has_name(buffers_, name),
           "register_module: name '" << name << "' is already registered");
  module->train(training_);
  children_.emplace_back(name, std::move(module));
}

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  ST_CHECK(!has_name(children_, name) && !has_name(params_, name) && !has_name(buffers_, name),
           "register_parameter: name '" << name << "' is already registered");
  value.set_requires_grad(true);
  params_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
  return *params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  ST_CHECK(!has_name(children_, name) && !has_name(params_, name) && !has_name(buffers_, name),
           "register_buffer: name '" << name << "' is already registered");
  buffers_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
  return *buffers_.back().second;
}

void Module::collect(const std::string& prefix, bool buffers, std::vector<std::pair<std::string, Tensor>>* out) const {
  for (const auto& [name, t] : buffers ? buffers_ : params_) out->emplace_back(prefix + name, *t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", false, &out);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", true, &out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_train_mode(on);
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.zero_grad();
}

}  // namespace st
