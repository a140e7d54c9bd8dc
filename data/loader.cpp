#include "data/loader.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace st {

namespace {

const LoaderOptions& validated(const LoaderOptions& o) {
  o.validate();
  return o;
}

}  // namespace

void LoaderOptions::validate() const {
  ST_CHECK(batch_size > 0, "loader: batch_size must be positive, got " << batch_size);
  ST_CHECK(workers >= 0, "loader: workers must be >= 0, got " << workers);
  ST_CHECK(prefetch >= (workers > 0 ? 1 : 0),
           "loader: prefetch must be >= " << (workers > 0 ? 1 : 0) << " with " << workers << " workers, got " << prefetch);
  sampler().validate();
}

SamplerOptions LoaderOptions::sampler() const {
  SamplerOptions s;
  s.shuffle = shuffle;
  s.seed = seed;
  s.rank = rank;
  s.world_size = world_size;
  s.drop_last = drop_uneven;
  return s;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(validated(options)), sampler_(indices, options_.sampler()) {
  ST_CHECK(dataset_ != nullptr, "loader: null dataset");
  const int64_t n = dataset_->size();
  for (size_t i = 0; i < indices.size(); ++i)
    ST_CHECK(indices[i] >= 0 && indices[i] < n,
             "loader: index " << indices[i] << " at position " << i << " is outside the dataset [0, " << n << ")");
  ST_CHECK(batches_per_epoch() > 0, "loader: " << size() << " examples with batch_size " << options_.batch_size
                                               << " and drop_last give no batch");
}

Loader::~Loader() { stop(); }

int64_t Loader::batches_per_epoch() const {
  const int64_t n = size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

int64_t Loader::examples_per_epoch() const {
  return options_.drop_last ? batches_per_epoch() * options_.batch_size : size();
}

Batch Loader::make_batch(int64_t epoch, int64_t index) const {
  ST_CHECK(epoch >= 0, "loader: epoch must be >= 0, got " << epoch);
  ST_CHECK(index >= 0 && index < batches_per_epoch(),
           "loader: batch " << index << " outside [0, " << batches_per_epoch() << ")");
  return build(sampler_.epoch(epoch), epoch, index);
}

Batch Loader::build(const std::vector<SampledExample>& order, int64_t epoch, int64_t index) const {
  const int64_t begin = index * options_.batch_size;
  const int64_t count = std::min(options_.batch_size, size() - begin);
  Shape shape = dataset_->example_shape();
  const int64_t example_numel = shape_numel(shape);
  shape.insert(shape.begin(), count);
  Batch batch;
  batch.epoch = epoch;
  batch.index = index;
  batch.inputs = Tensor::empty(shape);
  batch.targets.resize(count);
  batch.examples.resize(count);
  const uint64_t draws = dataset_->draws_per_example();
  Generator::State stream = Generator(derive_epoch_seed(options_.seed, epoch, kAugmentStream)).state();
  Generator gen;
  for (int64_t i = 0; i < count; ++i) {
    const SampledExample& e = order[begin + i];
    stream.counter = static_cast<uint64_t>(e.position) * draws;
    gen.set_state(stream);
    batch.targets[i] = dataset_->get(e.index, gen, batch.inputs.data() + i * example_numel);
    batch.examples[i] = e.index;
  }
  return batch;
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  ST_CHECK(epoch >= 0, "loader: epoch must be >= 0, got " << epoch);
  const int64_t end = batches_per_epoch();
  ST_CHECK(first_batch >= 0 && first_batch <= end, "loader: first_batch " << first_batch << " outside [0, " << end << "]");
  stop();
  order_ = sampler_.epoch(epoch);
  epoch_ = epoch;
  next_index_ = next_to_build_ = first_batch;
  end_index_ = end;
  if (first_batch < end)
    for (int64_t w = 0; w < options_.workers; ++w) workers_.emplace_back(&Loader::work, this);
}

bool Loader::claimable() const {
  return next_to_build_ < end_index_ && next_to_build_ < next_index_ + options_.prefetch;
}

void Loader::work() {
  for (;;) {
    int64_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || claimable() || next_to_build_ >= end_index_; });
      if (stopping_ || next_to_build_ >= end_index_) return;
      k = next_to_build_++;
    }
    try {
      // order_ and epoch_ are not written while workers run (start_epoch joins them first).
      Batch batch = build(order_, epoch_, k);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(k, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error_index_ < 0 || k < error_index_) error_ = std::current_exception(), error_index_ = k;
    }
    cv_.notify_all();
  }
}

bool Loader::next(Batch& out) {
  ST_CHECK(epoch_ >= 0, "loader: next() called before start_epoch()");
  if (next_index_ >= end_index_) return false;
  if (workers_.empty()) {  // workers == 0: build here
    out = build(order_, epoch_, next_index_++);
    return true;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return ready_.count(next_index_) || (error_ && error_index_ <= next_index_); });
  auto it = ready_.find(next_index_);
  if (it == ready_.end()) {  // this batch failed
    std::exception_ptr error = error_;
    lock.unlock();
    stop();
    std::rethrow_exception(error);
  }
  out = std::move(it->second);
  ready_.erase(it);
  ++next_index_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  ready_.clear();
  error_ = nullptr;
  error_index_ = -1;
  stopping_ = false;
  end_index_ = next_to_build_ = next_index_;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> holdout_split(int64_t n, int64_t n_holdout, uint64_t seed) {
  ST_CHECK(n >= 0, "holdout_split: n must be >= 0, got " << n);
  ST_CHECK(n_holdout >= 0 && n_holdout <= n, "holdout_split: cannot hold out " << n_holdout << " of " << n << " records");
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
