// EpochSampler (DistributedSampler semantics) and the token-stream loader.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <numeric>

#include "data/sampler.h"
#include "data/token_streams.h"

using namespace st;

namespace {

std::vector<int64_t> iota(int64_t n, int64_t start = 0) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

std::vector<int64_t> indices_of(const std::vector<SampledExample>& s) {
  std::vector<int64_t> out;
  for (const SampledExample& e : s) out.push_back(e.index);
  return out;
}

}  // namespace

TEST_CASE("sampler: the shards of world sizes 2 and 3 together are one epoch's permutation", "[data][sampler]") {
  const std::vector<int64_t> indices = iota(90, 1000);  // 90 divides by 2 and by 3
  SamplerOptions one;
  one.seed = 17;
  const auto whole = EpochSampler(indices, one).epoch(4);
  REQUIRE(whole.size() == 90);
  auto sorted = indices_of(whole);
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == indices);  // a permutation
  CHECK(indices_of(whole) != indices);  // shuffled
  for (int64_t world : {2, 3}) {
    std::vector<int64_t> merged(90, -1);
    for (int64_t rank = 0; rank < world; ++rank) {
      SamplerOptions o = one;
      o.rank = rank;
      o.world_size = world;
      const EpochSampler s(indices, o);
      CHECK(s.size() == 90 / world);
      const auto mine = s.epoch(4);
      for (size_t i = 0; i < mine.size(); ++i) {
        CHECK(mine[i].position == rank + static_cast<int64_t>(i) * world);
        merged[static_cast<size_t>(mine[i].position)] = mine[i].index;
      }
    }
    CHECK(merged == indices_of(whole));  // the same permutation on every rank, strided
  }
}

TEST_CASE("sampler: uneven epochs are padded from the start or dropped", "[data][sampler]") {
  SamplerOptions o;
  o.shuffle = false;
  o.world_size = 4;
  const std::vector<int64_t> indices = iota(10);
  std::vector<int64_t> served;
  for (int64_t r = 0; r < 4; ++r) {
    o.rank = r;
    const auto s = EpochSampler(indices, o).epoch(0);
    CHECK(s.size() == 3);  // ceil(10 / 4)
    for (const auto& e : s) served.push_back(e.index);
  }
  std::sort(served.begin(), served.end());
  CHECK(served == std::vector<int64_t>{0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // 0 and 1 repeated as padding
  o.drop_last = true;
  o.rank = 1;
  CHECK(indices_of(EpochSampler(indices, o).epoch(0)) == std::vector<int64_t>{1, 5});  // 8 of 10 kept
  // Fewer examples than ranks: padding repeats the list; dropping leaves nothing, an error.
  o.drop_last = false;
  o.rank = 3;
  CHECK(indices_of(EpochSampler({7, 8}, o).epoch(0)) == std::vector<int64_t>{8});
  o.drop_last = true;
  CHECK_THROWS_WITH(EpochSampler({7, 8}, o), Catch::Contains("4 ranks"));
  o.rank = 4;
  CHECK_THROWS_WITH(EpochSampler(indices, o), Catch::Contains("rank 4"));
  o.rank = 0;
  o.world_size = 0;
  CHECK_THROWS_WITH(EpochSampler(indices, o), Catch::Contains("world_size"));
}

TEST_CASE("token streams: B parallel streams in T-step blocks with next-token targets", "[data][tokens]") {
  // 0..102: L = (103 - 1) / 4 = 25 tokens per stream; blocks of 10, 10, 5.
  auto corpus = std::make_shared<const std::vector<int64_t>>(iota(103));
  TokenStreamOptions o;
  o.streams = 4;
  o.steps = 10;
  TokenStreamLoader l(corpus, o);
  CHECK(l.stream_length() == 25);
  CHECK(l.batches_per_epoch() == 3);
  CHECK(l.examples_per_epoch() == 100);
  l.start_epoch(0);
  Batch b;
  int64_t k = 0;
  while (l.next(b)) {
    CHECK(b.is_tokens());
    CHECK(b.rows == 4);
    CHECK(b.steps == (k < 2 ? 10 : 5));
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t t = 0; t < b.steps; ++t) {
        CHECK(b.tokens[r * b.steps + t] == r * 25 + k * 10 + t);
        CHECK(b.targets[r * b.steps + t] == r * 25 + k * 10 + t + 1);
      }
    ++k;
  }
  CHECK(k == 3);
  o.drop_last = true;
  CHECK(TokenStreamLoader(corpus, o).batches_per_epoch() == 2);
}

TEST_CASE("token streams: ranks take contiguous shares of the streams", "[data][tokens]") {
  auto corpus = std::make_shared<const std::vector<int64_t>>(iota(301));
  TokenStreamOptions o;
  o.streams = 6;
  o.steps = 7;
  const Batch whole = TokenStreamLoader(corpus, o).make_batch(0, 3);
  for (int64_t world : {2, 3}) {
    std::vector<int64_t> tokens, targets;
    for (int64_t r = 0; r < world; ++r) {
      TokenStreamOptions s = o;
      s.rank = r;
      s.world_size = world;
      const Batch part = TokenStreamLoader(corpus, s).make_batch(0, 3);
      CHECK(part.rows == 6 / world);
      tokens.insert(tokens.end(), part.tokens.begin(), part.tokens.end());
      targets.insert(targets.end(), part.targets.begin(), part.targets.end());
    }
    CHECK(tokens == whole.tokens);
    CHECK(targets == whole.targets);
  }
  o.world_size = 4;
  CHECK_THROWS_WITH(TokenStreamLoader(corpus, o), Catch::Contains("world size 4") && Catch::Contains("6 streams"));
  o.world_size = 1;
  CHECK_THROWS_WITH(TokenStreamLoader(std::make_shared<const std::vector<int64_t>>(iota(6)), o),
                    Catch::Contains("6 tokens"));
  o.steps = 0;
  CHECK_THROWS_WITH(TokenStreamLoader(corpus, o), Catch::Contains("steps"));
}
