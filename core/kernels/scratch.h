#pragma once
// Per-thread scratch buffers for the kernels: they grow and are kept between calls, so the steady
// state allocates nothing. Aligned to Eigen's widest packet, so that packets read at multiples of
// the packet size from the start do not straddle cache lines.
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "core/real.h"

namespace st {

// Slots 0-3 belong to the register-tile conv kernels (conv.cpp), 4-5 to the batched-GEMM ones
// (conv_gemm.cpp), 6 to the shifted-image kernels (im2col.cpp), which the conv kernels call, and 7
// to the forward tiles' packed weights (conv.cpp: the calling thread's, read by all the threads
// of the kernel), 8-11 to the Winograd kernels (conv_winograd.cpp: the calling thread's
// transformed weights and chunk buffers, and each thread's rows). A slot of one thread serves one
// kernel at a time.
constexpr int kShiftedScratchSlot = 6;
constexpr int kPackedWeightsSlot = 7;
constexpr int kWinogradUSlot = 8;
constexpr int kWinogradVSlot = 9;
constexpr int kWinogradMSlot = 10;
constexpr int kWinogradRowsSlot = 11;
constexpr int kScratchSlots = 12;

// The calling thread's buffer `slot`, at least n elements.
inline real* thread_scratch(int slot, int64_t n) {
  thread_local std::vector<real, Eigen::aligned_allocator<real>> buf[kScratchSlots];
  if (static_cast<int64_t>(buf[slot].size()) < n) buf[slot].resize(n);
  return buf[slot].data();
}

}  // namespace st
