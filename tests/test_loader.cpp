// Transforms (normalise, pad + crop, flip) and the prefetching CIFAR loader, on in-memory datasets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>

#include "core/error.h"
#include "data/cifar_dataset.h"
#include "data/loader.h"
#include "data/transforms.h"

using namespace st;

namespace {

constexpr int64_t C = 3, H = 32, W = 32, P = C * H * W;

// n records; record r has label r % 10 and pixel i = (r + 13 * i) % 256 (distinct records for n <= 256).
std::shared_ptr<const Cifar10> make_dataset(int64_t n) {
  auto d = std::make_shared<Cifar10>();
  d->pixels.resize(n * P);
  for (int64_t r = 0; r < n; ++r) {
    d->labels.push_back(r % 10);
    for (int64_t i = 0; i < P; ++i) d->pixels[r * P + i] = static_cast<uint8_t>((r + 13 * i) % 256);
  }
  return d;
}

std::shared_ptr<const Dataset> cifar(std::shared_ptr<const Cifar10> records, const ImageTransformOptions& tr = {}) {
  return std::make_shared<CifarDataset>(std::move(records), tr);
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.numel() * sizeof(real)) == 0;
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.epoch == b.epoch && a.index == b.index && a.targets == b.targets && a.examples == b.examples &&
         same_bits(a.inputs, b.inputs);
}

std::vector<Batch> run_epoch(Loader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

// Naive reference: build the zero-padded image explicitly, crop, flip, normalise.
std::vector<real> reference_transform(const uint8_t* src, const ImageTransformOptions& o, const CropFlip& ch) {
  const int64_t p = o.pad_crop, hp = H + 2 * p, wp = W + 2 * p;
  std::vector<int> padded(C * hp * wp, 0);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) padded[(c * hp + y + p) * wp + x + p] = src[(c * H + y) * W + x];
  std::vector<real> out(P);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t xs = ch.flip ? W - 1 - x : x;
        const int v = padded[(c * hp + y + ch.dy) * wp + xs + ch.dx];
        out[(c * H + y) * W + x] = static_cast<real>((static_cast<float>(v) - o.mean[c]) / o.stddev[c]);
      }
  return out;
}

std::vector<real> apply(const uint8_t* src, const ImageTransformOptions& o, const CropFlip& ch) {
  std::vector<real> out(P, real(-999));
  transform_image(src, C, H, W, o, ch, out.data());
  return out;
}

ImageTransformOptions identity_norm(int64_t pad) {
  ImageTransformOptions o;
  o.pad_crop = pad;
  o.mean = {0, 0, 0};
  o.stddev = {1, 1, 1};
  return o;
}

// Image with pixel (c, y, x) = 1 + (7y + 3x + 11c) % 250: never 0, so padding is recognisable.
std::vector<uint8_t> known_image() {
  std::vector<uint8_t> img(P);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) img[(c * H + y) * W + x] = static_cast<uint8_t>(1 + (7 * y + 3 * x + 11 * c) % 250);
  return img;
}

real px(const std::vector<real>& v, int64_t c, int64_t y, int64_t x) { return v[(c * H + y) * W + x]; }
int src_px(const std::vector<uint8_t>& v, int64_t c, int64_t y, int64_t x) { return v[(c * H + y) * W + x]; }

}  // namespace

TEST_CASE("transform normalises each channel with the CIFAR mean and std", "[data][transform]") {
  std::vector<uint8_t> img(P, 0);
  img[0] = 255;                   // R (0, 0)
  img[1] = 125;                   // R (0, 1)
  img[H * W + 5] = 0;             // G (0, 5)
  img[H * W + 6] = 200;           // G (0, 6)
  img[2 * H * W + 33] = 114;      // B (1, 1)
  img[2 * H * W + 34] = 17;       // B (1, 2)
  const ImageTransformOptions o;  // CIFAR statistics, no augmentation
  const auto out = apply(img.data(), o, center_crop_flip(o));
  // Hand-computed: (v - mean) / std in pixel units.
  CHECK(out[0] == Approx(2.0587302).epsilon(1e-6));            // (255 - 125.3) / 63.0
  CHECK(out[1] == Approx(-0.0047619).epsilon(1e-4));           // (125 - 125.3) / 63.0
  CHECK(out[H * W + 5] == Approx(-1.9806763).epsilon(1e-6));   // (0 - 123.0) / 62.1
  CHECK(out[H * W + 6] == Approx(1.2399356).epsilon(1e-6));    // (200 - 123.0) / 62.1
  CHECK(out[2 * H * W + 33] == Approx(0.0014993).epsilon(1e-3));   // (114 - 113.9) / 66.7
  CHECK(out[2 * H * W + 34] == Approx(-1.4527736).epsilon(1e-6));  // (17 - 113.9) / 66.7
  CHECK(out[2 * H * W + 35] == Approx(-1.7076462).epsilon(1e-6));  // (0 - 113.9) / 66.7
}

TEST_CASE("pad 4 + crop shifts the content and fills the border with normalised zeros", "[data][transform]") {
  const auto img = known_image();
  SECTION("raw values (mean 0, std 1)") {
    const auto o = identity_norm(4);
    // Centre window: the image itself.
    auto out = apply(img.data(), o, {4, 4, false});
    for (int64_t i = 0; i < P; ++i) REQUIRE(out[i] == img[i]);
    // Offset (0, 0): content moves 4 down and 4 right; top 4 rows and left 4 columns are padding.
    out = apply(img.data(), o, {0, 0, false});
    CHECK(px(out, 0, 4, 4) == src_px(img, 0, 0, 0));
    CHECK(px(out, 2, 31, 31) == src_px(img, 2, 27, 27));
    CHECK(px(out, 1, 3, 20) == 0);
    CHECK(px(out, 1, 20, 3) == 0);
    CHECK(px(out, 1, 4, 4) == src_px(img, 1, 0, 0));
    // Offset (8, 8): content moves 4 up and 4 left; bottom 4 rows and right 4 columns are padding.
    out = apply(img.data(), o, {8, 8, false});
    CHECK(px(out, 0, 0, 0) == src_px(img, 0, 4, 4));
    CHECK(px(out, 0, 27, 27) == src_px(img, 0, 31, 31));
    CHECK(px(out, 0, 28, 0) == 0);
    CHECK(px(out, 0, 0, 28) == 0);
    // Offset (2, 7): rows shift down 2, columns left 3.
    out = apply(img.data(), o, {2, 7, false});
    CHECK(px(out, 1, 2, 0) == src_px(img, 1, 0, 3));
    CHECK(px(out, 1, 1, 10) == 0);
    CHECK(px(out, 1, 10, 29) == 0);
    CHECK(px(out, 1, 10, 28) == src_px(img, 1, 8, 31));
  }
  SECTION("CIFAR normalisation: a padded pixel is (0 - mean) / std") {
    ImageTransformOptions o;
    o.pad_crop = 4;
    const auto out = apply(img.data(), o, {0, 0, false});
    CHECK(px(out, 0, 0, 0) == Approx(-1.9888889).epsilon(1e-6));  // -125.3 / 63.0
    CHECK(px(out, 1, 0, 0) == Approx(-1.9806763).epsilon(1e-6));  // -123.0 / 62.1
    CHECK(px(out, 2, 0, 0) == Approx(-1.7076462).epsilon(1e-6));  // -113.9 / 66.7
    CHECK(px(out, 0, 4, 4) == Approx((src_px(img, 0, 0, 0) - 125.3) / 63.0).epsilon(1e-6));
  }
  SECTION("every offset and flip matches a naive pad-then-crop reference, bitwise") {
    ImageTransformOptions o;
    o.pad_crop = 4;
    for (int64_t dy = 0; dy <= 8; ++dy)
      for (int64_t dx = 0; dx <= 8; ++dx)
        for (bool flip : {false, true}) {
          const CropFlip ch{dy, dx, flip};
          INFO("dy " << dy << " dx " << dx << " flip " << flip);
          REQUIRE(apply(img.data(), o, ch) == reference_transform(img.data(), o, ch));
        }
  }
  SECTION("offsets outside [0, 2 * pad] are rejected") {
    const auto o = identity_norm(4);
    std::vector<real> out(P);
    CHECK_THROWS_WITH(transform_image(img.data(), C, H, W, o, {9, 0, false}, out.data()),
                      Catch::Contains("(9, 0)") && Catch::Contains("[0, 8]"));
  }
}

TEST_CASE("horizontal flip mirrors each row", "[data][transform]") {
  const auto img = known_image();
  const auto o = identity_norm(0);
  const auto out = apply(img.data(), o, {0, 0, true});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) REQUIRE(px(out, c, y, x) == src_px(img, c, y, W - 1 - x));
  // Crop then flip: offset (4, 0) with pad 4 puts padding in the *right* 4 columns after mirroring.
  const auto o4 = identity_norm(4);
  const auto cf = apply(img.data(), o4, {4, 0, true});
  CHECK(px(cf, 0, 5, 31) == 0);
  CHECK(px(cf, 0, 5, 28) == 0);
  CHECK(px(cf, 0, 5, 27) == src_px(img, 0, 5, 0));
  CHECK(px(cf, 0, 5, 0) == src_px(img, 0, 5, 27));
}

TEST_CASE("draw_crop_flip covers the offsets and flips half the time", "[data][transform]") {
  ImageTransformOptions o;
  o.pad_crop = 4;
  o.horizontal_flip = true;
  Generator gen(7);
  std::set<int64_t> dys, dxs;
  int flips = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const auto before = gen.state().counter;
    const CropFlip ch = draw_crop_flip(o, gen);
    REQUIRE(gen.state().counter - before == kCropFlipDraws);
    REQUIRE(ch.dy >= 0);
    REQUIRE(ch.dy <= 8);
    REQUIRE(ch.dx >= 0);
    REQUIRE(ch.dx <= 8);
    dys.insert(ch.dy), dxs.insert(ch.dx), flips += ch.flip;
  }
  CHECK(dys.size() == 9);
  CHECK(dxs.size() == 9);
  CHECK(flips > n * 0.45);
  CHECK(flips < n * 0.55);
  // Augmentation off: the centre, never flipped, and still kCropFlipDraws draws.
  const ImageTransformOptions off;
  for (int i = 0; i < 100; ++i) {
    const CropFlip ch = draw_crop_flip(off, gen);
    REQUIRE((ch.dy == 0 && ch.dx == 0 && !ch.flip));
  }
  CHECK(gen.state().counter == (n + 100) * kCropFlipDraws);
  ImageTransformOptions bad;
  bad.stddev[1] = 0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("stddev[1]"));
  bad = ImageTransformOptions{};
  bad.pad_crop = -2;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("-2"));
}

TEST_CASE("loader: one shuffled epoch serves every index exactly once, with its label and pixels",
          "[data][loader]") {
  const auto data = make_dataset(103);
  // Serve a subset in a scrambled order, to see that records (not positions) are what is served.
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < 103; i += 2) indices.push_back((i * 37) % 103);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 10;
  opt.seed = 5;
  Loader loader(cifar(data, tr), indices, opt);
  CHECK(loader.size() == 52);
  CHECK(loader.batches_per_epoch() == 6);
  const auto batches = run_epoch(loader, 0);
  REQUIRE(batches.size() == 6);
  std::vector<int64_t> seen;
  for (size_t k = 0; k < batches.size(); ++k) {
    const Batch& b = batches[k];
    CHECK(b.index == static_cast<int64_t>(k));
    CHECK(b.epoch == 0);
    const int64_t expect = k < 5 ? 10 : 2;
    REQUIRE(b.inputs.shape() == Shape{expect, 3, 32, 32});
    REQUIRE(static_cast<int64_t>(b.targets.size()) == expect);
    for (int64_t i = 0; i < expect; ++i) {
      const int64_t r = b.examples[i];
      seen.push_back(r);
      CHECK(b.targets[i] == data->labels[r]);
      // No augmentation: the image is the normalised record.
      const auto want = apply(data->pixels.data() + r * P, tr, center_crop_flip(tr));
      REQUIRE(std::memcmp(b.inputs.data() + i * P, want.data(), P * sizeof(real)) == 0);
    }
  }
  auto sorted_seen = seen, sorted_idx = indices;
  std::sort(sorted_seen.begin(), sorted_seen.end());
  std::sort(sorted_idx.begin(), sorted_idx.end());
  CHECK(sorted_seen == sorted_idx);
  CHECK(seen != indices);  // shuffled
  Batch extra;
  CHECK_FALSE(loader.next(extra));
  CHECK_FALSE(loader.next(extra));
}

TEST_CASE("loader: without shuffle the order is the index list's", "[data][loader]") {
  const auto data = make_dataset(30);
  std::vector<int64_t> indices{29, 3, 3, 17, 0, 8, 12};
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 3;
  opt.shuffle = false;
  Loader loader(cifar(data, tr), indices, opt);
  for (int64_t epoch : {0, 4}) {
    std::vector<int64_t> seen;
    for (const Batch& b : run_epoch(loader, epoch)) seen.insert(seen.end(), b.examples.begin(), b.examples.end());
    CHECK(seen == indices);
  }
}

TEST_CASE("loader: batches are a pure function of (seed, epoch)", "[data][loader]") {
  const auto data = make_dataset(150);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 16;
  opt.seed = 1234;
  tr.pad_crop = 4;
  tr.horizontal_flip = true;
  Loader a(cifar(data, tr), iota(150), opt);
  const auto ref = run_epoch(a, 3);
  REQUIRE(ref.size() == 10);

  SECTION("a second loader, with and without the producer thread") {
    for (auto [workers, prefetch] : {std::pair<int64_t, int64_t>{0, 0}, {1, 1}, {1, 3}, {2, 2}, {4, 20}}) {
      LoaderOptions o2 = opt;
      o2.workers = workers;
      o2.prefetch = prefetch;
      Loader b(cifar(data, tr), iota(150), o2);
      const auto got = run_epoch(b, 3);
      REQUIRE(got.size() == ref.size());
      for (size_t k = 0; k < ref.size(); ++k) REQUIRE(same_batch(got[k], ref[k]));
      for (size_t k = 0; k < ref.size(); ++k) REQUIRE(same_batch(b.make_batch(3, k), ref[k]));
    }
  }
  SECTION("restarting mid-epoch, and between other epochs") {
    Loader b(cifar(data, tr), iota(150), opt);
    b.start_epoch(3);
    Batch x;
    for (int i = 0; i < 4; ++i) REQUIRE(b.next(x));
    run_epoch(b, 0);
    b.start_epoch(7);
    REQUIRE(b.next(x));
    const auto got = run_epoch(b, 3);  // restarts epoch 3 while epoch 7 is in progress
    REQUIRE(got.size() == ref.size());
    for (size_t k = 0; k < ref.size(); ++k) REQUIRE(same_batch(got[k], ref[k]));
  }
  SECTION("resuming at a batch inside the epoch") {
    Loader b(cifar(data, tr), iota(150), opt);
    b.start_epoch(3, 6);
    Batch x;
    for (size_t k = 6; k < ref.size(); ++k) {
      REQUIRE(b.next(x));
      REQUIRE(same_batch(x, ref[k]));
    }
    CHECK_FALSE(b.next(x));
    b.start_epoch(3, b.batches_per_epoch());  // nothing left: a valid, empty resume
    CHECK_FALSE(b.next(x));
  }
  SECTION("each augmented image is one of the 162 crop/flip variants of its record") {
    const Batch& b = ref[1];
    int flipped = 0, shifted = 0;
    for (int64_t i = 0; i < 16; ++i) {
      const uint8_t* src = data->pixels.data() + b.examples[i] * P;
      bool found = false;
      for (int64_t dy = 0; dy <= 8 && !found; ++dy)
        for (int64_t dx = 0; dx <= 8 && !found; ++dx)
          for (bool flip : {false, true})
            if (std::memcmp(apply(src, tr, {dy, dx, flip}).data(), b.inputs.data() + i * P,
                            P * sizeof(real)) == 0) {
              found = true, flipped += flip, shifted += (dy != 4 || dx != 4);
              break;
            }
      REQUIRE(found);
    }
    CHECK(flipped > 0);
    CHECK(flipped < 16);
    CHECK(shifted > 8);
  }
}

TEST_CASE("loader: epochs and seeds change the order and the augmentation", "[data][loader]") {
  const auto data = make_dataset(100);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 25;
  tr.pad_crop = 4;
  tr.horizontal_flip = true;
  auto records = [&](uint64_t seed, int64_t epoch) {
    LoaderOptions o = opt;
    o.seed = seed;
    Loader l(cifar(data, tr), iota(100), o);
    std::vector<int64_t> r;
    for (const Batch& b : run_epoch(l, epoch)) r.insert(r.end(), b.examples.begin(), b.examples.end());
    return r;
  };
  const auto e0 = records(1, 0), e1 = records(1, 1), s2 = records(2, 0);
  CHECK(e0 != e1);
  CHECK(e0 != s2);
  CHECK(e0 == records(1, 0));
  // Same record order (no shuffle) but different epochs: the crops differ.
  LoaderOptions o = opt;
  o.shuffle = false;
  Loader l(cifar(data, tr), iota(100), o);
  CHECK_FALSE(same_bits(l.make_batch(0, 0).inputs, l.make_batch(1, 0).inputs));
  CHECK(same_bits(l.make_batch(1, 2).inputs, l.make_batch(1, 2).inputs));
}

TEST_CASE("loader: drop_last", "[data][loader]") {
  const auto data = make_dataset(103);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 10;
  opt.drop_last = true;
  Loader keep_all(cifar(data, tr), iota(103), [&] { auto o = opt; o.drop_last = false; return o; }());
  Loader drop(cifar(data, tr), iota(103), opt);
  CHECK(keep_all.batches_per_epoch() == 11);
  CHECK(drop.batches_per_epoch() == 10);
  const auto batches = run_epoch(drop, 2);
  REQUIRE(batches.size() == 10);
  std::set<int64_t> seen;
  for (const Batch& b : batches) {
    CHECK(b.inputs.size(0) == 10);
    seen.insert(b.examples.begin(), b.examples.end());
  }
  CHECK(seen.size() == 100);  // 3 records of this epoch's permutation are left out
  // The kept batches are the same as those of the loader that keeps the remainder.
  const auto full = run_epoch(keep_all, 2);
  REQUIRE(full.size() == 11);
  CHECK(full.back().inputs.size(0) == 3);
  for (size_t k = 0; k < 10; ++k) CHECK(same_batch(full[k], batches[k]));
  // Exact multiple: nothing to drop.
  Loader exact(cifar(data, tr), iota(100), opt);
  CHECK(exact.batches_per_epoch() == 10);
  // Fewer samples than one batch: an error rather than an epoch with no batch.
  CHECK_THROWS_WITH(Loader(cifar(data, tr), iota(7), opt), Catch::Contains("7 examples") && Catch::Contains("batch_size 10"));
}

TEST_CASE("holdout_split is deterministic, disjoint and complete", "[data][loader]") {
  const auto [train, held] = holdout_split(1000, 100, 42);
  CHECK(train.size() == 900);
  CHECK(held.size() == 100);
  CHECK(std::is_sorted(train.begin(), train.end()));
  CHECK(std::is_sorted(held.begin(), held.end()));
  std::vector<int64_t> all = train;
  all.insert(all.end(), held.begin(), held.end());
  std::sort(all.begin(), all.end());
  CHECK(all == iota(1000));  // covers everything exactly once, hence disjoint
  CHECK(holdout_split(1000, 100, 42).second == held);
  CHECK(holdout_split(1000, 100, 43).second != held);
  // The held-out set is spread over the range, not a block.
  CHECK(held.front() < 100);
  CHECK(held.back() > 900);
  CHECK(holdout_split(10, 0, 1).first == iota(10));
  CHECK(holdout_split(10, 10, 1).second == iota(10));
  CHECK_THROWS_WITH(holdout_split(10, 11, 1), Catch::Contains("11") && Catch::Contains("10"));
  CHECK_THROWS_WITH(holdout_split(10, -1, 1), Catch::Contains("-1"));
}

TEST_CASE("loader: errors carry the offending values", "[data][loader]") {
  const auto data = make_dataset(20);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 0;
  CHECK_THROWS_WITH(Loader(cifar(data, tr), iota(20), opt), Catch::Contains("batch_size") && Catch::Contains("0"));
  opt.batch_size = -3;
  CHECK_THROWS_AS(Loader(cifar(data, tr), iota(20), opt), Error);
  opt.batch_size = 4;
  CHECK_THROWS_WITH(Loader(cifar(data, tr), {0, 5, 20}, opt), Catch::Contains("index 20") && Catch::Contains("[0, 20)"));
  CHECK_THROWS_WITH(Loader(cifar(data, tr), {-1}, opt), Catch::Contains("index -1"));
  CHECK_THROWS_WITH(Loader(cifar(data, tr), {}, opt), Catch::Contains("empty"));
  CHECK_THROWS_WITH(Loader(cifar(nullptr, tr), {0}, opt), Catch::Contains("null"));
  opt.prefetch = -1;
  CHECK_THROWS_WITH(Loader(cifar(data, tr), iota(20), opt), Catch::Contains("prefetch") && Catch::Contains("-1"));
  opt.prefetch = 3;
  Loader loader(cifar(data, tr), iota(20), opt);
  Batch b;
  CHECK_THROWS_WITH(loader.next(b), Catch::Contains("start_epoch"));
  CHECK_THROWS_WITH(loader.start_epoch(-1), Catch::Contains("-1"));
  CHECK_THROWS_WITH(loader.start_epoch(0, 6), Catch::Contains("first_batch 6") && Catch::Contains("[0, 5]"));
  CHECK_THROWS_WITH(loader.make_batch(0, 5), Catch::Contains("batch 5"));
  auto broken = std::make_shared<Cifar10>();
  broken->labels = {1, 2};
  broken->pixels.resize(P);
  CHECK_THROWS_WITH(Loader(cifar(broken, tr), {0}, opt), Catch::Contains("2 labels") && Catch::Contains(std::to_string(P)));
}

TEST_CASE("loader: stopping or destroying mid-epoch joins the producer", "[data][loader]") {
  const auto data = make_dataset(200);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 8;
  opt.prefetch = 2;
  tr.pad_crop = 4;
  tr.horizontal_flip = true;
  for (int rep = 0; rep < 50; ++rep) {
    Loader loader(cifar(data, tr), iota(200), opt);
    loader.start_epoch(rep);
    Batch b;
    for (int i = 0; i < rep % 5; ++i) REQUIRE(loader.next(b));
    if (rep % 3 == 0) {
      loader.stop();
      CHECK_FALSE(loader.next(b));
      loader.stop();  // idempotent
    }
    if (rep % 7 == 0) loader.start_epoch(rep + 1);  // restart, then destroy with the queue filling
  }  // destructor joins whatever is running
  { Loader never_started(cifar(data, tr), iota(200), opt); }
  SUCCEED("no deadlock");
}

TEST_CASE("loader: several epochs of a larger set (throughput sanity, untimed)", "[data][loader]") {
  const auto data = make_dataset(2000);
  LoaderOptions opt;
  ImageTransformOptions tr;
  opt.batch_size = 128;
  tr.pad_crop = 4;
  tr.horizontal_flip = true;
  Loader loader(cifar(data, tr), iota(2000), opt);
  int64_t images = 0;
  double checksum = 0;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    loader.start_epoch(epoch);
    Batch b;
    while (loader.next(b)) {
      images += b.inputs.size(0);
      checksum += b.inputs.data()[0];
    }
  }
  CHECK(images == 3 * 2000);
  CHECK(std::isfinite(checksum));
}

TEST_CASE("loader: worker counts 1, 2 and 4 give identical batches", "[data][loader]") {
  ImageTransformOptions tr;
  tr.pad_crop = 4;
  tr.horizontal_flip = true;
  const auto data = cifar(make_dataset(250), tr);
  LoaderOptions opt;
  opt.batch_size = 7;  // 36 batches, the last one of 5
  opt.seed = 99;
  opt.workers = 0;
  Loader reference(data, iota(250), opt);
  const auto want = run_epoch(reference, 2);
  REQUIRE(want.size() == 36);
  for (int64_t workers : {1, 2, 4}) {
    for (int64_t prefetch : {1, 3, 8}) {
      LoaderOptions o = opt;
      o.workers = workers;
      o.prefetch = prefetch;
      Loader loader(data, iota(250), o);
      const auto got = run_epoch(loader, 2);
      REQUIRE(got.size() == want.size());
      for (size_t k = 0; k < want.size(); ++k) REQUIRE(same_batch(got[k], want[k]));
    }
  }
}

namespace {
// Fails on one example: the loader must report it when that batch is due, after the batches
// before it, whatever the worker count.
class FailingDataset : public Dataset {
 public:
  explicit FailingDataset(int64_t bad) : bad_(bad) {}
  int64_t size() const override { return 40; }
  Shape example_shape() const override { return {2}; }
  uint64_t draws_per_example() const override { return 1; }
  int64_t get(int64_t index, Generator& gen, real* out) const override {
    ST_CHECK(index != bad_, "example " << index << " is broken");
    out[0] = static_cast<real>(index);
    out[1] = static_cast<real>(gen.uniform());
    return index % 3;
  }
  int64_t num_classes() const override { return 3; }
  std::string describe() const override { return "failing"; }

 private:
  int64_t bad_;
};
}  // namespace

TEST_CASE("loader: an example that cannot be made fails its own batch, in order", "[data][loader]") {
  auto data = std::make_shared<FailingDataset>(25);
  for (int64_t workers : {0, 1, 2, 4}) {
    LoaderOptions opt;
    opt.batch_size = 4;
    opt.shuffle = false;
    opt.workers = workers;
    opt.prefetch = 4;
    Loader loader(data, iota(40), opt);
    loader.start_epoch(0);
    Batch b;
    for (int k = 0; k < 6; ++k) {
      REQUIRE(loader.next(b));  // batches 0..5 hold examples 0..23
      CHECK(b.inputs.data()[0] == static_cast<real>(4 * k));
    }
    CHECK_THROWS_WITH(loader.next(b), Catch::Contains("example 25 is broken"));
    loader.start_epoch(1, 7);  // the loader recovers: a later start works
    REQUIRE(loader.next(b));
    CHECK(b.index == 7);
  }
  LoaderOptions opt;
  CHECK_THROWS_WITH(Loader(nullptr, {0}, opt), Catch::Contains("null"));
  opt.workers = 2;
  opt.prefetch = 0;
  CHECK_THROWS_WITH(Loader(data, iota(40), opt), Catch::Contains("prefetch") && Catch::Contains("2 workers"));
  opt.workers = -1;
  CHECK_THROWS_WITH(Loader(data, iota(40), opt), Catch::Contains("workers") && Catch::Contains("-1"));
}

TEST_CASE("loader: sharded ranks serve strided slices of the same epoch", "[data][loader]") {
  const auto data = cifar(make_dataset(100));
  LoaderOptions opt;
  opt.batch_size = 10;
  opt.seed = 3;
  opt.world_size = 2;
  Loader single([&] { return cifar(make_dataset(100)); }(), iota(100), [&] {
    LoaderOptions o = opt;
    o.world_size = 1;
    o.batch_size = 20;
    return o;
  }());
  const auto whole = run_epoch(single, 1);
  std::vector<std::vector<Batch>> ranks;
  for (int64_t r = 0; r < 2; ++r) {
    LoaderOptions o = opt;
    o.rank = r;
    Loader l(data, iota(100), o);
    ranks.push_back(run_epoch(l, 1));
  }
  REQUIRE(whole.size() == 5);
  for (size_t k = 0; k < whole.size(); ++k) {
    // Rank r's k-th batch is positions r, r + 2, ... of the single process's k-th batch, pixels included.
    for (int64_t i = 0; i < 20; ++i) {
      const Batch& part = ranks[i % 2][k];
      CHECK(part.examples[i / 2] == whole[k].examples[i]);
      REQUIRE(std::memcmp(part.inputs.data() + (i / 2) * P, whole[k].inputs.data() + i * P, P * sizeof(real)) == 0);
    }
  }
}
