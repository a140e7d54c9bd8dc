#include "core/block_cache.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace st {

BlockCache::~BlockCache() { release(); }

BlockCache& large_block_cache() {
  static BlockCache* cache = new BlockCache(kLargeBlockBytes, kBlockAlignment);
  return *cache;
}

void* BlockCache::allocate(size_t bytes) {
  if (bytes < min_bytes_) {
    void* p = std::aligned_alloc(alignment_, bytes);
    if (!p) throw std::bad_alloc();
    return p;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // The most recently cached block of this size: the likeliest still to be in cache.
  for (size_t i = blocks_.size(); i-- > 0;)
    if (blocks_[i].bytes == bytes) {
      void* p = blocks_[i].p;
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
      cached_ -= bytes;
      in_use_ += bytes;
      return p;
    }
  // A new block: make room for it under the high-water mark first, so that caching never raises
  // the memory held above what was once in use.
  while (!blocks_.empty() && in_use_ + cached_ + bytes > std::max(peak_, in_use_ + bytes)) evict_oldest_locked();
  void* p = std::aligned_alloc(alignment_, bytes);
  while (!p && !blocks_.empty()) {
    evict_oldest_locked();
    p = std::aligned_alloc(alignment_, bytes);
  }
  if (!p) throw std::bad_alloc();
  in_use_ += bytes;
  if (in_use_ > peak_) peak_ = in_use_;
  return p;
}

void BlockCache::deallocate(void* p, size_t bytes) {
  if (!p) return;
  if (bytes < min_bytes_) {
    std::free(p);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  in_use_ -= bytes;
  blocks_.push_back({bytes, p});
  cached_ += bytes;
}

void BlockCache::release() {
  std::lock_guard<std::mutex> lock(mutex_);
  while (!blocks_.empty()) evict_oldest_locked();
}

void BlockCache::evict_oldest_locked() {
  std::free(blocks_.front().p);
  cached_ -= blocks_.front().bytes;
  blocks_.erase(blocks_.begin());
}

size_t BlockCache::in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}
size_t BlockCache::cached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}
size_t BlockCache::peak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

}  // namespace st
