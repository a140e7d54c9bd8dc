// st_bench_loader: how many training images per second the CIFAR-10 loader prepares, and prints JSON.
//
//   st_bench_loader <cifar10 directory with data_batch_*.bin> [epochs = 3]
//
// Options as in training (docs/strassennets.md §4): batch 128, shuffle, pad 4 + random crop, random
// horizontal flip, CIFAR normalisation, over every record of the train split (50,000 with all five
// files). Two measurements, each the median of `epochs` full epochs:
//   sync      workers 0: batches built inside next(), i.e. the cost of one thread doing the work;
//   prefetch  one worker thread with 3 batches ahead, drained by a consumer doing nothing
//             (so this is the worker's rate, plus the hand-over).
// Before timing, batch 0 of the threaded loader is checked bitwise against make_batch(), and its
// first image against the crop/flip variants of its record; the program exits non-zero on a mismatch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "data/cifar_dataset.h"
#include "data/loader.h"

using namespace st;

namespace {

double seconds_for_epoch(Loader& loader, int64_t epoch, int64_t& images) {
  const auto t0 = std::chrono::steady_clock::now();
  loader.start_epoch(epoch);
  Batch b;
  images = 0;
  while (loader.next(b)) images += b.inputs.size(0);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <cifar10 directory> [epochs]\n", argv[0]);
    return 2;
  }
  const int epochs = argc > 2 ? std::max(1, std::stoi(argv[2])) : 3;
  const auto t_read = std::chrono::steady_clock::now();
  auto data = std::make_shared<const Cifar10>(read_cifar10_files(cifar10_split_files(argv[1], "train")));
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_read).count();
  std::vector<int64_t> indices(data->size());
  std::iota(indices.begin(), indices.end(), int64_t{0});

  LoaderOptions opt;
  opt.batch_size = 128;
  opt.seed = 1;
  ImageTransformOptions transform;
  transform.pad_crop = 4;
  transform.horizontal_flip = true;
  auto dataset = std::make_shared<const CifarDataset>(data, transform);

  {  // Check before timing.
    Loader loader(dataset, indices, opt);
    loader.start_epoch(0);
    Batch b;
    loader.next(b);
    const Batch ref = loader.make_batch(0, 0);
    const int64_t P = Cifar10::kImageBytes;
    if (b.examples != ref.examples || std::memcmp(b.inputs.data(), ref.inputs.data(), b.inputs.numel() * sizeof(real))) {
      std::fprintf(stderr, "threaded batch 0 differs from make_batch(0, 0)\n");
      return 1;
    }
    bool found = false;
    std::vector<real> img(P);
    for (int64_t dy = 0; dy <= 8 && !found; ++dy)
      for (int64_t dx = 0; dx <= 8 && !found; ++dx)
        for (bool flip : {false, true}) {
          transform_image(data->pixels.data() + b.examples[0] * P, 3, 32, 32, transform, {dy, dx, flip}, img.data());
          if (std::memcmp(img.data(), b.inputs.data(), P * sizeof(real)) == 0) found = true;
        }
    if (!found) {
      std::fprintf(stderr, "image 0 of batch 0 is no crop/flip of record %ld\n", long(b.examples[0]));
      return 1;
    }
  }

  double rate[2];
  int64_t images = 0;
  for (int mode = 0; mode < 2; ++mode) {
    LoaderOptions o = opt;
    o.workers = mode == 0 ? 0 : 1;
    Loader loader(dataset, indices, o);
    std::vector<double> s;
    for (int e = 0; e < epochs; ++e) s.push_back(seconds_for_epoch(loader, e, images));
    rate[mode] = images / median(s);
  }
  std::printf(
      "{\"records\": %ld, \"images_per_epoch\": %ld, \"batch\": %ld, \"pad_crop\": %ld, \"flip\": true, "
      "\"epochs\": %d, \"read_s\": %.3f, \"sync_images_per_s\": %.0f, \"prefetch_images_per_s\": %.0f}\n",
      long(data->size()), long(images), long(opt.batch_size), long(transform.pad_crop), epochs, read_s, rate[0],
      rate[1]);
  return 0;
}
