#pragma once
// Loader: batches of examples from a Dataset (data/dataset.h), built by worker threads.
//
//   auto train = std::make_shared<CifarDataset>(records, transform);
//   LoaderOptions opt;  opt.batch_size = 128;  opt.workers = 2;
//   Loader loader(train, indices, opt);
//   for (int64_t epoch = start; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch);
//     Batch b;
//     while (loader.next(b)) { ... b.inputs [B, 3, 32, 32], b.targets [B] ... }
//   }
//
// Determinism: the batches of an epoch are a pure function of (dataset, indices, options except
// workers and prefetch, epoch).
//   - order and sharding: EpochSampler (data/sampler.h), DistributedSampler's semantics;
//   - augmentation: the example at global position p of the epoch draws from the Generator of
//     derive_epoch_seed(seed, epoch, kAugmentStream) at counter p · draws_per_example()
//     (a counter-based stream: no example's draws depend on the thread that made it).
// So a run resumed at epoch e (or at batch k of epoch e) sees the same batches as one that never
// stopped, and the worker count changes only when the work is done, never its result.
//
// Threading: start_epoch() launches `workers` threads. Each claims the next unbuilt batch, in
// order, as long as it is fewer than `prefetch` batches ahead of the one next() will return, and
// builds it whole; next() hands batches out in order. workers = 0 builds each batch inside next().
// start_epoch() again and the destructor stop and join the workers first. An error making a
// batch is rethrown by next() when that batch is due. One consumer thread per loader.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "data/batch.h"
#include "data/dataset.h"
#include "data/sampler.h"

namespace st {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;  // drop the final batch when it would be smaller than batch_size
  uint64_t seed = 0;
  int64_t workers = 1;     // threads building batches; 0 = none (built inside next())
  int64_t prefetch = 3;    // batches built or being built ahead of next(); >= 1 with workers
  // Sharding (data/sampler.h): this process's rank among world_size; drop_uneven drops the tail
  // of the epoch that does not divide among the ranks instead of padding it.
  int64_t rank = 0, world_size = 1;
  bool drop_uneven = false;

  // Throws st::Error on batch_size <= 0, workers < 0, prefetch < (workers > 0 ? 1 : 0), or an
  // invalid rank / world_size.
  void validate() const;
  SamplerOptions sampler() const;
};

class Loader : public BatchSource {
 public:
  // `indices`: the examples of `dataset` this loader serves (repeats allowed). Throws st::Error on
  // a null dataset, an empty index list, an index outside [0, dataset->size()), or options that
  // give no batch at all.
  Loader(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices, LoaderOptions options);
  ~Loader() override;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  void start_epoch(int64_t epoch, int64_t first_batch = 0) override;
  bool next(Batch& out) override;
  // Stops and joins the workers; next() returns false until the next start_epoch().
  void stop();

  int64_t batches_per_epoch() const override;
  int64_t examples_per_epoch() const override;
  int64_t size() const { return sampler_.size(); }  // examples per epoch on this rank, before drop_last
  const LoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }
  int64_t epoch() const { return epoch_; }

  // Batch `index` of epoch `epoch`, built synchronously (what next() returns for it). Pure.
  Batch make_batch(int64_t epoch, int64_t index) const;

 private:
  Batch build(const std::vector<SampledExample>& order, int64_t epoch, int64_t index) const;
  void work();  // worker thread body
  bool claimable() const;  // with mutex_ held: may a worker start batch next_to_build_?

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  EpochSampler sampler_;

  // Current epoch; written only while no worker runs.
  int64_t epoch_ = -1;
  std::vector<SampledExample> order_;
  int64_t end_index_ = 0;  // batches_per_epoch() while an epoch is active, else next_index_

  // Workers <-> consumer, under mutex_.
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int64_t next_index_ = 0;     // next batch next() returns
  int64_t next_to_build_ = 0;  // next batch a worker claims
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;   // the failure of batch error_index_ (the earliest that failed)
  int64_t error_index_ = -1;
  bool stopping_ = false;
};

// Splits 0..n-1 into (train, held-out) with n_holdout indices chosen by a permutation drawn from
// Generator(seed). Both lists are sorted ascending, disjoint, and together cover 0..n-1.
// Throws st::Error unless 0 <= n_holdout <= n.
std::pair<std::vector<int64_t>, std::vector<int64_t>> holdout_split(int64_t n, int64_t n_holdout, uint64_t seed);

}  // namespace st
