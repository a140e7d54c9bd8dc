// Checkpoint round trip, atomic replacement and every corruption the loader must name.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/rng.h"
#include "io/checkpoint.h"

using namespace st;
namespace fs = std::filesystem;

namespace {
fs::path temp_file(const char* name) {
  fs::path p = fs::temp_directory_path() / name;
  fs::remove(p);
  return p;
}
Checkpoint sample() {
  Generator gen(1);
  Checkpoint c;
  c.tensors.emplace_back("conv.weight", rand_normal({4, 3, 3, 3}, gen));
  c.tensors.emplace_back("scalar", Tensor::scalar(2.5f));
  c.tensors.emplace_back("empty", Tensor::zeros({0}));
  c.texts["epoch"] = "7";
  c.texts["config"] = "{\"a\": [1, 2]}\n";
  return c;
}
}  // namespace

TEST_CASE("checkpoint round trip", "[checkpoint]") {
  const fs::path p = temp_file("st_ckpt_ok.ckpt");
  const Checkpoint c = sample();
  save_checkpoint(p.string(), c);
  CHECK_FALSE(fs::exists(p.string() + ".tmp"));
  const Checkpoint r = load_checkpoint(p.string());
  REQUIRE(r.tensors.size() == 3);
  CHECK(r.tensor("conv.weight").shape() == Shape{4, 3, 3, 3});
  CHECK(r.tensor("conv.weight").to_vector() == c.tensors[0].second.to_vector());
  CHECK(r.tensor("scalar").item() == 2.5f);
  CHECK(r.text("epoch") == "7");
  CHECK(r.text("config") == c.texts.at("config"));
  CHECK(tensors_checksum(r.tensors) == tensors_checksum(c.tensors));
  CHECK_THROWS_WITH(r.tensor("nope"), Catch::Contains("nope") && Catch::Contains("st_ckpt_ok.ckpt"));
  CHECK_THROWS_WITH(r.text("nope"), Catch::Contains("nope"));
  // Saving again replaces the file whole.
  Checkpoint c2 = sample();
  c2.texts["epoch"] = "8";
  save_checkpoint(p.string(), c2);
  CHECK(load_checkpoint(p.string()).text("epoch") == "8");
}

TEST_CASE("checkpoint loader names the file and the fault", "[checkpoint]") {
  const fs::path p = temp_file("st_ckpt_bad.ckpt");
  save_checkpoint(p.string(), sample());
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write = [&](const std::string& b) { std::ofstream(p, std::ios::binary | std::ios::trunc) << b; };

  write(bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("st_ckpt_bad.ckpt"));
  std::string flipped = bytes;
  flipped[40] ^= 1;
  write(flipped);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("corrupt"));
  write("hello world, not a checkpoint");
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("not a checkpoint"));
  CHECK_THROWS_WITH(load_checkpoint((fs::temp_directory_path() / "st_no_such.ckpt").string()),
                    Catch::Contains("st_no_such.ckpt"));
  CHECK_THROWS_WITH(save_checkpoint("/nonexistent-dir/x.ckpt", sample()), Catch::Contains("/nonexistent-dir/x.ckpt"));
}

namespace {
// A checkpoint file built byte by byte, with a valid checksum: one tensor `name` of the given
// dims followed by `data_bytes` bytes of zeros, no text entries.
void write_raw(const fs::path& p, const std::string& name, const std::vector<int64_t>& dims, size_t data_bytes,
               uint32_t n_texts = 0) {
  std::string b("STCKPT\0\1", 8);
  auto put = [&b](const auto& v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint64_t{1});
  put(static_cast<uint32_t>(name.size()));
  b += name;
  put(static_cast<uint32_t>(dims.size()));
  for (int64_t d : dims) put(d);
  b.append(data_bytes, '\0');
  put(uint64_t{n_texts});
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : b) h = (h ^ c) * 1099511628211ull;
  put(h);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
}
}  // namespace

TEST_CASE("checkpoint sizes from the file are checked for overflow and against the bytes left", "[checkpoint]") {
  const fs::path p = temp_file("st_ckpt_sizes.ckpt");
  write_raw(p, "w", {2, 3}, 24);
  CHECK(load_checkpoint(p.string()).tensor("w").shape() == Shape{2, 3});
  // 2^32 x 2^32 elements: the product wraps to 0 in 64 bits.
  write_raw(p, "w", {int64_t(1) << 32, int64_t(1) << 32}, 16);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("st_ckpt_sizes.ckpt") && Catch::Contains("tensor 'w'"));
  // 2^62 elements: the byte count (x 4) wraps to 0.
  write_raw(p, "w", {int64_t(1) << 38, int64_t(1) << 24}, 16);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("truncated") && Catch::Contains("tensor 'w'"));
  // 2^62 + 1 = 27905 x 429509837 x 384773 elements: the byte count wraps to 4, a 4-byte block
  // would be allocated and the 4096 bytes that follow written into it.
  write_raw(p, "w", {27905, 429509837, 384773}, 4096);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("truncated") && Catch::Contains("tensor 'w'"));
  // A scalar needs its 4 bytes.
  write_raw(p, "s", {}, 0);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("truncated"));
  // A count of text entries far beyond the file.
  write_raw(p, "w", {1}, 4, 0xffffffffu);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("truncated"));
}

TEST_CASE("checkpoint loader: a directory or a repeated name is an error naming it", "[checkpoint]") {
  const fs::path dir = fs::temp_directory_path() / "st_ckpt_isdir";
  fs::create_directories(dir);
  CHECK_THROWS_WITH(load_checkpoint(dir.string()), Catch::Contains("st_ckpt_isdir") && Catch::Contains("directory"));
  // Two tensors named "w": the second one would be silently ignored by every lookup.
  Checkpoint c;
  c.tensors.emplace_back("w", Tensor::zeros({2}));
  c.tensors.emplace_back("w", Tensor::zeros({3}));
  const fs::path p = temp_file("st_ckpt_twice.ckpt");
  save_checkpoint(p.string(), c);
  CHECK_THROWS_WITH(load_checkpoint(p.string()), Catch::Contains("tensor 'w' twice"));
}
