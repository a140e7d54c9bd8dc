#include "core/ops/elementwise.h"

#include <Eigen/Core>
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/broadcast.h"
#include "core/kernels/parallel.h"
#include "core/ops/profiler.h"
#include "core/ops/reduce.h"

namespace st {

namespace {

using Array = Eigen::Array<real, Eigen::Dynamic, 1>;
using ArrayMap = Eigen::Map<Array>;
using ConstArrayMap = Eigen::Map<const Array>;
constexpr int64_t kGrain = 16384;

// ---- binary ops --------------------------------------------------------------------------

enum class BinaryKind { Add, Sub, Mul, Div };

const char* binary_name(BinaryKind k) {
  switch (k) {
    case BinaryKind::Add: return "add";
    case BinaryKind::Sub: return "sub";
    case BinaryKind::Mul: return "mul";
    default: return "div";
  }
}

template <BinaryKind K>
inline real apply(real x, real y) {
  if constexpr (K == BinaryKind::Add) return x + y;
  if constexpr (K == BinaryKind::Sub) return x - y;
  if constexpr (K == BinaryKind::Mul) return x * y;
  return x / y;
}

template <BinaryKind K>
void binary_kernel(const Tensor& a, const Tensor& b, Tensor& out) {
  const real* pa = a.data();
  const real* pb = b.data();
  real* po = out.data();
  if (a.shape() == b.shape()) {
    parallel_for(out.numel(), kGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = apply<K>(pa[i], pb[i]);
    });
    return;
  }
  const BroadcastPlan plan = make_broadcast_plan(out.shape(), a.shape(), b.shape());
  broadcast_for_each(plan, true, [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t so, int64_t sa, int64_t sb) {
    if (sa == 1 && sb == 0) {
      const real y = pb[ib];
      for (int64_t j = 0; j < n; ++j) po[o + j] = apply<K>(pa[ia + j], y);
    } else if (sa == 0 && sb == 1) {
      const real x = pa[ia];
      for (int64_t j = 0; j < n; ++j) po[o + j] = apply<K>(x, pb[ib + j]);
    } else {
      for (int64_t j = 0; j < n; ++j) po[o + j * so] = apply<K>(pa[ia + j * sa], pb[ib + j * sb]);
    }
  });
}

template <BinaryKind K>
Tensor binary(const Tensor& a, const Tensor& b) {
  ProfileScope prof(binary_name(K));
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = Tensor::empty(out_shape);
  binary_kernel<K>(a, b, out);
  if (!needs_graph({&a, &b})) return out;

  // Saved: the operands the gradients need (mul: both; div: b and the output).
  Tensor sa = (K == BinaryKind::Mul) ? a.detach() : Tensor();
  Tensor sb = (K == BinaryKind::Mul || K == BinaryKind::Div) ? b.detach() : Tensor();
  Tensor so = (K == BinaryKind::Div) ? out.detach() : Tensor();
  record_node(binary_name(K), {a, b}, {out}, [a, b, sa, sb, so](const std::vector<Tensor>& g) {
    const Tensor& gout = g[0];
    if (a.requires_grad()) {
      Tensor ga;
      if constexpr (K == BinaryKind::Add || K == BinaryKind::Sub) ga = gout;
      if constexpr (K == BinaryKind::Mul) ga = mul(gout, sb);
      if constexpr (K == BinaryKind::Div) ga = div(gout, sb);
      accumulate_grad(a, sum_to(ga, a.shape()));
    }
    if (b.requires_grad()) {
      Tensor gb;
      if constexpr (K == BinaryKind::Add) gb = gout;
      if constexpr (K == BinaryKind::Sub) gb = neg(gout);
      if constexpr (K == BinaryKind::Mul) gb = mul(gout, sa);
      if constexpr (K == BinaryKind::Div) gb = neg(div(mul(gout, so), sb));  // d(a/b)/db = -(a/b)/b
      accumulate_grad(b, sum_to(gb, b.shape()));
    }
  });
  return out;
}

// ---- unary ops ---------------------------------------------------------------------------

// out = fwd(x) chunk-wise through Eigen arrays (vectorised exp/log/tanh); the gradient is
// g * deriv(x, y, g) evaluated chunk-wise as well.
template <class Fwd, class Deriv>
Tensor unary(const char* name, const Tensor& x, Fwd fwd, Deriv deriv) {
  ProfileScope prof(name);
  Tensor out = Tensor::empty(x.shape());
  const real* px = x.data();
  real* po = out.data();
  parallel_for(x.numel(), kGrain, [&](int64_t s, int64_t e) {
    ArrayMap(po + s, e - s) = fwd(ConstArrayMap(px + s, e - s));
  });
  if (!needs_graph({&x})) return out;
  Tensor sx = x.detach(), sy = out.detach();
  record_node(name, {x}, {out}, [x, sx, sy, deriv](const std::vector<Tensor>& g) {
    Tensor& gx = grad_buffer(x);
    const real *pg = g[0].data(), *pxs = sx.data(), *pys = sy.data();
    real* pgx = gx.data();
    parallel_for(sx.numel(), kGrain, [&](int64_t s, int64_t e) {
      const int64_t n = e - s;
      ArrayMap(pgx + s, n) += deriv(ConstArrayMap(pxs + s, n), ConstArrayMap(pys + s, n), ConstArrayMap(pg + s, n));
    });
  });
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary<BinaryKind::Add>(a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary<BinaryKind::Sub>(a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary<BinaryKind::Mul>(a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary<BinaryKind::Div>(a, b); }

Tensor add_scalar(const Tensor& a, real s) {
  return unary("add_scalar", a, [s](const auto& x) { return x + s; },
               [](const auto&, const auto&, const auto& g) { return g; });
}

Tensor mul_scalar(const Tensor& a, real s) {
  return unary("mul_scalar", a, [s](const auto& x) { return x * s; },
               [s](const auto&, const auto&, const auto& g) { return g * s; });
}

Tensor neg(const Tensor& a) {
  return unary("neg", a, [](const auto& x) { return -x; },
               [](const auto&, const auto&, const auto& g) { return -g; });
}

Tensor pow_scalar(const Tensor& a, real p) {
  return unary("pow", a, [p](const auto& x) { return x.pow(p); },
               [p](const auto& x, const auto&, const auto& g) { return g * p * x.pow(p - 1); });
}

Tensor exp(const Tensor& a) {
  return unary("exp", a, [](const auto& x) { return x.exp(); },
               [](const auto&, const auto& y, const auto& g) { return g * y; });
}

Tensor log(const Tensor& a) {
  return unary("log", a, [](const auto& x) { return x.log(); },
               [](const auto& x, const auto&, const auto& g) { return g / x; });
}

Tensor sqrt(const Tensor& a) {
  return unary("sqrt", a, [](const auto& x) { return x.sqrt(); },
               [](const auto&, const auto& y, const auto& g) { return g * real(0.5) / y; });
}

Tensor square(const Tensor& a) {
  return unary("square", a, [](const auto& x) { return x.square(); },
               [](const auto& x, const auto&, const auto& g) { return g * real(2) * x; });
}

Tensor abs(const Tensor& a) {
  return unary("abs", a, [](const auto& x) { return x.abs(); },
               [](const auto& x, const auto&, const auto& g) { return g * x.sign(); });
}

Tensor relu(const Tensor& a) {
  return unary("relu", a, [](const auto& x) { return x.max(real(0)); },
               [](const auto&, const auto& y, const auto& g) { return (y > real(0)).select(g, real(0)); });
}

Tensor tanh(const Tensor& a) {
  return unary("tanh", a, [](const auto& x) { return x.tanh(); },
               [](const auto&, const auto& y, const auto& g) { return g * (real(1) - y.square()); });
}

Tensor sigmoid(const Tensor& a) {
  return unary("sigmoid", a, [](const auto& x) { return x.logistic(); },
               [](const auto&, const auto& y, const auto& g) { return g * y * (real(1) - y); });
}

Tensor clamp(const Tensor& a, real low, real high) {
  ST_CHECK(low <= high, "clamp: low " << low << " is greater than high " << high);
  return unary("clamp", a, [low, high](const auto& x) { return x.max(low).min(high); },
               [low, high](const auto& x, const auto&, const auto& g) {
                 return ((x >= low) && (x <= high)).select(g, real(0));
               });
}

}  // namespace st
