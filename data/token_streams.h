#pragma once
// TokenStreamLoader: a token corpus cut into B parallel streams, served as T-step blocks with the
// next token as target — the batching of truncated back-propagation through time.
//
//   corpus c[0..N), streams B, steps T:
//     L = (N − 1) / B tokens per stream (floor; the last N − 1 − B·L tokens are not used);
//     stream b reads c[b·L .. b·L + L) and predicts c[b·L + 1 .. b·L + L]
//     block k: tokens[b][t] = c[b·L + k·T + t], targets[b][t] = c[b·L + k·T + t + 1],
//     for t < T (the last block is shorter when T does not divide L, unless drop_last).
// A model carries its recurrent state from block k of stream b to block k + 1 of the same
// stream, so the rows of every block must stay in stream order: nothing is shuffled.
//
// Sharding: with world_size ranks each rank serves a contiguous share of B / world_size streams
// (rank r: streams r·B/W .. (r+1)·B/W − 1); world_size must divide B. The blocks of all ranks
// together are exactly the single-process blocks.
//
// Building a block copies integers: no worker threads.
#include <cstdint>
#include <memory>
#include <vector>

#include "data/batch.h"

namespace st {

struct TokenStreamOptions {
  int64_t streams = 20;  // B
  int64_t steps = 35;    // T
  bool drop_last = false;  // drop the final shorter block
  int64_t rank = 0, world_size = 1;

  // Throws st::Error on streams or steps <= 0, an invalid rank, or world_size not dividing streams.
  void validate() const;
};

class TokenStreamLoader : public BatchSource {
 public:
  // Throws st::Error on a null corpus, options that are invalid, or a corpus too short to give
  // every stream at least one step.
  TokenStreamLoader(std::shared_ptr<const std::vector<int64_t>> corpus, const TokenStreamOptions& options);

  void start_epoch(int64_t epoch, int64_t first_batch = 0) override;
  bool next(Batch& out) override;
  int64_t batches_per_epoch() const override;
  int64_t examples_per_epoch() const override;  // tokens predicted per epoch on this rank

  int64_t stream_length() const { return length_; }  // L
  int64_t local_streams() const { return options_.streams / options_.world_size; }
  const TokenStreamOptions& options() const { return options_; }

  // Block `index` of any epoch (every epoch serves the same blocks). Pure.
  Batch make_batch(int64_t epoch, int64_t index) const;

 private:
  std::shared_ptr<const std::vector<int64_t>> corpus_;
  TokenStreamOptions options_;
  int64_t length_ = 0;
  int64_t epoch_ = -1, next_index_ = 0;
};

}  // namespace st
