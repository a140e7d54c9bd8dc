#pragma once
// parallel_for(n, grain, f): calls f(begin, end) on disjoint contiguous chunks of [0, n) from an
// OpenMP team; runs inline when n < grain (small work is cheaper on one thread) or when already
// inside a parallel region. Chunking is static, so results never depend on timing.
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace st {

template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  const int threads = omp_get_max_threads();
  if (n < grain || threads == 1 || omp_in_parallel()) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
    if (begin < end) f(begin, end);
  }
}

}  // namespace st
