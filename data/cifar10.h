#pragma once
// CIFAR-10, binary version: each record is 1 label byte followed by 3072 pixel bytes (1024 R,
// 1024 G, 1024 B, each a row-major 32×32 plane). data_batch_1..5.bin hold 10,000 records each,
// test_batch.bin 10,000; any file whose size is a multiple of 3073 bytes is accepted.
#include <cstdint>
#include <string>
#include <vector>

namespace st {

struct Cifar10 {
  static constexpr int64_t kChannels = 3, kHeight = 32, kWidth = 32;
  static constexpr int64_t kImageBytes = kChannels * kHeight * kWidth;
  static constexpr int64_t kRecordBytes = 1 + kImageBytes;
  static constexpr int64_t kClasses = 10;

  std::vector<uint8_t> pixels;  // [size, 3, 32, 32], raw bytes
  std::vector<int64_t> labels;  // [size], in [0, 10)
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Reads and concatenates the files in order. Throws st::Error naming the file when it is
// missing, a directory or not a regular file, when it cannot be opened or read, when its size is
// not a multiple of 3073 bytes (a truncated file), or naming the file and the record when a label
// is above 9. tests/fuzz/fuzz_cifar10.cpp fuzzes it.
Cifar10 read_cifar10_files(const std::vector<std::string>& paths);

// The files of a split in a directory: "train" -> data_batch_1.bin .. data_batch_5.bin (those
// present; at least one), "test" -> test_batch.bin. Throws naming the directory when it is
// missing or is not a directory.
std::vector<std::string> cifar10_split_files(const std::string& directory, const std::string& split);

}  // namespace st
