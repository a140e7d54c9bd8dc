#include "optim/sgd.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/parallel.h"

namespace st {

Sgd::Sgd(std::vector<ParamGroup> groups, const SgdOptions& opt) : groups_(std::move(groups)), opt_(opt) {
  ST_CHECK(opt.lr >= 0, "sgd: learning rate " << opt.lr << " is negative");
  ST_CHECK(opt.momentum >= 0, "sgd: momentum " << opt.momentum << " is negative");
  ST_CHECK(!opt.nesterov || (opt.momentum > 0 && opt.dampening == 0),
           "sgd: nesterov needs momentum > 0 and dampening 0");
  size_t n = 0;
  for (const ParamGroup& g : groups_) {
    ST_CHECK(g.weight_decay >= 0, "sgd: weight decay " << g.weight_decay << " is negative");
    n += g.params.size();
  }
  buffers_.resize(n);
}

Sgd::Sgd(const std::vector<Tensor>& params, const SgdOptions& opt)
    : Sgd(std::vector<ParamGroup>{ParamGroup{params, opt.weight_decay}}, opt) {}

std::vector<Tensor> Sgd::parameters() const {
  std::vector<Tensor> out;
  for (const ParamGroup& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

void Sgd::step() {
  size_t index = 0;
  const real lr = static_cast<real>(opt_.lr), mom = static_cast<real>(opt_.momentum);
  const real damp = static_cast<real>(1 - opt_.dampening);
  for (ParamGroup& group : groups_) {
    const real wd = static_cast<real>(group.weight_decay);
    for (Tensor& p : group.params) {
      Tensor& buf = buffers_[index++];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      const int64_t n = p.numel();
      real* w = p.data();
      const real* g = grad.data();
      const bool first = !buf.defined();
      if (mom != 0 && first) buf = Tensor::empty(p.shape());
      real* b = mom != 0 ? buf.data() : nullptr;
      const bool nesterov = opt_.nesterov;
      parallel_for(n, 32768, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) {
          real d = g[i] + wd * w[i];
          if (b) {
            b[i] = first ? d : mom * b[i] + damp * d;
            d = nesterov ? d + mom * b[i] : b[i];
          }
          w[i] -= lr * d;
        }
      });
    }
  }
}

void Sgd::zero_grad() {
  for (ParamGroup& group : groups_)
    for (Tensor& p : group.params) p.zero_grad();
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  ST_CHECK(max_norm > 0, "clip_grad_norm: max_norm " << max_norm << " must be positive");
  double sq = 0;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const real* d = g.data();
    for (int64_t i = 0; i < g.numel(); ++i) sq += static_cast<double>(d[i]) * d[i];
  }
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const real scale = static_cast<real>(max_norm / (norm + 1e-6));
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      real* d = g.data();
      for (int64_t i = 0; i < g.numel(); ++i) d[i] *= scale;
    }
  }
  return norm;
}

}  // namespace st
