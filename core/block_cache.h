#pragma once
// BlockCache: keeps freed large buffers for reuse at the same size, as a caching allocator does.
//
// Why: a training step frees its activations and gradients and allocates them again, at the same
// sizes, in the next step. glibc serves blocks of at least its mmap threshold (32 MiB at most) with
// fresh mmaps, so every step paid their page faults and the kernel's zeroing again (ResNet-18's
// activations at 112×112, batch 16, are 51 MB each; the page faults saved are in commit
// 694d6e0's message). Blocks below the threshold stay in glibc's heap and are not cached here.
//
// Bound: the cached blocks never make the process hold more than it already needed. The bytes
// held by large blocks (in use + cached) stay at or below the most ever in use at once; a request
// the cache cannot serve first frees the oldest cached blocks until it fits under that mark.
// Reuse is by exact byte count only (the same tensor shapes recur step after step).
//
// Thread-safe (one mutex; only blocks of min_bytes or more take it).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace st {

class BlockCache {
 public:
  // Blocks of at least min_bytes go through the cache; alignment as std::aligned_alloc's.
  BlockCache(size_t min_bytes, size_t alignment) : min_bytes_(min_bytes), alignment_(alignment) {}
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of `bytes` (a multiple of the alignment): a cached one of that size if there is one,
  // else a new one. Throws std::bad_alloc when memory runs out even with the cache emptied.
  void* allocate(size_t bytes);
  // Gives back a block from allocate(bytes): kept for reuse when large, else freed.
  void deallocate(void* p, size_t bytes);
  // Frees every cached block.
  void release();

  // Bytes of large blocks in use, cached, and the most ever in use at once.
  size_t in_use() const;
  size_t cached() const;
  size_t peak() const;

 private:
  struct Block {
    size_t bytes;
    void* p;
  };
  void evict_oldest_locked();

  const size_t min_bytes_, alignment_;
  mutable std::mutex mutex_;
  std::vector<Block> blocks_;  // oldest first
  size_t in_use_ = 0, cached_ = 0, peak_ = 0;
};

// glibc's largest mmap threshold: storage.cpp raises the threshold to it, so that smaller blocks
// stay in glibc's heap; the process's cache takes the blocks at or above it.
constexpr size_t kLargeBlockBytes = 32 * 1024 * 1024;

// The process's cache (blocks of kLargeBlockBytes or more, kBlockAlignment-byte aligned), shared
// by Storage and the other buffers that recur every step. Never destroyed: a buffer outliving
// static destruction may still give its block back.
constexpr size_t kBlockAlignment = 64;
BlockCache& large_block_cache();

// bytes rounded up to a multiple of kBlockAlignment, as large_block_cache().allocate requires.
inline size_t aligned_block_bytes(size_t bytes) {
  return (bytes + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
}

// An uninitialised array of n trivially destructible T from large_block_cache(), freed (or cached)
// when the last owner lets go.
template <class T>
std::shared_ptr<T[]> make_cached_array(size_t n) {
  const size_t bytes = aligned_block_bytes(std::max<size_t>(1, n) * sizeof(T));
  T* p = static_cast<T*>(large_block_cache().allocate(bytes));
  return std::shared_ptr<T[]>(p, [bytes](T* q) { large_block_cache().deallocate(q, bytes); });
}

}  // namespace st
