#include "core/autograd.h"

#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "core/ops/profiler.h"

namespace st {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool needs_graph(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->requires_grad()) return true;
  return false;
}

bool needs_graph(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

void record_node(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                 BackwardFn backward) {
  auto node = std::make_shared<Node>();
  node->name = name;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) node->inputs.push_back(t.impl_ptr());
  for (const Tensor& t : outputs) {
    t.impl()->output_nr = static_cast<int>(node->outputs.size());
    node->outputs.push_back(t.impl_ptr());
    t.impl()->grad_fn = node;
    t.impl()->requires_grad = true;
  }
  node->output_grads.resize(outputs.size());
  node->backward = std::move(backward);
}

namespace {
Tensor& grad_slot(TensorImpl* impl) {
  return impl->grad_fn ? impl->grad_fn->output_grads[impl->output_nr] : impl->grad;
}
}  // namespace

Tensor& grad_buffer(const Tensor& t) {
  TensorImpl* impl = t.impl();
  Tensor& slot = grad_slot(impl);
  if (!slot.defined()) slot = Tensor::zeros(impl->shape);
  return slot;
}

Tensor& grad_buffer_for_write(const Tensor& t, bool* add) {
  TensorImpl* impl = t.impl();
  Tensor& slot = grad_slot(impl);
  *add = slot.defined();
  if (!slot.defined()) slot = Tensor::empty(impl->shape);
  return slot;
}

void accumulate_grad(const Tensor& t, const Tensor& g) {
  TensorImpl* impl = t.impl();
  ST_CHECK(g.numel() == impl->numel, "accumulate_grad: gradient of shape " << shape_str(g.shape())
                                                                           << " for tensor of shape "
                                                                           << shape_str(impl->shape));
  Tensor& slot = grad_slot(impl);
  if (!slot.defined() && g.impl()->storage.use_count() == 1 && g.impl()->offset == 0 &&
      static_cast<int64_t>(g.impl()->storage->size()) == g.numel()) {
    // Nobody else holds g's buffer: adopt it instead of copying.
    slot = make_view(g, impl->shape, 0);
    return;
  }
  Tensor& dst = grad_buffer(t);
  real* d = dst.data();
  const real* s = g.data();
  const int64_t n = g.numel();
#pragma omp parallel for if (n > 32768) schedule(static)
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

void run_backward(const Tensor& root, const Tensor& grad_root) {
  ST_CHECK(root.requires_grad(), "backward(): the tensor does not require grad (no parameter or input that "
                                 "requires grad contributed to it, or it was computed under NoGradGuard)");
  accumulate_grad(root, grad_root);
  const std::shared_ptr<Node> root_node = root.grad_fn();
  if (!root_node) return;  // a leaf: its gradient is the seed

  // Reverse post-order of an iterative depth-first search over producer edges: every node comes
  // before the nodes that produced its inputs, so each runs once all its consumers have run.
  // The order holds owning pointers: releasing a node's inputs below can drop the last other
  // reference to a producer that has not run yet.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack;
  stack.emplace_back(root_node, 0);
  visited.insert(root_node.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      std::shared_ptr<Node> producer = node->inputs[next++]->grad_fn;
      if (producer && visited.insert(producer.get()).second) stack.emplace_back(std::move(producer), 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }

  NoGradGuard no_grad;  // backward functions compute with ordinary ops: do not record them
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = it->get();
    ST_CHECK(node->backward, "backward(): the graph through op '" << node->name
                                                                  << "' was already released by an earlier backward()");
    std::vector<Tensor> grads = std::move(node->output_grads);
    node->output_grads.assign(grads.size(), Tensor());
    bool any = false;
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) continue;
      any = true;
      if (auto impl = node->outputs[i].lock(); impl && impl->retains_grad) impl->grad = grads[i];
    }
    if (any) {
      ProfileScope scope(node->name, /*backward=*/true);
      node->backward(grads);
    }
    // Release the saved tensors and the edges: the graph is used once.
    node->backward = nullptr;
    node->inputs.clear();
  }
}

}  // namespace st
