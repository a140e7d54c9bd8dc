#pragma once
// Generator: a seeded, counter-based random number generator (SplitMix64 over a counter).
//
// Element k of a fill is a pure function of (state, k), so fills parallelised with OpenMP give
// the same numbers for any thread count, and the whole state is two integers (checkpointable).
#include <cstdint>

#include "core/tensor.h"

namespace st {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { set_seed(seed); }
  void set_seed(uint64_t seed);

  // Single draws (advance the counter by one).
  uint64_t next_u64();
  double uniform();                        // [0, 1)
  double uniform(double low, double high);  // [low, high)
  double normal(double mean = 0, double stddev = 1);
  int64_t randint(int64_t n);               // [0, n)

  // Fills (advance the counter by numel).
  void fill_uniform(Tensor& t, double low, double high);
  void fill_normal(Tensor& t, double mean, double stddev);
  void fill_bernoulli(Tensor& t, double p);  // 1 with probability p, else 0

  // State for checkpoints.
  struct State {
    uint64_t seed = 0;
    uint64_t counter = 0;
  };
  State state() const { return {seed_, counter_}; }
  void set_state(const State& s) { seed_ = s.seed, counter_ = s.counter; }

 private:
  uint64_t seed_ = 0;
  uint64_t counter_ = 0;
};

// Convenience constructors drawing from `gen`.
Tensor rand_uniform(const Shape& shape, Generator& gen, double low = 0, double high = 1);
Tensor rand_normal(const Shape& shape, Generator& gen, double mean = 0, double stddev = 1);

}  // namespace st
