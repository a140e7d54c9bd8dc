// The strict config layer: defaults, nested unknown keys, types, ranges, overrides, resolved output.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config/experiment.h"
#include "config/json_reader.h"
#include "core/error.h"

using namespace st;
namespace fs = std::filesystem;

namespace {
std::string write_config(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}
const char* kMinimal = R"({"epochs": 2, "data": {"dir": "/data"}, "model": {"name": "resnet_cifar"}})";
}  // namespace

TEST_CASE("a minimal config gets the documented defaults and a fully resolved copy", "[config]") {
  const ExperimentConfig c = load_experiment_config(write_config("st_cfg_min.json", kMinimal));
  CHECK(c.epochs == 2);
  CHECK(c.data.batch_size == 128);
  CHECK(c.data.train_transform.pad_crop == 4);
  CHECK(c.data.train_transform.horizontal_flip);
  CHECK(c.data.eval_transform.pad_crop == 0);
  CHECK(c.model.resnet.depth == 20);
  CHECK(c.optim.sgd.momentum == Approx(0.9));
  CHECK(c.schedule.lr.kind == LrScheduleOptions::Kind::Constant);
  const nlohmann::json resolved = nlohmann::json::parse(c.resolved_json);
  CHECK(resolved["optim"]["weight_decay"] == 1e-4);
  CHECK(resolved["model"]["depth"] == 20);
  CHECK(resolved["data"]["augment"]["flip"] == true);
}

TEST_CASE("overrides reach nested keys and parse JSON values", "[config]") {
  const std::string path = write_config("st_cfg_ovr.json", kMinimal);
  const ExperimentConfig c = load_experiment_config(
      path, {"optim.lr=0.05", "model.shortcut=B", "schedule.kind=multistep", "schedule.milestones=[5, 8]",
             "data.augment.flip=false"});
  CHECK(c.optim.sgd.lr == Approx(0.05));
  CHECK(c.schedule.lr.base_lr == Approx(0.05));
  CHECK(c.model.resnet.shortcut == 'B');
  CHECK(c.schedule.lr.milestones == std::vector<int64_t>{5, 8});
  CHECK_FALSE(c.data.train_transform.horizontal_flip);
  CHECK_THROWS_WITH(load_experiment_config(path, {"optim.lrr=1"}), Catch::Contains("unknown key 'optim.lrr'"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"novalue"}), Catch::Contains("key.path=value"));
}

TEST_CASE("errors name the file and the dotted key", "[config]") {
  const std::string nested = write_config(
      "st_cfg_nested.json",
      R"({"epochs": 2, "data": {"dir": "/d", "augment": {"flipp": true}}, "model": {"name": "resnet_cifar"}})");
  CHECK_THROWS_WITH(load_experiment_config(nested),
                    Catch::Contains("st_cfg_nested.json") && Catch::Contains("unknown key 'data.augment.flipp'"));
  const std::string missing = write_config("st_cfg_missing.json", R"({"data": {"dir": "/d"}, "model": {"name": "vgg7"}})");
  CHECK_THROWS_WITH(load_experiment_config(missing), Catch::Contains("missing required key 'epochs'"));
  const std::string model = write_config("st_cfg_model.json", R"({"epochs": 1, "data": {"dir": "/d"}, "model": {"name": "lenet"}})");
  CHECK_THROWS_WITH(load_experiment_config(model), Catch::Contains("model.name") && Catch::Contains("lenet"));
  const std::string depth = write_config("st_cfg_depth.json",
                                         R"({"epochs": 1, "data": {"dir": "/d"}, "model": {"name": "resnet_cifar", "depth": 21}})");
  CHECK_THROWS_WITH(load_experiment_config(depth), Catch::Contains("model.depth") && Catch::Contains("6n+2"));
  const std::string mean = write_config("st_cfg_mean.json",
                                        R"({"epochs": 1, "data": {"dir": "/d", "augment": {"mean": [1, 2]}}, "model": {"name": "vgg7"}})");
  CHECK_THROWS_WITH(load_experiment_config(mean), Catch::Contains("data.augment.mean"));
  const std::string sched = write_config("st_cfg_sched.json",
                                         R"({"epochs": 1, "data": {"dir": "/d"}, "model": {"name": "vgg7"}, "schedule": {"kind": "multistep"}})");
  CHECK_THROWS_WITH(load_experiment_config(sched), Catch::Contains("schedule.milestones"));
}
