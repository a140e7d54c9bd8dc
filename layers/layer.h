#pragma once
// Layer: a module with one input and one output tensor, so that layers chain in a Sequential.
//
// Call a layer through operator(), not forward(): operator() also reports the call to the
// thread's LayerObserver, if one is installed (analysis/op_count records every layer's input and
// output shape this way). Without an observer the cost is one thread-local load per call.
#include <functional>

#include "layers/module.h"

namespace st {

class Layer;

// Sees every layer call on the installing thread, after the forward: the layer, its input shape
// and its output shape.
using LayerObserver = std::function<void(const Layer& layer, const Shape& input, const Shape& output)>;

class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) {
    Tensor y = forward(x);
    report_call(x.shape(), y.shape());
    return y;
  }

  // Whether a LayerObserver is installed on this thread (code that would fuse several layers into
  // one op runs them one by one then, so that the observer sees each call).
  static bool observed() { return observer_ != nullptr; }

 protected:
  // Reports a call to the observer as operator() does: for a layer's other entry points
  // (BatchNorm::forward_add).
  void report_call(const Shape& input, const Shape& output) const {
    if (observer_) (*observer_)(*this, input, output);
  }

 private:
  friend class LayerObserverGuard;
  static inline thread_local const LayerObserver* observer_ = nullptr;
};

// Installs `observer` on this thread for the guard's lifetime; the previous one (if any) is
// restored afterwards. The observer must outlive the guard.
class LayerObserverGuard {
 public:
  explicit LayerObserverGuard(const LayerObserver& observer) : previous_(Layer::observer_) {
    Layer::observer_ = &observer;
  }
  ~LayerObserverGuard() { Layer::observer_ = previous_; }
  LayerObserverGuard(const LayerObserverGuard&) = delete;
  LayerObserverGuard& operator=(const LayerObserverGuard&) = delete;

 private:
  const LayerObserver* previous_;
};

}  // namespace st
