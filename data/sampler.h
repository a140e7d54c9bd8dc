#pragma once
// EpochSampler: which examples an epoch serves, in which order, on which rank.
//
// Semantics of PyTorch's DistributedSampler:
//   1. order: the index list itself, or with shuffle a Fisher-Yates permutation of it drawn from a
//      Generator keyed by (seed, epoch) — the same permutation on every rank;
//   2. equal length: with drop_last the tail that does not fill a whole row of world_size is
//      dropped; without it the list is padded by repeating its own start to a multiple of world_size;
//   3. this rank's slice: positions rank, rank + world_size, rank + 2·world_size, ...
// Each entry keeps its global position in the (padded) epoch order: the loader keys an example's
// augmentation by it, so one example is augmented the same way whatever the world size, and the
// union of every rank's k-th batch is the single-process k-th batch of world_size times the size.
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace st {

struct SamplerOptions {
  bool shuffle = true;
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
  bool drop_last = false;  // drop the uneven tail instead of padding (step 2)

  // Throws st::Error unless world_size >= 1 and 0 <= rank < world_size.
  void validate() const;
};

struct SampledExample {
  int64_t index;     // into the dataset
  int64_t position;  // in the whole epoch's (padded) order, before the rank's slice
};

class EpochSampler {
 public:
  // Throws st::Error on an empty index list or invalid options.
  EpochSampler(std::vector<int64_t> indices, const SamplerOptions& options);
  // This rank's examples of epoch `epoch` (>= 0), in order.
  std::vector<SampledExample> epoch(int64_t epoch) const;
  // Examples per epoch on this rank (the same on every rank).
  int64_t size() const;
  const SamplerOptions& options() const { return options_; }

 private:
  std::vector<int64_t> indices_;
  SamplerOptions options_;
};

// SplitMix64-derived seed of stream `stream` of (seed, epoch): independent Generators for the
// order and the augmentation of each epoch.
uint64_t derive_epoch_seed(uint64_t seed, int64_t epoch, uint64_t stream);
inline constexpr uint64_t kShuffleStream = 1, kAugmentStream = 2;

// In-place Fisher-Yates shuffle driven by `gen`.
void shuffle_in_place(std::vector<int64_t>& v, Generator& gen);

}  // namespace st
