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
