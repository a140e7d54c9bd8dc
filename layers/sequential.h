#pragma once
// Sequential: layers applied in order; submodules are named "0", "1", ... as in PyTorch.
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace st {

class Sequential : public Layer {
 public:
  Sequential() = default;
  // Appends a layer and returns it (typed) for later access.
  template <class L>
  std::shared_ptr<L> add(std::shared_ptr<L> layer) {
    layers_.push_back(register_module(std::to_string(layers_.size()), layer));
    return layer;
  }
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  size_t size() const { return layers_.size(); }
  Layer& operator[](size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace st
