#pragma once
// The register tiles every register-tile conv kernel is built from (internal to the conv
// kernels: conv_forward.cpp, conv_input_gradient.cpp, conv_weight_gradient.cpp).
//
// A tile computes C[MR, NV packets] = sum over d < depth of A(r, d) * B(d, :): A broadcast one
// value at a time, B read in SIMD packets (Eigen's packet primitives: AVX-512, AVX or SSE as
// compiled), MR × NV accumulators held in registers. The tile shapes (kMR, kNV, kWideMR, kPanel)
// are in conv_paths.h with the rules that count in them.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "core/kernels/conv_paths.h"
#include "core/real.h"

namespace st::conv_detail {

// The register tile: C[MR, NV*kPacket] = init + sum over d < depth of A(r, d) * B(d, :), with
//   A(r, d) = a[d*MR + r]         (A packed [depth][MR])        unless A_ROWS, then arow[r][d];
//   B(d, :) = b + boff[d]         (rows anywhere, e.g. in S)    unless !B_OFFS, then b + d*ldb;
// C's rows are ldc apart, or at crow[r] when C_ROWS;
// init = row_init[r] when row_init is given, else 0, and C's old values are added when load_c;
// then max(·, 0) when relu.
// Every pointer must have the full tile behind it (callers pad their buffers).
template <int MR, int NV, bool A_ROWS, bool B_OFFS, bool C_ROWS = false>
inline void tile(int64_t depth, const real* a, const real* const* arow, const real* b, const int64_t* boff,
                 int64_t ldb, real* c, int64_t ldc, bool load_c, const real* row_init, real* const* crow = nullptr,
                 bool relu = false) {
  using namespace Eigen::internal;
  real* cr[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) cr[r] = C_ROWS ? crow[r] : c + r * ldc;
  Packet acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = pset1<Packet>(row_init ? row_init[r] : real(0));
  const real* ar[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) ar[r] = A_ROWS ? arow[r] : a + r;
  for (int64_t d = 0; d < depth; ++d) {
    const real* bd = B_OFFS ? b + boff[d] : b + d * ldb;
    Packet bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = ploadu<Packet>(bd + v * kPacket);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const Packet av = pset1<Packet>(A_ROWS ? ar[r][d] : a[d * MR + r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = pmadd(av, bv[v], acc[r][v]);
    }
  }
  // C is added at the end rather than loaded first: its loads (often cache misses, in an output
  // that is accumulated into) then overlap the products instead of holding up every chain (8e992e0).
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      Packet out = acc[r][v];
      if (load_c) out = padd(out, ploadu<Packet>(cr[r] + v * kPacket));
      if (relu) out = pmax(out, pset1<Packet>(real(0)));
      pstoreu(cr[r] + v * kPacket, out);
    }
}

// The register tile over B rows b + boff[d] for a panel whose first np <= kPanel positions are
// used, into c (rows ldc apart, kPanel wide): one packet wide where np fits one packet
// (one_packet_tile, conv_paths.h), half the products of the full tile.
template <int MR>
inline void panel_tile(int64_t np, int64_t depth, const real* a, const real* b, const int64_t* boff, real* c,
                       int64_t ldc, bool load_c, const real* bias, bool relu) {
  if (one_packet_tile(np))
    tile<MR, 1, false, true>(depth, a, nullptr, b, boff, 0, c, ldc, load_c, bias, nullptr, relu);
  else
    tile<MR, kNV, false, true>(depth, a, nullptr, b, boff, 0, c, ldc, load_c, bias, nullptr, relu);
}

// out[rows, np] (rows P apart; = or += when load_c) = the MR-row register tile over B rows
// b + boff[d], bias and ReLU as in tile(). A partial block (rows < MR or np < kPanel) goes
// through tmp [MR, kPanel], since the tile writes its whole extent.
template <int MR>
inline void tile_to_output(int64_t depth, const real* a, const real* b, const int64_t* boff, real* out, int64_t P,
                           int64_t rows, int64_t np, bool load_c, const real* bias, bool relu, real* tmp) {
  if (rows == MR && np == kPanel) {
    tile<MR, kNV, false, true>(depth, a, nullptr, b, boff, 0, out, P, load_c, bias, nullptr, relu);
    return;
  }
  if (load_c)
    for (int64_t r = 0; r < rows; ++r) std::copy(out + r * P, out + r * P + np, tmp + r * kPanel);
  panel_tile<MR>(np, depth, a, b, boff, tmp, kPanel, load_c, bias, relu);
  for (int64_t r = 0; r < rows; ++r) std::copy(tmp + r * kPanel, tmp + r * kPanel + np, out + r * P);
}

// tile_to_output for a block `width` rows tall (kMR or kWideMR; tmp [width, kPanel]).
inline void block_to_output(int width, int64_t depth, const real* a, const real* b, const int64_t* boff, real* out,
                            int64_t P, int64_t rows, int64_t np, bool load_c, const real* bias, bool relu,
                            real* tmp) {
  if (width == kWideMR)
    tile_to_output<kWideMR>(depth, a, b, boff, out, P, rows, np, load_c, bias, relu, tmp);
  else
    tile_to_output<kMR>(depth, a, b, boff, out, P, rows, np, load_c, bias, relu, tmp);
}

// Prefetches `count` values at p (none when p is null) into L2 in `steps` even slices, one slice
// per step(). Spread over the tiles of one image, it brings in the next image's tensors while the
// core computes, which it would otherwise read from the last-level cache or memory when it builds
// that image's S (where: prefetch_next_image, conv_paths.h).
class SpreadPrefetch {
 public:
  SpreadPrefetch(const real* p, int64_t count, int64_t steps)
      : p_(reinterpret_cast<const char*>(p)),
        lines_(p ? (count * int64_t(sizeof(real)) + kLine - 1) / kLine : 0),
        per_step_((lines_ + std::max<int64_t>(1, steps) - 1) / std::max<int64_t>(1, steps)) {}
  void step() {
    const int64_t end = std::min(lines_, done_ + per_step_);
    for (; done_ < end; ++done_) __builtin_prefetch(p_ + done_ * kLine, 0, 2);
  }

 private:
  static constexpr int64_t kLine = 64;
  const char* p_;
  int64_t lines_, per_step_, done_ = 0;
};

}  // namespace st::conv_detail
