#include "core/ops/loss.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/softmax.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

Tensor softmax_impl(const char* name, const Tensor& x, int64_t axis, bool log) {
  ProfileScope prof(name);
  const int64_t ax = normalize_axis(axis, x.dim(), name, x.shape());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < ax; ++i) outer *= x.shape()[i];
  for (int64_t i = ax + 1; i < x.dim(); ++i) inner *= x.shape()[i];
  const int64_t extent = x.shape()[ax];
  Tensor out = Tensor::empty(x.shape());
  softmax_forward(x.data(), outer, extent, inner, log, out.data());
  if (!needs_graph({&x})) return out;
  // Saved: the output (both gradients are functions of it alone).
  Tensor y = out.detach();
  record_node(name, {x}, {out}, [x, y, outer, extent, inner, log](const std::vector<Tensor>& g) {
    softmax_backward(y.data(), g[0].data(), outer, extent, inner, log, grad_buffer(x).data());
  });
  return out;
}

void check_logits(const char* op, const Tensor& logits) {
  ST_CHECK(logits.defined() && logits.dim() == 2,
           op << ": expected logits [N, C], got " << (logits.defined() ? shape_str(logits.shape()) : "undefined"));
  ST_CHECK(logits.size(0) > 0 && logits.size(1) > 0, op << ": empty logits " << shape_str(logits.shape()));
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl("softmax", x, axis, false); }

Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl("log_softmax", x, axis, true); }

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  ProfileScope prof("cross_entropy");
  check_logits("cross_entropy", logits);
  const int64_t N = logits.size(0), C = logits.size(1);
  ST_CHECK(static_cast<int64_t>(labels.size()) == N, "cross_entropy: " << labels.size() << " labels for logits "
                                                                       << shape_str(logits.shape()));
  for (int64_t n = 0; n < N; ++n)
    ST_CHECK(labels[n] >= 0 && labels[n] < C, "cross_entropy: label " << labels[n] << " at position " << n
                                                                      << " is out of range for C = " << C
                                                                      << " classes (logits " << shape_str(logits.shape())
                                                                      << ")");
  const bool graph = needs_graph({&logits});
  // probs [N, C]: softmax(logits), kept for the backward (p - onehot) / N.
  Tensor probs = graph ? Tensor::empty(logits.shape()) : Tensor();
  const double loss = cross_entropy_forward(logits.data(), labels.data(), N, C, graph ? probs.data() : nullptr);
  Tensor out = Tensor::scalar(static_cast<real>(loss));
  if (!graph) return out;
  record_node("cross_entropy", {logits}, {out}, [logits, probs, labels, N, C](const std::vector<Tensor>& g) {
    cross_entropy_backward(probs.data(), labels.data(), N, C, g[0].item(), grad_buffer(logits).data());
  });
  return out;
}

Tensor soft_cross_entropy(const Tensor& logits, const Tensor& target_logits, real temperature) {
  ProfileScope prof("soft_cross_entropy");
  check_logits("soft_cross_entropy", logits);
  ST_CHECK(target_logits.defined() && target_logits.shape() == logits.shape(),
           "soft_cross_entropy: target_logits "
               << (target_logits.defined() ? shape_str(target_logits.shape()) : "undefined")
               << " do not match logits " << shape_str(logits.shape()));
  ST_CHECK(temperature > 0, "soft_cross_entropy: temperature must be positive, got " << temperature);
  const int64_t N = logits.size(0), C = logits.size(1);
  const bool graph = needs_graph({&logits, &target_logits});
  // logp = log_softmax(logits / T), q = softmax(target / T), each [N, C]: all the backward needs.
  Tensor logp = graph ? Tensor::empty(logits.shape()) : Tensor();
  Tensor q = graph ? Tensor::empty(logits.shape()) : Tensor();
  const double loss = soft_cross_entropy_forward(logits.data(), target_logits.data(), N, C, temperature,
                                                 graph ? logp.data() : nullptr, graph ? q.data() : nullptr);
  Tensor out = Tensor::scalar(static_cast<real>(loss));
  if (!graph) return out;
  record_node("soft_cross_entropy", {logits, target_logits}, {out},
              [logits, target_logits, logp, q, N, C, temperature](const std::vector<Tensor>& g) {
                real* dz = logits.requires_grad() ? grad_buffer(logits).data() : nullptr;
                real* dt = target_logits.requires_grad() ? grad_buffer(target_logits).data() : nullptr;
                soft_cross_entropy_backward(logp.data(), q.data(), N, C, temperature, g[0].item(), dz, dt);
              });
  return out;
}

}  // namespace st
