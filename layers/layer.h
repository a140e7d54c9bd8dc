#pragma once
// Layer: a module with one input and one output tensor, so that layers chain in a Sequential.
#include "layers/module.h"

namespace st {

class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace st
