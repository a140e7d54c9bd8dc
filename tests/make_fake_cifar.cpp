// Writes small CIFAR-10 binary files in the official format for the command-line tests:
//   st_make_fake_cifar DIR TRAIN_RECORDS TEST_RECORDS
// Images are learnable: each class has its own mean colour, plus deterministic noise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {
void write(const std::string& path, int64_t records, uint64_t seed) {
  std::ofstream out(path, std::ios::binary);
  uint64_t state = seed;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<unsigned>(state >> 33);
  };
  for (int64_t r = 0; r < records; ++r) {
    const unsigned label = next() % 10;
    out.put(static_cast<char>(label));
    for (int c = 0; c < 3; ++c) {
      const int base = static_cast<int>((label * (37 + 50 * c)) % 200) + 20;
      for (int i = 0; i < 1024; ++i) out.put(static_cast<char>(base + static_cast<int>(next() % 32)));
    }
  }
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: st_make_fake_cifar DIR TRAIN_RECORDS TEST_RECORDS\n");
    return 2;
  }
  const std::string dir = argv[1];
  write(dir + "/data_batch_1.bin", std::atoll(argv[2]), 1);
  write(dir + "/test_batch.bin", std::atoll(argv[3]), 2);
  return 0;
}
