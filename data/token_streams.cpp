#include "data/token_streams.h"

#include <algorithm>

#include "core/error.h"

namespace st {

void TokenStreamOptions::validate() const {
  ST_CHECK(streams > 0, "token streams: streams (batch size) must be positive, got " << streams);
  ST_CHECK(steps > 0, "token streams: steps must be positive, got " << steps);
  ST_CHECK(world_size >= 1 && rank >= 0 && rank < world_size,
           "token streams: rank " << rank << " outside [0, " << world_size << ")");
  ST_CHECK(streams % world_size == 0,
           "token streams: world size " << world_size << " does not divide the " << streams << " streams");
}

TokenStreamLoader::TokenStreamLoader(std::shared_ptr<const std::vector<int64_t>> corpus,
                                     const TokenStreamOptions& options)
    : corpus_(std::move(corpus)), options_(options) {
  options_.validate();
  ST_CHECK(corpus_ != nullptr, "token streams: null corpus");
  const int64_t n = static_cast<int64_t>(corpus_->size());
  length_ = n > 0 ? (n - 1) / options_.streams : 0;
  ST_CHECK(length_ > 0, "token streams: a corpus of " << n << " tokens cannot feed " << options_.streams
                                                      << " streams (needs at least " << options_.streams + 1 << ")");
  ST_CHECK(batches_per_epoch() > 0, "token streams: " << length_ << " tokens per stream give no block of "
                                                      << options_.steps << " steps with drop_last");
}

int64_t TokenStreamLoader::batches_per_epoch() const {
  const int64_t t = options_.steps;
  return options_.drop_last ? length_ / t : (length_ + t - 1) / t;
}

int64_t TokenStreamLoader::examples_per_epoch() const {
  const int64_t steps = options_.drop_last ? batches_per_epoch() * options_.steps : length_;
  return steps * local_streams();
}

Batch TokenStreamLoader::make_batch(int64_t epoch, int64_t index) const {
  ST_CHECK(index >= 0 && index < batches_per_epoch(),
           "token streams: block " << index << " outside [0, " << batches_per_epoch() << ")");
  const int64_t rows = local_streams(), first_stream = options_.rank * rows;
  const int64_t start = index * options_.steps, steps = std::min(options_.steps, length_ - start);
  Batch b;
  b.epoch = epoch;
  b.index = index;
  b.rows = rows;
  b.steps = steps;
  b.tokens.resize(rows * steps);
  b.targets.resize(rows * steps);
  const std::vector<int64_t>& c = *corpus_;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = (first_stream + r) * length_ + start;
    for (int64_t t = 0; t < steps; ++t) {
      b.tokens[r * steps + t] = c[base + t];
      b.targets[r * steps + t] = c[base + t + 1];
    }
  }
  return b;
}

void TokenStreamLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  ST_CHECK(epoch >= 0, "token streams: epoch must be >= 0, got " << epoch);
  ST_CHECK(first_batch >= 0 && first_batch <= batches_per_epoch(),
           "token streams: first block " << first_batch << " outside [0, " << batches_per_epoch() << "]");
  epoch_ = epoch;
  next_index_ = first_batch;
}

bool TokenStreamLoader::next(Batch& out) {
  ST_CHECK(epoch_ >= 0, "token streams: next() called before start_epoch()");
  if (next_index_ >= batches_per_epoch()) return false;
  out = make_batch(epoch_, next_index_++);
  return true;
}

}  // namespace st
