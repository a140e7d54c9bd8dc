#pragma once
// Define-by-run reverse-mode automatic differentiation.
//
// Each op computes its forward result and, when grad mode is on and some input requires grad,
// records a Node: its inputs, (weak references to) its outputs, and a backward function written
// next to the forward in the same file. backward() topologically sorts the nodes reachable from
// the root with an explicit stack (deep graphs such as a 35-step LSTM unroll or a 100-layer net
// cannot overflow the call stack), calls each node's backward once all of its consumers have
// contributed, and releases the graph as it goes.
//
// Backward functions ACCUMULATE into input gradients (grad_buffer() returns the input's gradient
// tensor, zero-initialised on first use); they never overwrite what is there. A kernel that can
// also write its result outright asks grad_buffer_for_write() instead, which skips zeroing a
// gradient that nothing has written yet (the usual case: the activation has one consumer).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace st {

// grad_outputs[i] is the gradient of the loss w.r.t. the node's i-th output, or an undefined
// Tensor when nothing flowed into that output (treat as zero).
using BackwardFn = std::function<void(const std::vector<Tensor>& grad_outputs)>;

struct Node {
  std::string name;                                // the op, for error messages and profiling
  std::vector<std::shared_ptr<TensorImpl>> inputs;  // inputs that require grad (graph edges)
  std::vector<std::weak_ptr<TensorImpl>> outputs;   // to hand gradients to retain_grad() tensors
  // Gradients w.r.t. the outputs, accumulated by consumers during backward. They live here, not
  // on the output tensors, so that an intermediate tensor nobody holds any more can be freed
  // while its gradient still flows.
  std::vector<Tensor> output_grads;
  BackwardFn backward;
};

// ---- grad mode
bool grad_enabled();

// Disables graph recording in its scope (evaluation, optimizer steps, teachers).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when an op over these inputs must record a node.
bool needs_graph(std::initializer_list<const Tensor*> inputs);
bool needs_graph(const std::vector<Tensor>& inputs);

// Records a node producing `outputs` from `inputs` (inputs that do not require grad are skipped)
// and marks the outputs as requiring grad. Call only when needs_graph(inputs) is true.
// The backward must not capture the outputs themselves (that would be a reference cycle);
// capture out.detach() instead when the output's values are needed.
void record_node(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                 BackwardFn backward);

// The gradient tensor of `t` (same shape), allocated as zeros on first use: the leaf's grad(),
// or for a non-leaf its slot in the producing node. Backward kernels accumulate into it (+=).
Tensor& grad_buffer(const Tensor& t);
// The same tensor for a backward kernel that can write as well as add: when t has no gradient yet
// it is allocated uninitialised and *add is false (the caller must write every element); else
// *add is true (the caller adds into it, as into grad_buffer()).
Tensor& grad_buffer_for_write(const Tensor& t, bool* add);
// grad(t) += g  (same numel).
void accumulate_grad(const Tensor& t, const Tensor& g);

// Runs the reverse pass from `root` seeded with `grad_root` (same shape as root).
void run_backward(const Tensor& root, const Tensor& grad_root);

}  // namespace st
