#pragma once
// Batch: what a BatchSource serves to the training loop, and BatchSource, the interface of
// everything that serves batches (the example Loader, data/loader.h; the token-stream loader,
// data/token_streams.h).
//
// Two kinds of batch:
//   examples  inputs [B, example shape...] real (images), targets [B] (class labels),
//             examples [B] (the dataset index of each);
//   tokens    tokens [B, T] ids and targets [B, T] (the next token of each), row-major, with
//             rows = B parallel streams and steps = T.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace st {

struct Batch {
  Tensor inputs;                  // example batches: [B, ...]
  std::vector<int64_t> tokens;    // token batches: [rows, steps]
  std::vector<int64_t> targets;   // [B] labels, or [rows, steps] next tokens
  std::vector<int64_t> examples;  // example batches: dataset index of each example
  int64_t rows = 0, steps = 0;    // token batches: B and T
  int64_t epoch = 0;
  int64_t index = 0;              // batch number within the epoch, 0-based

  bool is_tokens() const { return steps > 0; }
  // Examples (or tokens) it holds: what a metric or a throughput counts.
  int64_t size() const { return static_cast<int64_t>(targets.size()); }
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Begins epoch `epoch` (>= 0) at batch `first_batch` (0 .. batches_per_epoch(); earlier batches
  // are skipped, not computed). Stops any work of a previous epoch first.
  virtual void start_epoch(int64_t epoch, int64_t first_batch = 0) = 0;
  // The next batch of the current epoch into `out`; false once the epoch is exhausted. Throws
  // st::Error before the first start_epoch(), and rethrows an error met while making a batch.
  virtual bool next(Batch& out) = 0;
  virtual int64_t batches_per_epoch() const = 0;
  // Examples (tokens) one epoch serves on this rank.
  virtual int64_t examples_per_epoch() const = 0;
};

}  // namespace st
