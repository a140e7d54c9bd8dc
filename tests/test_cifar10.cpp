// CIFAR-10 binary reader on files the test writes in the official format.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/cifar10.h"

using namespace st;
namespace fs = std::filesystem;

namespace {
// Writes `n` records; record r has label labels[r % labels.size()] and pixel bytes (r + i) % 256.
void write_records(const fs::path& path, int64_t n, std::vector<int> labels, int64_t truncate_by = 0) {
  std::ofstream out(path, std::ios::binary);
  std::string bytes;
  for (int64_t r = 0; r < n; ++r) {
    bytes.push_back(static_cast<char>(labels[r % labels.size()]));
    for (int64_t i = 0; i < Cifar10::kImageBytes; ++i) bytes.push_back(static_cast<char>((r + i) % 256));
  }
  bytes.resize(bytes.size() - truncate_by);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

fs::path temp_dir(const char* name) {
  fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("cifar10 reads records in the official layout", "[data][cifar10]") {
  fs::path dir = temp_dir("st_cifar_ok");
  write_records(dir / "data_batch_1.bin", 3, {0, 9, 4});
  write_records(dir / "data_batch_2.bin", 2, {7});
  write_records(dir / "test_batch.bin", 1, {5});
  const auto files = cifar10_split_files(dir.string(), "train");
  REQUIRE(files.size() == 2);
  Cifar10 d = read_cifar10_files(files);
  CHECK(d.size() == 5);
  CHECK(d.labels == std::vector<int64_t>{0, 9, 4, 7, 7});
  // Record 1 of file 1: pixel i is (1 + i) % 256; R plane first, then G at 1024.
  CHECK(d.pixels[1 * Cifar10::kImageBytes + 0] == 1);
  CHECK(d.pixels[1 * Cifar10::kImageBytes + 1024] == (1 + 1024) % 256);
  CHECK(read_cifar10_files(cifar10_split_files(dir.string(), "test")).labels == std::vector<int64_t>{5});
}

TEST_CASE("cifar10 errors name the file and the record", "[data][cifar10]") {
  fs::path dir = temp_dir("st_cifar_bad");
  write_records(dir / "short.bin", 2, {1}, /*truncate_by=*/100);
  CHECK_THROWS_WITH(read_cifar10_files({(dir / "short.bin").string()}),
                    Catch::Contains("short.bin") && Catch::Contains("truncated"));
  write_records(dir / "label.bin", 3, {1, 2, 12});
  CHECK_THROWS_WITH(read_cifar10_files({(dir / "label.bin").string()}),
                    Catch::Contains("label.bin") && Catch::Contains("record 2") && Catch::Contains("12"));
  CHECK_THROWS_WITH(read_cifar10_files({(dir / "missing.bin").string()}), Catch::Contains("missing.bin"));
  CHECK_THROWS_WITH(cifar10_split_files((dir / "nope").string(), "train"), Catch::Contains("nope"));
  CHECK_THROWS_WITH(cifar10_split_files(dir.string(), "train"), Catch::Contains("data_batch"));
}

TEST_CASE("cifar10: a directory for a file and a file for the directory are named as such", "[data][cifar10]") {
  fs::path dir = temp_dir("st_cifar_kinds");
  fs::create_directories(dir / "data_batch_1.bin");
  try {
    read_cifar10_files({(dir / "data_batch_1.bin").string()});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("data_batch_1.bin") && Catch::Contains("is a directory"));
    CHECK_THAT(e.what(), !Catch::Contains("9223372036854775807"));
  }
  write_records(dir / "plain.bin", 1, {3});
  CHECK_THROWS_WITH(cifar10_split_files((dir / "plain.bin").string(), "train"),
                    Catch::Contains("plain.bin") && Catch::Contains("is not a directory"));
  CHECK_THROWS_WITH(read_cifar10_files({(dir / "empty.bin").string()}), Catch::Contains("empty.bin"));
}
