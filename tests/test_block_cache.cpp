// BlockCache (core/block_cache.h): large blocks come back for reuse at the same size, small ones
// are not kept, and the bytes held never exceed the most ever in use at once.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "core/block_cache.h"
#include "core/tensor.h"

using namespace st;

namespace {
constexpr size_t kMin = 4096;  // blocks of at least this many bytes are cached in these tests
}

TEST_CASE("BlockCache reuses a freed large block of the same size, and only of the same size", "[storage]") {
  BlockCache cache(kMin, 64);
  void* a = cache.allocate(8192);
  std::memset(a, 1, 8192);  // the block is usable
  CHECK(cache.in_use() == 8192);
  cache.deallocate(a, 8192);
  CHECK(cache.in_use() == 0);
  CHECK(cache.cached() == 8192);
  CHECK(cache.allocate(8192) == a);  // same size: the cached block
  CHECK(cache.cached() == 0);
  void* b = cache.allocate(4096);  // a new block: 8192 + 4096 in use raises the peak
  CHECK(b != a);
  CHECK(cache.peak() == 12288);
  cache.deallocate(a, 8192);
  cache.deallocate(b, 4096);
  CHECK(cache.cached() == 12288);
  // A size with no cached block of its own makes a new one, first freeing the oldest cached
  // blocks until the bytes held fit under the peak: 4096 cached + 12288 new > 12288, so both go.
  void* c = cache.allocate(12288);
  CHECK(cache.cached() == 0);
  CHECK(cache.peak() == 12288);
  cache.deallocate(c, 12288);
}

TEST_CASE("BlockCache frees only what the new block needs, oldest first", "[storage]") {
  BlockCache cache(kMin, 64);
  void* a = cache.allocate(4096);
  void* b = cache.allocate(8192);
  void* c = cache.allocate(4096 * 3);  // peak 24576
  cache.deallocate(a, 4096);
  cache.deallocate(b, 8192);
  cache.deallocate(c, 4096 * 3);
  // 8256 new bytes beside the 24576 cached would hold 32832 > the peak 24576: the oldest, a then
  // b, are freed (12288 + 8256 then fits), and c stays.
  void* d = cache.allocate(4096 * 2 + 64);
  CHECK(cache.cached() == 4096 * 3);
  CHECK(cache.allocate(4096 * 3) == c);  // c is still cached
  cache.deallocate(d, 4096 * 2 + 64);
  cache.deallocate(c, 4096 * 3);
  cache.release();
  CHECK(cache.cached() == 0);
}

TEST_CASE("BlockCache does not keep small blocks", "[storage]") {
  BlockCache cache(kMin, 64);
  void* a = cache.allocate(64);
  std::memset(a, 0, 64);
  cache.deallocate(a, 64);
  CHECK(cache.cached() == 0);
  CHECK(cache.in_use() == 0);
  CHECK(cache.peak() == 0);
}

TEST_CASE("Tensors of the process cache's size reuse their buffers", "[storage]") {
  // 32 MiB of floats: the size at which glibc would mmap, and the process cache takes over.
  const int64_t n = static_cast<int64_t>(kLargeBlockBytes / sizeof(real));
  const size_t before = large_block_cache().in_use();
  const real* first;
  {
    Tensor t = Tensor::full({n}, 2);
    first = t.data();
    CHECK(large_block_cache().in_use() == before + kLargeBlockBytes);
  }
  Tensor u = Tensor::full({n}, 3);  // same size: the same block, holding the new values
  CHECK(u.data() == first);
  CHECK(u.data()[0] == 3);
  CHECK(u.data()[n - 1] == 3);
}
