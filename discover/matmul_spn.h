#pragma once
// Learning matrix-multiplication algorithms with a sum-product network (strassennets.md §1, §7).
//
// An algorithm that multiplies n×n matrices with r multiplications is a triple of matrices
//
//   W_a: [r, n²], W_b: [r, n²], W_c: [n², r]      vec(C) = W_c [ (W_b vec(B)) ⊙ (W_a vec(A)) ]
//
// with vec() row-major (vec(A)[i·n + j] = A_ij). It is exact for every A, B iff the n⁶ Brent
// equations hold: for all i, j, k, l, m, p
//
//   sum_t W_a[t, i·n+j] · W_b[t, k·n+l] · W_c[m·n+p, t]  =  [j == k] · [i == m] · [l == p],
//
// the right-hand side being the matrix-multiplication tensor (C_mp = sum_j A_mj B_jp). With
// entries in {−1, 0, 1} the r products are the only multiplications; Strassen's algorithm is
// n = 2, r = 7.
//
// discover_matmul() searches for such ternary triples the way the paper does: an SPN trained on
// synthetic products with an L2 loss, first in full precision, then with W_a, W_b, W_c ternarized
// in the forward pass and straight-through gradients; every restart's ternary result is then
// checked exactly, in integer arithmetic.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace st {

// An integer SPN algorithm for n×n products with r multiplications (row-major, shapes above).
struct MatmulAlgorithm {
  int64_t n = 0, r = 0;
  std::vector<int> wa;  // [r, n²]
  std::vector<int> wb;  // [r, n²]
  std::vector<int> wc;  // [n², r]

  int a(int64_t t, int64_t ij) const { return wa[t * n * n + ij]; }
  int b(int64_t t, int64_t kl) const { return wb[t * n * n + kl]; }
  int c(int64_t mp, int64_t t) const { return wc[mp * r + t]; }
};

// Entry [ij, kl, mp] of the n×n matrix-multiplication tensor (indices into row-major vec()):
// 1 if A_ij · B_kl contributes to C_mp, i.e. j == k, i == m, l == p; else 0.
int matmul_tensor_entry(int64_t n, int64_t ij, int64_t kl, int64_t mp);

// The result of checking all n⁶ Brent equations in exact integer arithmetic.
struct BrentCheck {
  int64_t equations = 0;     // n⁶
  int64_t violated = 0;      // equations whose two sides differ
  int64_t residual_l1 = 0;   // sum over equations of |lhs − rhs|
  int64_t residual_sq = 0;   // sum of (lhs − rhs)²: ‖residual tensor‖², the expected L2 loss
                             // of the SPN on standard-normal A, B
  bool exact() const { return violated == 0; }
};
// Checks `alg` (any integer entries). Throws st::Error if the vectors do not match n and r.
BrentCheck check_brent(const MatmulAlgorithm& alg);

// Additions needed to evaluate `alg` naively, without reusing common subexpressions: each row of
// W_a and W_b with k > 0 non-zeros costs k − 1 additions (forming one factor), and each row of
// W_c costs k − 1 (summing the products into one output). Strassen's algorithm: 5 + 5 + 8 = 18.
int64_t count_additions(const MatmulAlgorithm& alg);

// Strassen's 2×2 algorithm (Strassen 1969, in the common M1..M7 numbering).
MatmulAlgorithm strassen_algorithm();
// The schoolbook algorithm: r = n³ products A_ij · B_jl, one per (i, j, l).
MatmulAlgorithm naive_algorithm(int64_t n);

// "M1 = (A11 + A22) * (B11 + B22)" lines followed by "C11 = M1 + M4 - M5 + M7" lines.
std::string format_algorithm(const MatmulAlgorithm& alg);

// ---- the SPN, with the engine's ops (autograd through linear, mul, ternarize_fixed)

// Rows of a, b: vec(A_s), vec(B_s) for N samples, [N, n²]; wa, wb: [r, n²]; wc: [n², r].
// Returns [N, n²], row s = W_c [(W_b vec(B_s)) ⊙ (W_a vec(A_s))].
Tensor spn_forward(const Tensor& wa, const Tensor& wb, const Tensor& wc, const Tensor& a, const Tensor& b);
// The L2 loss: (1/N) · sum_s ‖spn_forward(...)_s − c_s‖², c: [N, n²] (vec(A_s B_s)); shape [].
Tensor spn_loss(const Tensor& wa, const Tensor& wb, const Tensor& wc, const Tensor& a, const Tensor& b, const Tensor& c);

// ---- the search

// How one restart trains. Defaults were measured on n = 2, r = 7 (docs/discover.md).
struct DiscoverOptions {
  int64_t n = 2;
  int64_t r = 7;
  int64_t samples = 100000;  // synthetic products, shared by all restarts
  int64_t batch = 64;
  int64_t fp_epochs = 20;       // full-precision phase
  int64_t ternary_epochs = 10;  // ternary phase (stops early once the ternary weights are exact)
  double lr = 0.01;             // Adam, cosine-decayed to 0 over the full-precision phase
  double ternary_lr = 0.003;    // Adam, constant in the ternary phase
  double l1 = 1e-3;             // L1 penalty in the full-precision phase (favours sparse solutions)
  double ternary_pull = 0;      // weight of Σ (w − nearest ternary)², growing as (epoch/fp_epochs)²
  double init_std = 0.5;        // initial weights ~ N(0, init_std²)
  uint64_t seed = 0;

  // The first problem with these options as one sentence naming the value ("--n must be at
  // least 1, got 0"; sizes too large to be sensible), or "" when they are valid. The command line
  // turns it into a usage error; validate() throws it as st::Error.
  std::string problem() const;
  void validate() const;
};

struct RestartResult {
  int64_t restart = 0;
  double fp_loss = 0;       // mean training loss of the last full-precision epoch
  double ternary_loss = 0;  // training loss of `algorithm`
  int64_t ternary_epochs_run = 0;
  // The best ternary weights seen (fewest violated equations, then smallest residual), checked
  // before the ternary phase and after each of its epochs; the first exact ones end the phase.
  MatmulAlgorithm algorithm;
  BrentCheck check;
  int64_t additions = 0;
};

struct DiscoverResult {
  std::vector<RestartResult> restarts;  // in restart order
  int64_t exact_count = 0;
  double seconds = 0;
  int threads = 1;
  // Index into `restarts` of the first exact restart, or of the one with the fewest violated
  // equations (then the smallest residual) when none is exact.
  int64_t best = 0;
};

// Synthetic products: a, b ~ N(0, 1) entrywise, c = vec(A B); each [samples, n²]. Drawn from
// st::Generator(seed), so they depend on the seed only. (With standard-normal inputs the expected
// loss is exactly ‖residual tensor‖² = BrentCheck::residual_sq for integer weights.)
struct ProductData {
  int64_t n = 0, samples = 0;
  Tensor a, b, c;
};
ProductData make_product_data(int64_t n, int64_t samples, uint64_t seed);

// One restart: a pure function of (options, data, restart index); its weights are drawn from
// st::Generator seeded with a mix of (options.seed, restart).
RestartResult discover_restart(const DiscoverOptions& options, const ProductData& data, int64_t restart);

// `restarts` independent restarts spread over OpenMP threads (each restart single-threaded, so
// the result does not depend on the thread count).
DiscoverResult discover_matmul(const DiscoverOptions& options, int64_t restarts);

}  // namespace st
