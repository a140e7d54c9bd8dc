#pragma once
// Layer: a module with one input and one output tensor, so that layers chain in a Sequential.
//
// Call a layer through operator(), not forward(): operator() also reports the call to the
// thread's LayerObserver, if one is installed (analysis/op_count records every layer's input and
// output shapes this way). Without an observer the cost is one thread-local load per call.
// Modules with other entry points (BatchNorm::forward_add, a recurrent layer taking (x, h, c))
// report their calls themselves with Layer::report_call.
#include <functional>
#include <vector>

#include "layers/module.h"

namespace st {

// One call of a module as an observer sees it: the shapes of its inputs and of its outputs, in
// the order of the entry point's arguments and results. Layer::operator() reports one of each;
// BatchNorm::forward_add reports (x, residual) -> (y); a recurrent layer over (x, h0, c0) would
// report those three and (output, h_n, c_n).
struct CallShapes {
  std::vector<Shape> inputs, outputs;
};

// Sees every reported call on the installing thread, after the forward: the module and its shapes.
using LayerObserver = std::function<void(const Module& layer, const CallShapes& call)>;

class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) {
    Tensor y = forward(x);
    if (observer_) report_call(*this, CallShapes{{x.shape()}, {y.shape()}});
    return y;
  }

  // Whether a LayerObserver is installed on this thread (code that would fuse several layers into
  // one op runs them one by one then, so that the observer sees each call).
  static bool observed() { return observer_ != nullptr; }

  // Reports a call of `module` to this thread's observer, if any: for entry points other than
  // operator(), of layers and of modules that are not Layers (several inputs or outputs). Build
  // `call` only when observed(): its vectors allocate.
  static void report_call(const Module& module, const CallShapes& call) {
    if (observer_) (*observer_)(module, call);
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
