#include "core/storage.h"

#include <cstdlib>
#include <new>

namespace st {

Storage::Storage(size_t n) : size_(n) {
  if (n == 0) return;
  // Round the byte count up to the alignment, as aligned_alloc requires.
  const size_t bytes = ((n * sizeof(real) + 63) / 64) * 64;
  data_ = static_cast<real*>(std::aligned_alloc(64, bytes));
  if (!data_) throw std::bad_alloc();
}

Storage::~Storage() { std::free(data_); }

}  // namespace st
