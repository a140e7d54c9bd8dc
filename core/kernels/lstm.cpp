#include "core/kernels/lstm.h"

#include <Eigen/Core>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/kernels/gemm.h"
#include "core/kernels/parallel.h"

namespace st {

namespace {

using Array = Eigen::Array<real, Eigen::Dynamic, 1>;
using ArrayMap = Eigen::Map<Array>;
using ConstArrayMap = Eigen::Map<const Array>;
using RowMat = Eigen::Matrix<real, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVec = Eigen::Matrix<real, 1, Eigen::Dynamic>;
using Stride = Eigen::OuterStride<>;
using StridedMap = Eigen::Map<RowMat, 0, Stride>;  // a column block of a row-major matrix
using ConstStridedMap = Eigen::Map<const RowMat, 0, Stride>;

// Below this many multiply-adds per step (B * 4H * H) the step loop runs on one thread: waking
// the team and a barrier per step would cost more than they save.
constexpr int64_t kStepParallelWork = int64_t(1) << 18;
constexpr int64_t kMinUnitsPerThread = 32;
// Elements per chunk for the one-off pointwise passes (bias add).
constexpr int64_t kPointwiseGrain = 8192;

int64_t row_grain(int64_t width) { return std::max<int64_t>(1, kPointwiseGrain / std::max<int64_t>(1, width)); }

// The step loop, parallelised over hidden units. body(j0, j1, barrier) runs the whole time loop
// for the units [j0, j1): the recurrent GEMM restricted to those units' gate columns, then their
// pointwise math, then barrier() before the next step needs every unit of h_t (forward) or of
// dgates_t (backward). Each thread owns one block of units for all steps, so a step costs one
// barrier instead of Eigen's fork/join per small GEMM (which, with M = B = 20 rows, parallelises
// badly). Small problems run inline on [0, H) with a no-op barrier. Block edges are multiples
// of 8 so that vectorised segments stay aligned with the packet size.
template <class Body>
void over_units(int64_t H, int64_t work_per_step, Body&& body) {
  const int64_t teams = std::min<int64_t>(omp_get_max_threads(), H / kMinUnitsPerThread);
  if (teams < 2 || work_per_step < kStepParallelWork || omp_in_parallel()) {
    body(int64_t(0), H, [] {});
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(teams))
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = ((H + nt - 1) / nt + 7) / 8 * 8;
    const int64_t j0 = std::min(H, t * chunk), j1 = std::min(H, j0 + chunk);
    // Every thread, even one with an empty block, passes the same barriers.
    body(j0, j1, [] {
#pragma omp barrier
    });
  }
}

}  // namespace

void lstm_forward(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w, real* h,
                  real* c, real* gates) {
  const int64_t T = s.T, B = s.B, I = s.I, H = s.H, G = 4 * H, N = T * B;

  // Input projections of all steps at once: gates[N, 4H] = X W_ih^T + (b_ih + b_hh).
  gemm(false, true, N, G, I, x, w.w_ih, 0, gates);
  if (w.b_ih || w.b_hh) {
    RowVec bias = RowVec::Zero(G);
    if (w.b_ih) bias += Eigen::Map<const RowVec>(w.b_ih, G);
    if (w.b_hh) bias += Eigen::Map<const RowVec>(w.b_hh, G);
    parallel_for(N, row_grain(G), [&](int64_t r0, int64_t r1) {
      Eigen::Map<RowMat>(gates + r0 * G, r1 - r0, G).rowwise() += bias;
    });
  }

  over_units(H, B * G * H, [&](int64_t j0, int64_t j1, auto&& barrier) {
    const int64_t nj = j1 - j0;
    for (int64_t t = 0; t < T; ++t) {
      real* gt = gates + t * B * G;  // [B, 4H]
      real* ht = h + t * B * H;      // [B, H]
      real* ct = c + t * B * H;      // [B, H]
      const real* h_prev = t > 0 ? h + (t - 1) * B * H : h0;  // nullptr: zeros
      const real* c_prev = t > 0 ? c + (t - 1) * B * H : c0;
      // Recurrent projection into this step's gates, for the columns of units [j0, j1) of each
      // gate q: gates_t[:, qH + j] += h_{t-1} W_hh[qH + j, :]^T.
      if (h_prev && nj > 0) {
        const ConstStridedMap hp(h_prev, B, H, Stride(H));
        for (int64_t q = 0; q < 4; ++q)
          StridedMap(gt + q * H + j0, B, nj, Stride(G)).noalias() +=
              hp * ConstStridedMap(w.w_hh + (q * H + j0) * H, nj, H, Stride(H)).transpose();
      }
      // Activations in place, then the cell and hidden states of these units.
      for (int64_t b = 0; b < B && nj > 0; ++b) {
        real* g = gt + b * G + j0;
        ArrayMap gi(g, nj), gf(g + H, nj), gg(g + 2 * H, nj), go(g + 3 * H, nj);
        gi = gi.logistic();
        gf = gf.logistic();
        gg = gg.tanh();
        go = go.logistic();
        ArrayMap cb(ct + b * H + j0, nj);
        if (c_prev)
          cb = gf * ConstArrayMap(c_prev + b * H + j0, nj) + gi * gg;
        else
          cb = gi * gg;
        ArrayMap(ht + b * H + j0, nj) = go * cb.tanh();
      }
      barrier();  // the next step's GEMM reads every unit of h_t
    }
  });
}

void lstm_backward(const LstmSizes& s, const real* x, const real* h0, const real* c0, const LstmWeights& w,
                   const real* h, const real* c, const real* gates, const real* dh_out, const real* dh_n,
                   const real* dc_n, const LstmGrads& g) {
  const int64_t T = s.T, B = s.B, I = s.I, H = s.H, G = 4 * H, N = T * B;

  // dgates [N, 4H]: gradient w.r.t. the gate pre-activations of every step.
  // dh, dc [B, H]: gradient w.r.t. h_t and c_t flowing back from step t+1 (then from the outputs).
  std::vector<real> dgates(static_cast<size_t>(N * G));
  std::vector<real> dh(static_cast<size_t>(B * H), real(0)), dc(static_cast<size_t>(B * H), real(0));
  if (dh_n) std::memcpy(dh.data(), dh_n, sizeof(real) * B * H);
  if (dc_n) std::memcpy(dc.data(), dc_n, sizeof(real) * B * H);

  over_units(H, B * G * H, [&](int64_t j0, int64_t j1, auto&& barrier) {
    const int64_t nj = j1 - j0;
    for (int64_t t = T - 1; t >= 0; --t) {
      const real* gt = gates + t * B * G;
      const real* ct = c + t * B * H;
      const real* c_prev = t > 0 ? c + (t - 1) * B * H : c0;  // nullptr: zeros
      const real* dho = dh_out ? dh_out + t * B * H : nullptr;
      real* dgt = dgates.data() + t * B * G;
      // Pointwise for units [j0, j1): dgates_t of their four gate columns, dc_{t-1}. Reads and
      // writes only these units of dh and dc, which no other thread touches.
      for (int64_t b = 0; b < B && nj > 0; ++b) {
        const real* ga = gt + b * G + j0;
        ConstArrayMap gi(ga, nj), gf(ga + H, nj), gg(ga + 2 * H, nj), go(ga + 3 * H, nj);
        real* dga = dgt + b * G + j0;
        ArrayMap dgi(dga, nj), dgf(dga + H, nj), dgg(dga + 2 * H, nj), dgo(dga + 3 * H, nj);
        ArrayMap dhb(dh.data() + b * H + j0, nj), dcb(dc.data() + b * H + j0, nj);
        if (dho) dhb += ConstArrayMap(dho + b * H + j0, nj);
        dgo = ConstArrayMap(ct + b * H + j0, nj).tanh();  // tanh(c_t), held in the dgo slot for a moment
        dcb += dhb * go * (1 - dgo.square());             // dc_t += dh_t σ(o) (1 - tanh²(c_t))
        dgo = dhb * dgo * go * (1 - go);
        dgi = dcb * gg * gi * (1 - gi);
        if (c_prev)
          dgf = dcb * ConstArrayMap(c_prev + b * H + j0, nj) * gf * (1 - gf);
        else
          dgf.setZero();
        dgg = dcb * gi * (1 - gg.square());
        dcb *= gf;  // now dc_{t-1}
      }
      barrier();  // the GEMM below reads every column of dgates_t
      // dh_{t-1}[:, j0:j1] = dgates_t W_hh[:, j0:j1] (at t = 0 only when dh0 is wanted). No barrier
      // after it: the next step's pointwise reads only this thread's units of dh.
      if ((t > 0 || g.dh0) && nj > 0)
        StridedMap(dh.data() + j0, B, nj, Stride(H)).noalias() =
            ConstStridedMap(dgt, B, G, Stride(G)) * ConstStridedMap(w.w_hh + j0, G, nj, Stride(H));
    }
  });
  if (g.dh0) ArrayMap(g.dh0, B * H) += ConstArrayMap(dh.data(), B * H);
  if (g.dc0) ArrayMap(g.dc0, B * H) += ConstArrayMap(dc.data(), B * H);

  // Parameter and input gradients as one GEMM each over all steps.
  const real* dg = dgates.data();
  if (g.dw_ih) gemm(true, false, G, I, N, dg, x, 1, g.dw_ih);  // dW_ih += dgates^T X
  if (g.dw_hh) {
    // dW_hh += dgates_{1..T-1}^T H_{0..T-2} + dgates_0^T h0
    if (T > 1) gemm(true, false, G, H, (T - 1) * B, dg + B * G, h, 1, g.dw_hh);
    if (h0) gemm(true, false, G, H, B, dg, h0, 1, g.dw_hh);
  }
  if (g.dx) gemm(false, false, N, I, G, dg, w.w_ih, 1, g.dx);  // dX += dgates W_ih
  if (g.db_ih || g.db_hh) {
    const RowVec db = Eigen::Map<const RowMat>(dg, N, G).colwise().sum();
    if (g.db_ih) Eigen::Map<RowVec>(g.db_ih, G) += db;
    if (g.db_hh) Eigen::Map<RowVec>(g.db_hh, G) += db;
  }
}

}  // namespace st
