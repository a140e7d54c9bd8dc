#pragma once
// Per-thread scratch buffers for the kernels, one per role (Scratch): they grow and are kept
// between calls, so the steady state allocates nothing. Aligned to Eigen's widest packet, so that
// packets read at multiples of the packet size from the start do not straddle cache lines.
//
// A buffer of one thread serves one kernel at a time: a kernel may call another that uses other
// roles (the conv kernels call shifted_image, which uses kShiftedImageRow), never one that uses
// a role it holds.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "core/real.h"

namespace st {

enum class Scratch : int {
  // Register-tile conv kernels (conv_forward.cpp, conv_input_gradient.cpp, conv_weight_gradient.cpp).
  kConvImage,          // one image's shifted image S, padded image or adjoint dS, with its slack
  kConvTile,           // a partial register tile or one block of col: [14 rows at most][kPanel]
  kConvPanel,          // a packed panel of col, or dy's zero-padded last panel
  kConvPhases,         // the strided input gradient's phases of one image
  kConvDyTransposed,   // the weight gradient's block of dy, transposed
  kConvThreadSums,     // a thread's weight-gradient accumulator (one static chunk per thread)
  kConvPieceSums,      // every piece's weight-gradient accumulator (the calling thread's)
  kConvPackedWeights,  // the forward tiles' packed weights (the calling thread's, read by all)
  // Shifted-image builds (im2col.cpp): a padded row or channel of the image.
  kShiftedImageRow,
  // One GEMM per chunk of images (conv_gemm.cpp): col [K, nb*P] and the [Co, nb*P] planes.
  kGemmColumns,
  kGemmPlanes,
  // Winograd (conv_winograd.cpp): the calling thread's U, V and M, and each thread's rows.
  kWinogradU,
  kWinogradV,
  kWinogradM,
  kWinogradRows,
  kCount
};

// The calling thread's buffer for `role`, at least n elements.
inline real* thread_scratch(Scratch role, int64_t n) {
  thread_local std::vector<real, Eigen::aligned_allocator<real>> buf[static_cast<int>(Scratch::kCount)];
  auto& b = buf[static_cast<int>(role)];
  if (static_cast<int64_t>(b.size()) < n) b.resize(n);
  return b.data();
}

}  // namespace st
