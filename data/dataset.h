#pragma once
// Dataset: random-access examples for the batching Loader (data/loader.h).
//
// An example is one input of a fixed shape, written by the dataset into a buffer the loader owns,
// and its integer target (a class label). What is stored may vary in size per example (JPEG files
// do); example_shape() is the shape after the dataset's transform, the same for every example.
//
// Randomness: the loader hands get() a Generator positioned at this example's own counter range
// of the epoch's stream, keyed by (seed, epoch, position in the epoch), so an example's
// augmentation never depends on which thread built it, on the worker count, or on what was built
// before. A dataset declares how many draws it may take (draws_per_example); taking more would
// overlap the next position's draws.
//
// get() is called concurrently from the loader's worker threads: it must not modify the dataset.
#include <cstdint>
#include <string>

#include "core/real.h"
#include "core/rng.h"
#include "core/shape.h"

namespace st {

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  // Shape of one example after its transform, e.g. [3, 32, 32].
  virtual Shape example_shape() const = 0;
  // Upper bound on the values get() draws from `gen` for one example.
  virtual uint64_t draws_per_example() const = 0;
  // Writes example `index` (0 <= index < size()) into `out` (numel(example_shape()) values) and
  // returns its target. Throws st::Error naming the example's source when it cannot be made.
  virtual int64_t get(int64_t index, Generator& gen, real* out) const = 0;
  // Number of target classes (targets are in [0, num_classes())).
  virtual int64_t num_classes() const = 0;
  // One line for logs, e.g. "cifar10 (50000 images)".
  virtual std::string describe() const = 0;
};

}  // namespace st
