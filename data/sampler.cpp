#include "data/sampler.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace st {

namespace {

// SplitMix64's finaliser.
uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t derive_epoch_seed(uint64_t seed, int64_t epoch, uint64_t stream) {
  return mix64(mix64(mix64(seed) ^ static_cast<uint64_t>(epoch)) ^ stream);
}

void shuffle_in_place(std::vector<int64_t>& v, Generator& gen) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) std::swap(v[i], v[gen.randint(i + 1)]);
}

void SamplerOptions::validate() const {
  ST_CHECK(world_size >= 1, "sampler: world_size must be >= 1, got " << world_size);
  ST_CHECK(rank >= 0 && rank < world_size, "sampler: rank " << rank << " outside [0, " << world_size << ")");
}

EpochSampler::EpochSampler(std::vector<int64_t> indices, const SamplerOptions& options)
    : indices_(std::move(indices)), options_(options) {
  options_.validate();
  ST_CHECK(!indices_.empty(), "sampler: empty index list");
  ST_CHECK(size() > 0, "sampler: " << indices_.size() << " examples with drop_last give nothing to each of "
                                   << options_.world_size << " ranks");
}

int64_t EpochSampler::size() const {
  const int64_t n = static_cast<int64_t>(indices_.size()), w = options_.world_size;
  return options_.drop_last ? n / w : (n + w - 1) / w;
}

std::vector<SampledExample> EpochSampler::epoch(int64_t epoch) const {
  ST_CHECK(epoch >= 0, "sampler: epoch must be >= 0, got " << epoch);
  std::vector<int64_t> order = indices_;
  if (options_.shuffle) {
    Generator gen(derive_epoch_seed(options_.seed, epoch, kShuffleStream));
    shuffle_in_place(order, gen);
  }
  const int64_t n = static_cast<int64_t>(order.size()), w = options_.world_size, total = size() * w;
  std::vector<SampledExample> mine;
  mine.reserve(static_cast<size_t>(size()));
  for (int64_t position = options_.rank; position < total; position += w)
    mine.push_back({order[position % n], position});  // position >= n: the padding repeats the start
  return mine;
}

}  // namespace st
