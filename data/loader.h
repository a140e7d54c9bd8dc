#pragma once
// CifarLoader: batches of transformed CIFAR-10 images, prepared by a background thread.
//
//   auto data = std::make_shared<const Cifar10>(read_cifar10_files(cifar10_split_files(dir, "train")));
//   auto [train_idx, val_idx] = holdout_split(data->size(), 5000, seed);
//   LoaderOptions opt;  opt.transform.pad_crop = 4;  opt.transform.horizontal_flip = true;
//   CifarLoader train(data, train_idx, opt);
//   for (int64_t epoch = start; epoch < epochs; ++epoch) {
//     train.start_epoch(epoch);
//     Batch b;
//     while (train.next(b)) { ... b.images [B,3,32,32], b.labels [B] ... }
//   }
//
// Determinism: the batches of an epoch are a pure function of (dataset, indices, options, epoch).
//   - order: with shuffle, a Fisher-Yates permutation of the index list drawn from a Generator
//     seeded by mix(seed, epoch); without shuffle, the list's own order;
//   - augmentation: sample at position p of the epoch takes its crop/flip from the Generator of
//     mix(seed, epoch) for augmentation, at counter p * kCropFlipDraws (a counter-based stream,
//     so no sample's draws depend on which thread made it or on what was made before).
// So a run resumed at epoch e (or at batch k of epoch e) sees the same batches as one that never
// stopped, and prefetching changes only when the work is done, never its result.
//
// Threading: start_epoch() launches one producer thread that fills a queue of at most `prefetch`
// ready batches; next() pops from it. start_epoch() again (mid-epoch or not) and the destructor
// stop and join the producer first. prefetch = 0 prepares each batch inside next() instead.
// Errors in the producer are rethrown by next(). One consumer thread per loader.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "data/cifar10.h"
#include "data/transforms.h"

namespace st {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;  // drop the final batch when it would be smaller than batch_size
  ImageTransformOptions transform;  // default: normalise only
  uint64_t seed = 0;
  int64_t prefetch = 3;  // ready batches kept ahead by the producer thread; 0 = no thread

  // Throws st::Error on batch_size <= 0, prefetch < 0 or invalid transform options.
  void validate() const;
};

struct Batch {
  Tensor images;                // [B, 3, 32, 32] real, normalised
  std::vector<int64_t> labels;  // [B], in [0, 10)
  std::vector<int64_t> records; // [B], the dataset record of each image
  int64_t epoch = 0;
  int64_t index = 0;            // batch number within the epoch, 0-based
};

class CifarLoader {
 public:
  // `indices`: the records of `dataset` this loader serves (repeats allowed). Throws st::Error on
  // a null dataset, a dataset whose pixel buffer does not match its labels, an empty index list,
  // an index outside [0, dataset->size()), or options that give no batch at all.
  CifarLoader(std::shared_ptr<const Cifar10> dataset, std::vector<int64_t> indices, LoaderOptions options);
  ~CifarLoader();
  CifarLoader(const CifarLoader&) = delete;
  CifarLoader& operator=(const CifarLoader&) = delete;

  // Begins epoch `epoch` (>= 0) at batch `first_batch` (0 .. batches_per_epoch(); the batches
  // before it are skipped, not computed). Stops and joins any producer of a previous epoch.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the current epoch into `out`; false (and `out` untouched) once the epoch is
  // exhausted. Throws st::Error before the first start_epoch().
  bool next(Batch& out);
  // Stops and joins the producer; next() returns false until the next start_epoch().
  void stop();

  int64_t batches_per_epoch() const;
  int64_t size() const { return static_cast<int64_t>(indices_.size()); }  // samples per epoch before drop_last
  const LoaderOptions& options() const { return options_; }
  int64_t epoch() const { return epoch_; }

  // Batch `index` of epoch `epoch`, built synchronously (what next() returns for it). Pure.
  Batch make_batch(int64_t epoch, int64_t index) const;

 private:
  std::vector<int64_t> epoch_order(int64_t epoch) const;  // record of each position
  Batch build(const std::vector<int64_t>& order, int64_t epoch, int64_t index) const;
  void produce(int64_t first, int64_t end);  // producer thread body

  std::shared_ptr<const Cifar10> dataset_;
  std::vector<int64_t> indices_;
  LoaderOptions options_;

  // Current epoch; written only while no producer runs.
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
  int64_t next_index_ = 0;  // next batch next() returns
  int64_t end_index_ = 0;   // batches_per_epoch() while an epoch is active, else next_index_

  // Producer <-> consumer.
  std::thread producer_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;  // in batch order
  std::exception_ptr error_;
  bool stopping_ = false;
};

// Splits 0..n-1 into (train, held-out) with n_holdout records chosen by a permutation drawn from
// Generator(seed). Both lists are sorted ascending, disjoint, and together cover 0..n-1.
// Throws st::Error unless 0 <= n_holdout <= n.
std::pair<std::vector<int64_t>, std::vector<int64_t>> holdout_split(int64_t n, int64_t n_holdout, uint64_t seed);

}  // namespace st
