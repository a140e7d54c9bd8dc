// TrainState in checkpoints: a round trip through a file, and checked reading.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "io/checkpoint.h"
#include "train/train_state.h"

using namespace st;

namespace {

TrainState sample_state() {
  TrainState s;
  s.epoch = 17;
  s.step = 45;
  s.phase = 2;
  s.phase_name = "frozen";
  s.strassen_mode = "ternary_frozen";
  s.lr = 0.1 / 3;  // not exact in decimal: must survive as the same double
  s.plateau_has_best = true;
  s.plateau_best = 0.8712345678901234;
  s.plateau_bad = 3;
  s.best_metric = 0.9137;
  s.last_eval = {{"loss", 0.3125}, {"top1", 0.9137}, {"top5", 0.997}};
  s.seed = 18446744073709551615ull;  // the largest seed
  s.threads = 2;
  s.world_size = 4;
  Tensor m = Tensor::empty({2, 3});
  for (int64_t i = 0; i < 6; ++i) m.data()[i] = static_cast<real>(i) / 7;
  s.momentum = {{"conv1.weight", m}, {"fc.bias", Tensor()}};  // an undefined buffer is not written
  return s;
}

}  // namespace

TEST_CASE("TrainState: written into a checkpoint file and read back, every field", "[train][state]") {
  const TrainState s = sample_state();
  Checkpoint ck;
  write_train_state(s, &ck);
  const std::string path = "st_train_state_roundtrip.ckpt";
  save_checkpoint(path, ck);
  const TrainState r = read_train_state(load_checkpoint(path));
  std::remove(path.c_str());
  CHECK(r.epoch == s.epoch);
  CHECK(r.step == s.step);
  CHECK(r.phase == s.phase);
  CHECK(r.phase_name == s.phase_name);
  CHECK(r.strassen_mode == s.strassen_mode);
  CHECK(r.lr == s.lr);  // exact
  CHECK(r.plateau_has_best == s.plateau_has_best);
  CHECK(r.plateau_best == s.plateau_best);
  CHECK(r.plateau_bad == s.plateau_bad);
  CHECK(r.best_metric == s.best_metric);
  CHECK(r.last_eval == s.last_eval);
  CHECK(r.seed == s.seed);
  CHECK(r.threads == s.threads);
  CHECK(r.world_size == s.world_size);
  REQUIRE(r.momentum.size() == 1);
  CHECK(r.momentum[0].first == "conv1.weight");
  for (int64_t i = 0; i < 6; ++i) CHECK(r.momentum[0].second.data()[i] == s.momentum[0].second.data()[i]);
}

TEST_CASE("TrainState: the initial best of a minimised metric survives as +infinity", "[train][state]") {
  TrainState s;
  s.best_metric = std::numeric_limits<double>::infinity();
  s.phase_name = "p";
  Checkpoint ck;
  write_train_state(s, &ck);
  CHECK(read_train_state(ck).best_metric == std::numeric_limits<double>::infinity());
}

TEST_CASE("TrainState: a bad or missing entry is an error naming the file and the key", "[train][state]") {
  Checkpoint ck;
  write_train_state(sample_state(), &ck);
  ck.source = "run/last.ckpt";
  auto with = [&](const std::string& key, const std::string& value) {
    Checkpoint c = ck;
    c.texts[key] = value;
    return c;
  };
  CHECK_THROWS_WITH(read_train_state(with("epoch", "-5")),
                    Catch::Contains("run/last.ckpt") && Catch::Contains("'epoch'") && Catch::Contains("-5"));
  CHECK_THROWS_WITH(read_train_state(with("phase", "-1")), Catch::Contains("'phase'") && Catch::Contains("-1"));
  CHECK_THROWS_WITH(read_train_state(with("epoch", "3x")), Catch::Contains("'3x' is not an integer"));
  CHECK_THROWS_WITH(read_train_state(with("epoch", "99999999999999999999")), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(read_train_state(with("lr", "")), Catch::Contains("'lr'") && Catch::Contains("not a number"));
  CHECK_THROWS_WITH(read_train_state(with("lr", "nan")), Catch::Contains("not a number"));
  CHECK_THROWS_WITH(read_train_state(with("plateau_has_best", "2")), Catch::Contains("plateau_has_best"));
  CHECK_THROWS_WITH(read_train_state(with("seed", "-1")), Catch::Contains("'seed'"));
  CHECK_THROWS_WITH(read_train_state(with("threads", "0")), Catch::Contains("'threads'"));
  Checkpoint missing = ck;
  missing.texts.erase("plateau_bad");
  CHECK_THROWS_WITH(read_train_state(missing), Catch::Contains("plateau_bad"));
  // Checkpoints written before best_metric and step existed still read.
  Checkpoint old = ck;
  old.texts.erase("best_metric");
  old.texts.erase("step");
  old.texts["best_top1"] = "0.5";
  const TrainState r = read_train_state(old);
  CHECK(r.best_metric == 0.5);
  CHECK(r.step == 0);
}
