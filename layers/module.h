#pragma once
// Module: the base of every layer and model. A module owns named parameters (tensors that
// require grad and that optimizers update), named buffers (state saved in checkpoints but not
// trained, such as batch-norm running statistics) and named submodules. Names compose with dots
// ("layer1.0.conv1.weight") and become checkpoint keys.
//
// Registration happens in the constructor of a derived module:
//   weight_ = register_parameter("weight", Tensor::empty({out, in}));
//   bn_ = register_module("bn", std::make_shared<BatchNorm>(...));
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace st {

class Module {
 public:
  virtual ~Module() = default;

  // Recursive listings, in registration order, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  // Total number of parameter elements.
  int64_t num_parameters() const;

  // Training mode (batch statistics, dropout) vs evaluation mode, applied recursively.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops every parameter's gradient.
  void zero_grad();

  // The module's one-line description for summaries, e.g. "Conv2d(16, 32, kernel 3, stride 2)".
  virtual std::string describe() const = 0;

 protected:
  friend class TernaryWeight;  // registers a layer's TTQ scales on it
  Tensor& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Called by train(): derived modules with mode-dependent state may override (call the base).
  virtual void on_train_mode(bool on) {}

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void collect(const std::string& prefix, bool buffers, std::vector<std::pair<std::string, Tensor>>* out) const;

  // std::map would reorder; checkpoint and optimizer order must follow registration.
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace st
