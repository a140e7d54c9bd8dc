#pragma once
// Ways of sharing [0, n) out over an OpenMP team. Every split is a function of n and the team
// size only (never of timing), so results that depend on which thread sums what are still
// deterministic for a given thread count.
//
// parallel_for(n, grain, f): calls f(begin, end) on disjoint contiguous chunks of [0, n) from an
// OpenMP team; runs inline when n < grain (small work is cheaper on one thread) or when already
// inside a parallel region.
// parallel_chunks(n, f): f(thread, begin, end) on every thread of a team, one contiguous chunk
// each (possibly empty); returns the team size.
// parallel_pieces(n, pieces, f): f(piece, begin, end) for piece i = [n*i/pieces, n*(i+1)/pieces),
// the pieces handed out to the team's threads as they finish.
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

template <class F>
int parallel_chunks(int64_t n, F&& f) {
  int used = 1;
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    if (t == 0) used = nt;
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
    f(t, begin, end);
  }
  return used;
}

template <class F>
void parallel_pieces(int64_t n, int64_t pieces, F&& f) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < pieces; ++i) f(i, n * i / pieces, n * (i + 1) / pieces);
}

}  // namespace st
