#include "discover/matmul_spn.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/rng.h"
#include "discover/adam.h"

namespace st {

// ---------------------------------------------------------------- the exact side

int matmul_tensor_entry(int64_t n, int64_t ij, int64_t kl, int64_t mp) {
  const int64_t i = ij / n, j = ij % n, k = kl / n, l = kl % n, m = mp / n, p = mp % n;
  return (j == k && i == m && l == p) ? 1 : 0;
}

namespace {

void check_sizes(const MatmulAlgorithm& alg) {
  ST_CHECK(alg.n >= 1 && alg.r >= 1, "matmul algorithm: n = " << alg.n << " and r = " << alg.r << " must be positive");
  const size_t want = static_cast<size_t>(alg.r * alg.n * alg.n);
  ST_CHECK(alg.wa.size() == want && alg.wb.size() == want && alg.wc.size() == want,
           "matmul algorithm: n = " << alg.n << ", r = " << alg.r << " needs " << want << " entries in each of W_a, W_b, W_c, got "
                                    << alg.wa.size() << ", " << alg.wb.size() << ", " << alg.wc.size());
}

}  // namespace

BrentCheck check_brent(const MatmulAlgorithm& alg) {
  check_sizes(alg);
  const int64_t n = alg.n, nn = n * n, r = alg.r;
  BrentCheck out;
  out.equations = nn * nn * nn;
  std::vector<int64_t> ab(r);  // ab[t] = W_a[t, ij] · W_b[t, kl] for the current (ij, kl)
  for (int64_t ij = 0; ij < nn; ++ij)
    for (int64_t kl = 0; kl < nn; ++kl) {
      for (int64_t t = 0; t < r; ++t) ab[t] = static_cast<int64_t>(alg.a(t, ij)) * alg.b(t, kl);
      for (int64_t mp = 0; mp < nn; ++mp) {
        int64_t lhs = 0;
        for (int64_t t = 0; t < r; ++t) lhs += ab[t] * alg.c(mp, t);
        const int64_t d = lhs - matmul_tensor_entry(n, ij, kl, mp);
        if (d != 0) {
          ++out.violated;
          out.residual_l1 += std::llabs(d);
          out.residual_sq += d * d;
        }
      }
    }
  return out;
}

int64_t count_additions(const MatmulAlgorithm& alg) {
  check_sizes(alg);
  const int64_t nn = alg.n * alg.n, r = alg.r;
  auto row_cost = [](int64_t nonzeros) { return nonzeros > 0 ? nonzeros - 1 : 0; };
  int64_t adds = 0;
  for (int64_t t = 0; t < r; ++t) {
    int64_t na = 0, nb = 0;
    for (int64_t i = 0; i < nn; ++i) na += alg.a(t, i) != 0, nb += alg.b(t, i) != 0;
    adds += row_cost(na) + row_cost(nb);
  }
  for (int64_t mp = 0; mp < nn; ++mp) {
    int64_t nc = 0;
    for (int64_t t = 0; t < r; ++t) nc += alg.c(mp, t) != 0;
    adds += row_cost(nc);
  }
  return adds;
}

MatmulAlgorithm strassen_algorithm() {
  // Columns of W_a, W_b: A11 A12 A21 A22 (row-major vec). Rows: M1..M7.
  MatmulAlgorithm s;
  s.n = 2, s.r = 7;
  s.wa = {1, 0, 0, 1,    // M1 = (A11 + A22)(B11 + B22)
          0, 0, 1, 1,    // M2 = (A21 + A22) B11
          1, 0, 0, 0,    // M3 = A11 (B12 − B22)
          0, 0, 0, 1,    // M4 = A22 (B21 − B11)
          1, 1, 0, 0,    // M5 = (A11 + A12) B22
          -1, 0, 1, 0,   // M6 = (A21 − A11)(B11 + B12)
          0, 1, 0, -1};  // M7 = (A12 − A22)(B21 + B22)
  s.wb = {1, 0, 0, 1,  //
          1, 0, 0, 0,  //
          0, 1, 0, -1,  //
          -1, 0, 1, 0,  //
          0, 0, 0, 1,  //
          1, 1, 0, 0,  //
          0, 0, 1, 1};
  // Rows: C11 C12 C21 C22; columns M1..M7.
  s.wc = {1, 0, 0, 1, -1, 0, 1,   // C11 = M1 + M4 − M5 + M7
          0, 0, 1, 0, 1, 0, 0,    // C12 = M3 + M5
          0, 1, 0, 1, 0, 0, 0,    // C21 = M2 + M4
          1, -1, 1, 0, 0, 1, 0};  // C22 = M1 − M2 + M3 + M6
  return s;
}

MatmulAlgorithm naive_algorithm(int64_t n) {
  ST_CHECK(n >= 1, "naive_algorithm: n must be positive, got " << n);
  MatmulAlgorithm s;
  s.n = n, s.r = n * n * n;
  const int64_t nn = n * n;
  s.wa.assign(s.r * nn, 0), s.wb.assign(s.r * nn, 0), s.wc.assign(s.r * nn, 0);
  int64_t t = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t l = 0; l < n; ++l, ++t) {  // product t = A_ij · B_jl, a term of C_il
        s.wa[t * nn + i * n + j] = 1;
        s.wb[t * nn + j * n + l] = 1;
        s.wc[(i * n + l) * s.r + t] = 1;
      }
  return s;
}

namespace {

// "A11 + A22", "-A11", "2*B12 - B21", "0" for a row of coefficients over the n² entries.
std::string format_sum(const std::vector<std::string>& names, const std::vector<int>& coeffs) {
  std::ostringstream os;
  bool first = true;
  for (size_t i = 0; i < coeffs.size(); ++i) {
    const int c = coeffs[i];
    if (c == 0) continue;
    if (first) os << (c < 0 ? "-" : "");
    else os << (c < 0 ? " - " : " + ");
    if (std::abs(c) != 1) os << std::abs(c) << "*";
    os << names[i];
    first = false;
  }
  return first ? "0" : os.str();
}

std::string factor(const std::vector<std::string>& names, const std::vector<int>& coeffs) {
  const auto nonzeros = std::count_if(coeffs.begin(), coeffs.end(), [](int c) { return c != 0; });
  const std::string s = format_sum(names, coeffs);
  return nonzeros > 1 || s[0] == '-' ? "(" + s + ")" : s;  // "(A11 - A22) * (-B21)"
}

}  // namespace

std::string format_algorithm(const MatmulAlgorithm& alg) {
  check_sizes(alg);
  const int64_t n = alg.n, nn = n * n, r = alg.r;
  std::vector<std::string> a_names, b_names, m_names, c_names;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const std::string ij = std::to_string(i + 1) + std::to_string(j + 1);
      a_names.push_back("A" + ij), b_names.push_back("B" + ij), c_names.push_back("C" + ij);
    }
  for (int64_t t = 0; t < r; ++t) m_names.push_back("M" + std::to_string(t + 1));
  std::ostringstream os;
  for (int64_t t = 0; t < r; ++t) {
    std::vector<int> ra(alg.wa.begin() + t * nn, alg.wa.begin() + (t + 1) * nn);
    std::vector<int> rb(alg.wb.begin() + t * nn, alg.wb.begin() + (t + 1) * nn);
    os << m_names[t] << " = " << factor(a_names, ra) << " * " << factor(b_names, rb) << "\n";
  }
  for (int64_t mp = 0; mp < nn; ++mp) {
    std::vector<int> rc(alg.wc.begin() + mp * r, alg.wc.begin() + (mp + 1) * r);
    os << c_names[mp] << " = " << format_sum(m_names, rc) << "\n";
  }
  return os.str();
}

// ---------------------------------------------------------------- the SPN

Tensor spn_forward(const Tensor& wa, const Tensor& wb, const Tensor& wc, const Tensor& a, const Tensor& b) {
  ST_CHECK(wa.dim() == 2 && wb.dim() == 2 && wc.dim() == 2 && wa.shape() == wb.shape() && wc.size(0) == wa.size(1) &&
               wc.size(1) == wa.size(0),
           "spn_forward: W_a " << shape_str(wa.shape()) << ", W_b " << shape_str(wb.shape()) << ", W_c "
                               << shape_str(wc.shape()) << " are not [r, n²], [r, n²], [n², r]");
  // linear(x, W) = x Wᵀ: rows of a times W_aᵀ give the r factors of each sample.
  return linear(mul(linear(a, wa), linear(b, wb)), wc);
}

Tensor spn_loss(const Tensor& wa, const Tensor& wb, const Tensor& wc, const Tensor& a, const Tensor& b, const Tensor& c) {
  const Tensor y = spn_forward(wa, wb, wc, a, b);
  ST_CHECK(y.shape() == c.shape(), "spn_loss: output " << shape_str(y.shape()) << " and target " << shape_str(c.shape()));
  return mul_scalar(sum(square(sub(y, c))), real(1) / static_cast<real>(c.size(0)));
}

// ---------------------------------------------------------------- the search

std::string DiscoverOptions::problem() const {
  std::ostringstream os;
  if (n < 1) os << "--n must be at least 1, got " << n;
  else if (n > 8) os << "--n " << n << " is too large (at most 8; the exactness check alone has n^6 = " << n * n * n * n * n * n << " equations)";
  else if (r < 1) os << "--r must be at least 1, got " << r;
  else if (r > 2 * n * n * n) os << "--r " << r << " is more than 2*n^3 = " << 2 * n * n * n << " (n^3 products always suffice)";
  else if (samples < 1) os << "--samples must be at least 1, got " << samples;
  else if (samples > (int64_t{1} << 24) / (n * n))
    os << "--samples " << samples << " is too many for n = " << n << " (at most " << (int64_t{1} << 24) / (n * n) << ")";
  else if (batch < 1) os << "the batch size must be at least 1, got " << batch;
  else if (fp_epochs < 0 || fp_epochs > 100000) os << "--fp-epochs must be between 0 and 100000, got " << fp_epochs;
  else if (ternary_epochs < 0 || ternary_epochs > 100000) os << "--ternary-epochs must be between 0 and 100000, got " << ternary_epochs;
  else if (!(lr > 0) || !std::isfinite(lr)) os << "--lr must be positive, got " << lr;
  else if (!(ternary_lr > 0) || !std::isfinite(ternary_lr)) os << "the ternary-phase learning rate must be positive, got " << ternary_lr;
  else if (!(l1 >= 0) || !std::isfinite(l1)) os << "--l1 must not be negative, got " << l1;
  else if (!(ternary_pull >= 0) || !std::isfinite(ternary_pull)) os << "--pull must not be negative, got " << ternary_pull;
  else if (!(init_std > 0) || !std::isfinite(init_std)) os << "the initial standard deviation must be positive, got " << init_std;
  return os.str();
}

void DiscoverOptions::validate() const {
  const std::string p = problem();
  ST_CHECK(p.empty(), p);
}

ProductData make_product_data(int64_t n, int64_t samples, uint64_t seed) {
  ST_CHECK(n >= 1 && samples >= 1, "make_product_data: n = " << n << " and samples = " << samples << " must be positive");
  NoGradGuard no_grad;
  Generator gen(seed);
  ProductData d;
  d.n = n, d.samples = samples;
  d.a = rand_normal({samples, n * n}, gen);
  d.b = rand_normal({samples, n * n}, gen);
  d.c = reshape(matmul(reshape(d.a, {samples, n, n}), reshape(d.b, {samples, n, n})), {samples, n * n});
  return d;
}

namespace {

// Every product t has a free scale: (α W_a[t,:]) · (β W_b[t,:]) · W_c[:,t] / (αβ) computes the
// same function. Full-precision training leaves it arbitrary (a row of 0.5s in W_a against 2s in
// W_c), which rounding would destroy. Scaling each W_a and W_b row to max |entry| = 1, as in any
// ternary solution, fixes it without changing the loss. Measured (n = 2, r = 7, 25 restarts):
// 25 and 25 exact at seeds 0 and 1 with it, 22 and 24 without.
void balance_products(Tensor& wa, Tensor& wb, Tensor& wc) {
  const int64_t r = wa.size(0), nn = wa.size(1);
  real* pa = wa.data();
  real* pb = wb.data();
  real* pc = wc.data();
  for (int64_t t = 0; t < r; ++t) {
    real ma = 0, mb = 0;
    for (int64_t i = 0; i < nn; ++i) ma = std::max(ma, std::abs(pa[t * nn + i])), mb = std::max(mb, std::abs(pb[t * nn + i]));
    if (ma == 0 || mb == 0) continue;
    for (int64_t i = 0; i < nn; ++i) pa[t * nn + i] /= ma, pb[t * nn + i] /= mb;
    for (int64_t o = 0; o < nn; ++o) pc[o * r + t] *= ma * mb;
  }
}

// The {−1, 0, 1} codes of the step-1 fixed-threshold rule (the forward of ternarize_fixed(w, 1)).
std::vector<int> ternary_ints(const Tensor& w) {
  const Tensor codes = ternary_codes_fixed(w, 1).codes;
  const real* p = codes.data();
  std::vector<int> out(codes.numel());
  for (int64_t i = 0; i < codes.numel(); ++i) out[i] = static_cast<int>(p[i]);
  return out;
}

Tensor to_tensor(const std::vector<int>& v, const Shape& shape) {
  return Tensor::from_vector(shape, std::vector<real>(v.begin(), v.end()));
}

bool better(const BrentCheck& x, const BrentCheck& y) {
  if (x.violated != y.violated) return x.violated < y.violated;
  return x.residual_sq < y.residual_sq;
}

// Seed of restart k: a function of (seed, k) only, distinct from the data's seed. Generator
// mixes it further (SplitMix64).
uint64_t restart_seed(uint64_t seed, int64_t restart) {
  return seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(restart + 1));
}

}  // namespace

RestartResult discover_restart(const DiscoverOptions& opt, const ProductData& data, int64_t restart) {
  opt.validate();
  const int64_t n = opt.n, r = opt.r, nn = n * n, samples = data.samples;
  ST_CHECK(data.n == n && samples >= 1, "discover: data for n = " << data.n << ", options for n = " << n);

  Generator gen(restart_seed(opt.seed, restart));
  Tensor wa = rand_normal({r, nn}, gen, 0, opt.init_std).set_requires_grad(true);  // latent weights
  Tensor wb = rand_normal({r, nn}, gen, 0, opt.init_std).set_requires_grad(true);
  Tensor wc = rand_normal({nn, r}, gen, 0, opt.init_std).set_requires_grad(true);
  const std::vector<Tensor> params{wa, wb, wc};
  Adam adam(params, AdamOptions{opt.lr});

  // One pass over the data in batches (narrow: views, no copies); returns the mean loss. In the
  // ternary phase the forward uses ternarize_fixed(w, 1) ∈ {−1, 0, 1} and its gradient reaches
  // the latent w unchanged (straight-through).
  auto epoch = [&](bool ternary_phase, double pull) {
    double total = 0;
    for (int64_t s0 = 0; s0 < samples; s0 += opt.batch) {
      const int64_t count = std::min(opt.batch, samples - s0);
      adam.zero_grad();
      Tensor loss;
      if (ternary_phase)
        loss = spn_loss(ternarize_fixed(wa, 1), ternarize_fixed(wb, 1), ternarize_fixed(wc, 1), narrow(data.a, 0, s0, count),
                        narrow(data.b, 0, s0, count), narrow(data.c, 0, s0, count));
      else
        loss = spn_loss(wa, wb, wc, narrow(data.a, 0, s0, count), narrow(data.b, 0, s0, count), narrow(data.c, 0, s0, count));
      total += static_cast<double>(loss.item()) * static_cast<double>(count);
      loss.backward();
      // L1 (full precision only), added to the gradient: of the continuum of equivalent real
      // solutions (the symmetry group of the matrix-multiplication tensor maps one onto others)
      // it prefers the sparse ones, which is where the ternary ones lie. Measured (n = 2, r = 7,
      // 25 restarts): 25 and 25 exact at seeds 0 and 1 with l1 = 1e-3, 5 and 11 without.
      if (!ternary_phase && opt.l1 > 0)
        for (const Tensor& p : params) {
          const real* w = p.data();
          Tensor grad = p.grad();
          real* g = grad.data();
          const real l1 = static_cast<real>(opt.l1);
          for (int64_t i = 0; i < p.numel(); ++i) g[i] += l1 * static_cast<real>((w[i] > 0) - (w[i] < 0));
        }
      // The pull towards the nearest ternary value (weight growing over the phase) lets the loss
      // steer the weights to a ternary point instead of rounding them at the end. No help for
      // n = 2 (11 of 12 exact at 0.01 against 12 of 12); for n = 3, r = 23 it is what found exact
      // solutions at all (docs/discover.md).
      if (pull > 0)
        for (const Tensor& p : params) {
          const real* w = p.data();
          Tensor grad = p.grad();
          real* g = grad.data();
          for (int64_t i = 0; i < p.numel(); ++i) {
            const real q = w[i] > real(0.5) ? real(1) : (w[i] < real(-0.5) ? real(-1) : real(0));
            g[i] += static_cast<real>(2 * pull) * (w[i] - q);
          }
        }
      adam.step();
      // Latent weights beyond ±1.5 round the same way however far they drift; the clip keeps
      // them close enough to flip back when the straight-through gradient turns.
      if (ternary_phase)
        for (Tensor p : params) {  // a handle: the data are shared
          real* w = p.data();
          for (int64_t i = 0; i < p.numel(); ++i) w[i] = std::clamp(w[i], real(-1.5), real(1.5));
        }
    }
    return total / static_cast<double>(samples);
  };

  RestartResult res;
  res.restart = restart;
  for (int64_t e = 0; e < opt.fp_epochs; ++e) {
    // Cosine decay to 0: the late small steps let the loss fall to rounding level, so that the
    // solution is close to exact before it is balanced and rounded.
    adam.set_lr(opt.lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(e) / static_cast<double>(opt.fp_epochs))));
    const double progress = static_cast<double>(e) / static_cast<double>(opt.fp_epochs);
    res.fp_loss = epoch(false, opt.ternary_pull * progress * progress);
  }

  balance_products(wa, wb, wc);
  adam.reset();
  adam.set_lr(opt.ternary_lr);
  // The ternary weights are checked exactly after every ternary epoch (and once before the
  // first); the best seen are kept, and the phase stops at the first exact ones.
  auto current = [&] {
    MatmulAlgorithm alg;
    alg.n = n, alg.r = r;
    alg.wa = ternary_ints(wa), alg.wb = ternary_ints(wb), alg.wc = ternary_ints(wc);
    return alg;
  };
  res.algorithm = current();
  res.check = check_brent(res.algorithm);
  for (int64_t e = 0; e < opt.ternary_epochs && !res.check.exact(); ++e) {
    epoch(true, 0);
    ++res.ternary_epochs_run;
    MatmulAlgorithm alg = current();
    const BrentCheck check = check_brent(alg);
    if (better(check, res.check)) res.algorithm = std::move(alg), res.check = check;
  }
  res.additions = count_additions(res.algorithm);

  // Loss of the kept ternary weights on the training data, in batches as in training.
  NoGradGuard no_grad;
  const Tensor qa = to_tensor(res.algorithm.wa, {r, nn}), qb = to_tensor(res.algorithm.wb, {r, nn}),
               qc = to_tensor(res.algorithm.wc, {nn, r});
  double total = 0;
  for (int64_t s0 = 0; s0 < samples; s0 += opt.batch) {
    const int64_t count = std::min(opt.batch, samples - s0);
    total += static_cast<double>(spn_loss(qa, qb, qc, narrow(data.a, 0, s0, count), narrow(data.b, 0, s0, count),
                                          narrow(data.c, 0, s0, count))
                                     .item()) *
             static_cast<double>(count);
  }
  res.ternary_loss = total / static_cast<double>(samples);
  return res;
}

DiscoverResult discover_matmul(const DiscoverOptions& opt, int64_t restarts) {
  opt.validate();
  ST_CHECK(restarts >= 1, "discover: restarts must be at least 1, got " << restarts);
  const auto t0 = std::chrono::steady_clock::now();
  // The data depend on the seed only; the restarts' seeds are mixed with their index.
  const ProductData data = make_product_data(opt.n, opt.samples, opt.seed);
  DiscoverResult out;
  out.restarts.resize(restarts);
  out.threads = omp_get_max_threads();
  // Each restart runs on one thread: the ops' own OpenMP loops are nested inside this region and
  // so run serially, and a restart's arithmetic is the same for any thread count. Exceptions must
  // not cross the region: the first message is kept and rethrown after it.
  std::string failure;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < restarts; ++k) {
    try {
      out.restarts[k] = discover_restart(opt, data, k);
    } catch (const std::exception& e) {
#pragma omp critical(discover_failure)
      if (failure.empty()) failure = e.what();
    }
  }
  if (!failure.empty()) throw Error(failure);
  int64_t best = -1;
  for (int64_t k = 0; k < restarts; ++k) {
    const RestartResult& r = out.restarts[k];
    out.exact_count += r.check.exact();
    if (best < 0 || (!out.restarts[best].check.exact() && (r.check.exact() || better(r.check, out.restarts[best].check)))) best = k;
  }
  out.best = best;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace st
