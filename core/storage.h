#pragma once
// Storage: one 64-byte aligned, heap-allocated buffer of `real`, shared by a tensor and its views.
#include <cstddef>
#include <memory>

#include "core/real.h"

namespace st {

class Storage {
 public:
  // Uninitialised buffer of n elements (n may be 0).
  explicit Storage(size_t n);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  real* data() { return data_; }
  const real* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  real* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace st
