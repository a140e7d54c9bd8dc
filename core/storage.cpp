#include "core/storage.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace st {

namespace {
// Activations are freed and reallocated at the same sizes every step. glibc serves blocks above
// its mmap threshold with fresh mmaps, so every step would page-fault its buffers in again
// (measured: conv forward 10.5 ms vs 7 ms CPU at batch 128). Raising the threshold to glibc's
// maximum (32 MiB on 64-bit) and not trimming keeps freed blocks in the heap for reuse, as a
// caching allocator would.
const bool g_malloc_tuned = [] {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  return true;
}();
}  // namespace

Storage::Storage(size_t n) : size_(n) {
  if (n == 0) return;
  // Round the byte count up to the alignment, as aligned_alloc requires.
  const size_t bytes = ((n * sizeof(real) + 63) / 64) * 64;
  data_ = static_cast<real*>(std::aligned_alloc(64, bytes));
  if (!data_) throw std::bad_alloc();
}

Storage::~Storage() { std::free(data_); }

}  // namespace st
