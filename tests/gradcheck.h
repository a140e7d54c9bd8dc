#pragma once
// check_gradients: compares every op's analytic backward with central finite differences.
//
// The checked scalar is L = sum_k sum(out_k * w_k) with fixed random weights w_k, so every output
// element receives a distinct upstream gradient. Each input element (or a deterministic sample of
// `max_elements` of them for large inputs) is perturbed by ±eps and L recomputed under
// NoGradGuard. Only meaningful in the double build (st_core_f64), which this header requires.
//
// Inputs are passed as plain tensors; the checker makes leaf copies that require grad. Inputs
// the op cannot differentiate (labels, indices) belong in the closure, not in `inputs`.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

static_assert(std::is_same<st::real, double>::value, "gradcheck.h needs the double build (st_core_f64)");

namespace st::test {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  int64_t max_elements = 256;  // per input; larger inputs are sampled evenly
  uint64_t seed = 1234;
};

using MultiFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using SingleFn = std::function<Tensor(const std::vector<Tensor>&)>;

inline double weighted_sum(const std::vector<Tensor>& outs, const std::vector<Tensor>& weights) {
  double l = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    const real* o = outs[k].data();
    const real* w = weights[k].data();
    for (int64_t i = 0; i < outs[k].numel(); ++i) l += o[i] * w[i];
  }
  return l;
}

// `params` are existing leaves that require grad (a module's parameters): they are used in place,
// perturbed in place, and their gradients are dropped first and checked like the inputs'.
inline void check_gradients_with_params(const MultiFn& fn, const std::vector<Tensor>& inputs_in,
                                        const std::vector<Tensor>& params, const GradcheckOptions& opt = {}) {
  std::vector<Tensor> inputs;
  for (const Tensor& t : inputs_in) inputs.push_back(t.clone().set_requires_grad(true));
  for (Tensor p : params) {
    REQUIRE(p.requires_grad());
    p.zero_grad();
  }
  std::vector<Tensor> checked = inputs;
  checked.insert(checked.end(), params.begin(), params.end());

  // Analytic gradients.
  std::vector<Tensor> outs = fn(inputs);
  Generator gen(opt.seed);
  std::vector<Tensor> weights;
  Tensor loss = Tensor::scalar(0);
  for (const Tensor& o : outs) {
    weights.push_back(rand_uniform(o.shape(), gen, -1, 1));
    loss = add(loss, sum(mul(o, weights.back())));
  }
  REQUIRE(loss.requires_grad());
  loss.backward();

  // Numeric gradients.
  for (size_t i = 0; i < checked.size(); ++i) {
    Tensor& x = checked[i];
    const Tensor analytic = x.grad();
    const int64_t n = x.numel();
    const int64_t step = std::max<int64_t>(1, n / opt.max_elements);
    for (int64_t j = 0; j < n; j += step) {
      real* p = x.data() + j;
      const real saved = *p;
      double lp, lm;
      {
        NoGradGuard ng;
        *p = saved + opt.eps;
        lp = weighted_sum(fn(inputs), weights);
        *p = saved - opt.eps;
        lm = weighted_sum(fn(inputs), weights);
        *p = saved;
      }
      const double numeric = (lp - lm) / (2 * opt.eps);
      const double a = analytic.defined() ? analytic.data()[j] : 0.0;
      const double tol = opt.atol + opt.rtol * std::max(std::fabs(a), std::fabs(numeric));
      if (std::fabs(a - numeric) > tol) {
        FAIL_CHECK("input " << i << " " << shape_str(x.shape()) << " element " << j << ": analytic " << a
                            << " vs numeric " << numeric);
        return;  // one report per call is enough to diagnose
      }
    }
  }
  SUCCEED();
}

inline void check_gradients(const MultiFn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {}) {
  check_gradients_with_params(fn, inputs, {}, opt);
}

inline void check_gradients(const SingleFn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {}) {
  check_gradients(MultiFn([&](const std::vector<Tensor>& xs) { return std::vector<Tensor>{fn(xs)}; }), inputs, opt);
}

// Uniform random input in [low, high).
inline Tensor random_tensor(const Shape& shape, uint64_t seed, double low = -1, double high = 1) {
  Generator gen(seed);
  return rand_uniform(shape, gen, low, high);
}

}  // namespace st::test
