#include "core/storage.h"

#include <malloc.h>

#include "core/block_cache.h"

namespace st {

namespace {
// Activations are freed and reallocated at the same sizes every step. glibc serves blocks above
// its mmap threshold with fresh mmaps, so every step would page-fault its buffers in again
// (measured: conv forward 10.5 ms vs 7 ms CPU at batch 128). Raising the threshold to glibc's
// maximum (32 MiB on 64-bit) and not trimming keeps freed blocks below it in the heap for reuse;
// blocks at or above it go through a BlockCache (block_cache.h), which keeps them.
const bool g_malloc_tuned = [] {
  mallopt(M_MMAP_THRESHOLD, kLargeBlockBytes);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  return true;
}();
}  // namespace

Storage::Storage(size_t n) : size_(n) {
  if (n == 0) return;
  data_ = static_cast<real*>(large_block_cache().allocate(aligned_block_bytes(n * sizeof(real))));
}

Storage::~Storage() {
  if (data_) large_block_cache().deallocate(data_, aligned_block_bytes(size_ * sizeof(real)));
}

}  // namespace st
