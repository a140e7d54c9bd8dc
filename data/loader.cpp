#include "data/loader.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace st {

namespace {

// SplitMix64's finaliser, to derive independent Generator seeds from (seed, epoch, stream).
uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Streams of one (seed, epoch): the order of the epoch, and the augmentation draws.
enum Stream : uint64_t { kShuffleStream = 1, kAugmentStream = 2 };

uint64_t derive_seed(uint64_t seed, int64_t epoch, Stream stream) {
  return mix64(mix64(mix64(seed) ^ static_cast<uint64_t>(epoch)) ^ stream);
}

// In-place Fisher-Yates shuffle driven by `gen`.
void shuffle_in_place(std::vector<int64_t>& v, Generator& gen) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) std::swap(v[i], v[gen.randint(i + 1)]);
}

}  // namespace

void LoaderOptions::validate() const {
  ST_CHECK(batch_size > 0, "loader: batch_size must be positive, got " << batch_size);
  ST_CHECK(prefetch >= 0, "loader: prefetch must be >= 0, got " << prefetch);
  transform.validate();
}

CifarLoader::CifarLoader(std::shared_ptr<const Cifar10> dataset, std::vector<int64_t> indices, LoaderOptions options)
    : dataset_(std::move(dataset)), indices_(std::move(indices)), options_(options) {
  options_.validate();
  ST_CHECK(dataset_ != nullptr, "loader: null dataset");
  const int64_t records = dataset_->size();
  ST_CHECK(static_cast<int64_t>(dataset_->pixels.size()) == records * Cifar10::kImageBytes,
           "loader: dataset has " << records << " labels but " << dataset_->pixels.size() << " pixel bytes (expected "
                                  << records * Cifar10::kImageBytes << ")");
  ST_CHECK(!indices_.empty(), "loader: empty index list");
  for (size_t i = 0; i < indices_.size(); ++i)
    ST_CHECK(indices_[i] >= 0 && indices_[i] < records,
             "loader: index " << indices_[i] << " at position " << i << " is outside the dataset [0, " << records << ")");
  ST_CHECK(batches_per_epoch() > 0, "loader: " << size() << " samples with batch_size " << options_.batch_size
                                               << " and drop_last give no batch");
}

CifarLoader::~CifarLoader() { stop(); }

int64_t CifarLoader::batches_per_epoch() const {
  const int64_t n = size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> CifarLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order = indices_;
  if (options_.shuffle) {
    Generator gen(derive_seed(options_.seed, epoch, kShuffleStream));
    shuffle_in_place(order, gen);
  }
  return order;
}

Batch CifarLoader::make_batch(int64_t epoch, int64_t index) const {
  ST_CHECK(epoch >= 0, "loader: epoch must be >= 0, got " << epoch);
  ST_CHECK(index >= 0 && index < batches_per_epoch(),
           "loader: batch " << index << " outside [0, " << batches_per_epoch() << ")");
  return build(epoch_order(epoch), epoch, index);
}

Batch CifarLoader::build(const std::vector<int64_t>& order, int64_t epoch, int64_t index) const {
  constexpr int64_t C = Cifar10::kChannels, H = Cifar10::kHeight, W = Cifar10::kWidth;
  const int64_t begin = index * options_.batch_size;
  const int64_t count = std::min(options_.batch_size, size() - begin);
  Batch batch;
  batch.epoch = epoch;
  batch.index = index;
  batch.images = Tensor::empty({count, C, H, W});
  batch.labels.resize(count);
  batch.records.resize(count);
  // Sample at epoch position p draws from counter p * kCropFlipDraws of the epoch's stream.
  Generator::State stream = Generator(derive_seed(options_.seed, epoch, kAugmentStream)).state();
  Generator gen;
  real* out = batch.images.data();  // [count, C, H, W]
  for (int64_t i = 0; i < count; ++i) {
    const int64_t position = begin + i, record = order[position];
    stream.counter = static_cast<uint64_t>(position) * kCropFlipDraws;
    gen.set_state(stream);
    const CropFlip choice = draw_crop_flip(options_.transform, gen);
    transform_image(dataset_->pixels.data() + record * Cifar10::kImageBytes, C, H, W, options_.transform, choice,
                    out + i * C * H * W);
    batch.labels[i] = dataset_->labels[record];
    batch.records[i] = record;
  }
  return batch;
}

void CifarLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  ST_CHECK(epoch >= 0, "loader: epoch must be >= 0, got " << epoch);
  const int64_t end = batches_per_epoch();
  ST_CHECK(first_batch >= 0 && first_batch <= end,
           "loader: first_batch " << first_batch << " outside [0, " << end << "]");
  stop();
  order_ = epoch_order(epoch);
  epoch_ = epoch;
  next_index_ = first_batch;
  end_index_ = end;
  if (options_.prefetch > 0 && first_batch < end)
    producer_ = std::thread(&CifarLoader::produce, this, first_batch, end);
}

void CifarLoader::produce(int64_t first, int64_t end) {
  try {
    for (int64_t k = first; k < end; ++k) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || static_cast<int64_t>(ready_.size()) < options_.prefetch; });
        if (stopping_) return;
      }
      // order_ and epoch_ are not written while this thread runs (start_epoch joins it first).
      Batch batch = build(order_, epoch_, k);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        ready_.push_back(std::move(batch));
      }
      cv_.notify_all();
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    cv_.notify_all();
  }
}

bool CifarLoader::next(Batch& out) {
  ST_CHECK(epoch_ >= 0, "loader: next() called before start_epoch()");
  if (next_index_ >= end_index_) return false;
  if (!producer_.joinable()) {  // prefetch == 0: build here
    out = build(order_, epoch_, next_index_++);
    return true;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return !ready_.empty() || error_ != nullptr; });
  if (ready_.empty()) {  // the producer failed on this batch
    std::exception_ptr error = error_;
    lock.unlock();
    stop();
    std::rethrow_exception(error);
  }
  out = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  cv_.notify_all();
  ++next_index_;
  return true;
}

void CifarLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (producer_.joinable()) producer_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.clear();
  error_ = nullptr;
  stopping_ = false;
  end_index_ = next_index_;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> holdout_split(int64_t n, int64_t n_holdout, uint64_t seed) {
  ST_CHECK(n >= 0, "holdout_split: n must be >= 0, got " << n);
  ST_CHECK(n_holdout >= 0 && n_holdout <= n,
           "holdout_split: cannot hold out " << n_holdout << " of " << n << " records");
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), int64_t{0});
  Generator gen(seed);
  shuffle_in_place(perm, gen);
  std::vector<int64_t> held(perm.begin(), perm.begin() + n_holdout);
  std::vector<int64_t> train(perm.begin() + n_holdout, perm.end());
  std::sort(held.begin(), held.end());
  std::sort(train.begin(), train.end());
  return {std::move(train), std::move(held)};
}

}  // namespace st
