#include "core/rng.h"

#include <cmath>

#include "core/error.h"

namespace st {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// SplitMix64's output function of the k-th state.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t draw(uint64_t seed, uint64_t k) { return mix(seed + (k + 1) * kGolden); }

inline double to_unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// Box-Muller on draws 2k and 2k+1: one normal per counter pair keeps every element independent
// of the others, which is what makes parallel fills deterministic.
inline double normal_at(uint64_t seed, uint64_t k) {
  const double u1 = 1.0 - to_unit(draw(seed, 2 * k));  // (0, 1]: log is finite
  const double u2 = to_unit(draw(seed, 2 * k + 1));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

void Generator::set_seed(uint64_t seed) {
  seed_ = mix(seed ^ 0x5DEECE66Dull);
  counter_ = 0;
}

uint64_t Generator::next_u64() { return draw(seed_, counter_++); }

double Generator::uniform() { return to_unit(next_u64()); }

double Generator::uniform(double low, double high) { return low + (high - low) * uniform(); }

double Generator::normal(double mean, double stddev) {
  const double z = normal_at(seed_, counter_);
  counter_ += 2;
  return mean + stddev * z;
}

int64_t Generator::randint(int64_t n) {
  ST_CHECK(n > 0, "randint: n must be positive, got " << n);
  // Multiply-shift keeps the bias below 2^-40 for any n we will use.
  return static_cast<int64_t>((static_cast<unsigned __int128>(next_u64()) * static_cast<uint64_t>(n)) >> 64);
}

void Generator::fill_uniform(Tensor& t, double low, double high) {
  real* p = t.data();
  const int64_t n = t.numel();
  const uint64_t seed = seed_, base = counter_;
#pragma omp parallel for if (n > 65536) schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<real>(low + (high - low) * to_unit(draw(seed, base + i)));
  counter_ += n;
}

void Generator::fill_normal(Tensor& t, double mean, double stddev) {
  real* p = t.data();
  const int64_t n = t.numel();
  const uint64_t seed = seed_, base = counter_ / 2 + 1;
#pragma omp parallel for if (n > 65536) schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<real>(mean + stddev * normal_at(seed, base + i));
  counter_ = 2 * (base + n);
}

void Generator::fill_bernoulli(Tensor& t, double prob) {
  ST_CHECK(prob >= 0 && prob <= 1, "bernoulli: probability " << prob << " is outside [0, 1]");
  real* p = t.data();
  const int64_t n = t.numel();
  const uint64_t seed = seed_, base = counter_;
#pragma omp parallel for if (n > 65536) schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] = to_unit(draw(seed, base + i)) < prob ? real(1) : real(0);
  counter_ += n;
}

Tensor rand_uniform(const Shape& shape, Generator& gen, double low, double high) {
  Tensor t = Tensor::empty(shape);
  gen.fill_uniform(t, low, high);
  return t;
}

Tensor rand_normal(const Shape& shape, Generator& gen, double mean, double stddev) {
  Tensor t = Tensor::empty(shape);
  gen.fill_normal(t, mean, stddev);
  return t;
}

}  // namespace st
