// The strict config layer: defaults, nested unknown keys, types, ranges, overrides, resolved output.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "config/experiment.h"
#include "config/json_reader.h"
#include "models/factory.h"
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

TEST_CASE("phases inherit the top-level optim key by key and carry their own schedule", "[config]") {
  const std::string path = write_config("st_cfg_phases.json", R"({
    "data": {"dir": "/d"},
    "model": {"name": "resnet_cifar", "strassen": {"hidden_ratio": 1}},
    "optim": {"lr": 0.1, "weight_decay": 5e-4, "nesterov": true},
    "schedule": {"kind": "cosine"},
    "phases": [
      {"mode": "spn_fp", "epochs": 4},
      {"name": "tern", "mode": "spn_ternary", "epochs": 2, "optim": {"lr": 0.01}, "schedule": {"kind": "step", "step_size": 1}},
      {"mode": "ternary_frozen", "epochs": 1, "optim": {"lr": 0.001, "weight_decay": 0}}
    ]})");
  const ExperimentConfig c = load_experiment_config(path);
  REQUIRE(c.phases.size() == 3);
  CHECK(c.epochs == 7);
  CHECK(c.phases[0].name == "phase1");
  CHECK(c.phases[1].name == "tern");
  CHECK(c.phases[0].mode == StrassenMode::SpnFloat);
  CHECK(c.phases[2].mode == StrassenMode::TernaryFrozen);
  CHECK(c.phases[0].schedule.lr.kind == LrScheduleOptions::Kind::Cosine);
  CHECK(c.phases[0].schedule.lr.total_epochs == 4);  // cosine over the phase, not the run
  CHECK(c.phases[1].schedule.lr.kind == LrScheduleOptions::Kind::Step);
  CHECK(c.phases[2].schedule.lr.kind == LrScheduleOptions::Kind::Cosine);
  CHECK(c.phases[1].optim.sgd.lr == Approx(0.01));
  CHECK(c.phases[1].optim.sgd.weight_decay == Approx(5e-4));  // inherited
  CHECK(c.phases[1].optim.sgd.nesterov);
  CHECK(c.phases[2].optim.sgd.weight_decay == 0);
  CHECK(c.phases[2].schedule.lr.base_lr == Approx(0.001));
  const nlohmann::json resolved = nlohmann::json::parse(c.resolved_json);
  CHECK(resolved["phases"][1]["optim"]["weight_decay"] == 5e-4);
  CHECK_FALSE(resolved.contains("optim"));
  // Overrides index into the phases array.
  const ExperimentConfig o = load_experiment_config(path, {"phases.1.epochs=5", "phases.0.optim.lr=0.2"});
  CHECK(o.epochs == 10);
  CHECK(o.phases[0].optim.sgd.lr == Approx(0.2));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.3.epochs=1"}), Catch::Contains("is not an index of 'phases'"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.1.epochz=1"}), Catch::Contains("unknown key 'phases[1].epochz'"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"epochs=3"}), Catch::Contains("'epochs' is given per phase"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.2.mode=frozen"}),
                    Catch::Contains("phases[2].mode") && Catch::Contains("is not a mode"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases=[]"}), Catch::Contains("non-empty array"));
}

TEST_CASE("a phase mode needs Strassen layers; init and distill blocks are validated", "[config]") {
  const std::string plain = write_config("st_cfg_phase_plain.json", R"({
    "data": {"dir": "/d"}, "model": {"name": "resnet_cifar"},
    "phases": [{"mode": "spn_ternary", "epochs": 1}]})");
  CHECK_THROWS_WITH(load_experiment_config(plain), Catch::Contains("phases[0].mode") && Catch::Contains("model.strassen"));
  const std::string path = write_config("st_cfg_distill.json", kMinimal);
  const ExperimentConfig d = load_experiment_config(
      path, {"distill.teacher_config=t.json", "distill.teacher_checkpoint=t.ckpt", "init.checkpoint=x.ckpt", "init.strict=false"});
  CHECK(d.distill.enabled);
  CHECK(d.distill.lambda == Approx(0.5));
  CHECK(d.distill.temperature == Approx(1));
  CHECK(d.init.checkpoint == "x.ckpt");
  CHECK_FALSE(d.init.strict);
  CHECK_FALSE(load_experiment_config(path).distill.enabled);
  CHECK_THROWS_WITH(load_experiment_config(path, {"distill.teacher_config=t.json"}),
                    Catch::Contains("missing required key 'distill.teacher_checkpoint'"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"distill.teacher_config=t.json", "distill.teacher_checkpoint=c",
                                                  "distill.lambda=1.5"}),
                    Catch::Contains("distill.lambda"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"init.strict=true"}), Catch::Contains("missing required key 'init.checkpoint'"));
}

TEST_CASE("every shipped config loads and builds its model", "[config]") {
  int64_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(ST_CONFIGS_DIR)) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    const ExperimentConfig c = load_experiment_config(entry.path().string());
    CHECK(c.epochs >= 1);
    Generator gen(c.seed);
    CHECK(build_model(c.model, gen)->num_parameters() > 0);
    ++count;
  }
  CHECK(count >= 20);
}

TEST_CASE("model.strassen ratios, uncompressed and compress_fc", "[config]") {
  const std::string path = write_config("st_cfg_ratios.json", R"({"epochs": 1, "data": {"dir": "/d"},
    "model": {"name": "vgg7", "strassen": {"ratios": {"conv1": 0.5, "fc1": 0.25}, "uncompressed": ["conv2"],
                                           "compress_fc": true}}})");
  const ExperimentConfig c = load_experiment_config(path);
  CHECK(c.model.strassen.compress_fc);
  REQUIRE(c.model.strassen.ratios.size() == 2);
  CHECK(strassen_ratio_for(c.model.strassen, "fc1") == Approx(0.25));
  CHECK(strassen_ratio_for(c.model.strassen, "conv3") == Approx(1.0));
  CHECK(strassen_uncompressed(c.model.strassen, "conv2"));
  CHECK_FALSE(strassen_uncompressed(c.model.strassen, "conv20"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.strassen.ratios.conv1=-1"}),
                    Catch::Contains("model.strassen.ratios.conv1"));
}

TEST_CASE("an override on a config whose top level is not an object is an error, not a crash", "[config]") {
  for (const char* text : {"[1, 2]", "3", "\"text\"", "null"}) {
    INFO(text);
    const std::string path = write_config("st_cfg_toplevel.json", text);
    CHECK_THROWS_WITH(load_experiment_config(path, {"epochs=1"}), Catch::Contains("top level"));
    CHECK_THROWS_WITH(load_experiment_config(path, {"a.b.c=1"}), Catch::Contains("top level"));
  }
  const std::string path = write_config("st_cfg_toplevel_ok.json", kMinimal);
  CHECK_THROWS_WITH(load_experiment_config(path, {"epochs.x=1"}), Catch::Contains("'epochs' is not an object"));
}

TEST_CASE("an override with an index out of range of any integer names the index", "[config]") {
  const std::string path = write_config("st_cfg_bigindex.json", R"({"data": {"dir": "/d"}, "model": {"name": "resnet_cifar"},
    "phases": [{"epochs": 1}]})");
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.99999999999999999999999.epochs=1"}),
                    Catch::Contains("'99999999999999999999999' is not an index of 'phases'"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.18446744073709551615.epochs=1"}),
                    Catch::Contains("is not an index of 'phases'"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.0.=1"}), Catch::Contains("empty key"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"phases.0..epochs=1"}), Catch::Contains("empty key"));
}

TEST_CASE("deeply nested JSON is refused with its position; values in messages are abbreviated", "[config]") {
  const int depth = 100000;
  std::string deep = std::string(depth, '[') + std::string(depth, ']');
  const std::string file = write_config("st_cfg_deep.json", R"({"data": {"dir": "/d"}, "model": {"name": "vgg7"},
  "epochs": )" + deep + "}");
  CHECK_THROWS_WITH(load_experiment_config(file), Catch::Contains("st_cfg_deep.json") && Catch::Contains("deeper than") &&
                                                      Catch::Contains("line 2"));
  const std::string path = write_config("st_cfg_deep_set.json", kMinimal);
  CHECK_THROWS_WITH(load_experiment_config(path, {"epochs=" + deep}), Catch::Contains("deeper than"));
  // A long wrong-typed value: the message shows its start, not all of it.
  std::string wide = "[0";
  for (int i = 1; i < 10000; ++i) wide += ", " + std::to_string(i);
  wide += "]";
  try {
    load_experiment_config(path, {"epochs=" + wide});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("key 'epochs' must be an integer, got an array [0,1,2"));
    CHECK(std::string(e.what()).size() < 400);
  }
}

TEST_CASE("config messages stay on one line whatever the keys and values hold", "[config]") {
  const std::string path = write_config("st_cfg_newline.json",
                                        R"({"epochs": 1, "data": {"dir": "/d"}, "model": {"name": "vgg7"}, "a\nb": 1})");
  try {
    load_experiment_config(path);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("unknown key 'a\\x0ab'"));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  const std::string minimal = write_config("st_cfg_newline2.json", kMinimal);
  try {
    load_experiment_config(minimal, {"model.name=le\nnet"});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  // A --set value that is not valid UTF-8 (so neither JSON nor a JSON string) is an st::Error.
  CHECK_THROWS_AS(load_experiment_config(minimal, {"name=\xff\xfe"}), Error);
  // An integer above int64's range does not wrap to a negative number.
  CHECK_THROWS_WITH(load_experiment_config(minimal, {"data.batch_size=18446744073709551615"}),
                    Catch::Contains("data.batch_size") && Catch::Contains("18446744073709551615"));
}

TEST_CASE("model sizes are range-checked at load time, naming the key", "[config]") {
  const std::string path = write_config("st_cfg_sizes.json", kMinimal);
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.depth=600002"}), Catch::Contains("model.depth"));
  CHECK(load_experiment_config(path, {"model.depth=110"}).model.resnet.depth == 110);
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.base_width=1000000"}), Catch::Contains("model.base_width"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.num_classes=100000000"}), Catch::Contains("model.num_classes"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.name=resnet18", "model.base_width=1000000"}),
                    Catch::Contains("model.base_width"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.name=resnet18", "model.num_classes=100000000"}),
                    Catch::Contains("model.num_classes"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.name=vgg7", "model.width=1000"}), Catch::Contains("model.width"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.name=vgg7", "model.width=0.0001"}), Catch::Contains("model.width"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.strassen.hidden_ratio=1000000"}),
                    Catch::Contains("model.strassen.hidden_ratio"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.strassen.groups=1000000"}), Catch::Contains("model.strassen.groups"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.strassen.ratios.conv1=1000000"}),
                    Catch::Contains("model.strassen.ratios.conv1"));
}

TEST_CASE("phase and run names must be usable as file names", "[config]") {
  const std::string path = write_config("st_cfg_names.json", R"({"data": {"dir": "/d"}, "model": {"name": "resnet_cifar"},
    "phases": [{"name": "ok-1.a_b", "epochs": 1}]})");
  CHECK(load_experiment_config(path).phases[0].name == "ok-1.a_b");
  for (const char* bad : {"a/b", "", "..", "a b", "x\ny", "x:y"}) {
    INFO(bad);
    CHECK_THROWS_WITH(load_experiment_config(path, {std::string("phases.0.name=\"") + (std::string(bad) == "x\ny" ? "x\\ny" : bad) + "\""}),
                      Catch::Contains("phases[0].name"));
  }
  CHECK_THROWS_WITH(load_experiment_config(path, {"name=../../etc"}), Catch::Contains("key 'name'"));
}

TEST_CASE("a directory given as the config is named in the error", "[config]") {
  const fs::path dir = fs::temp_directory_path() / "st_cfg_isdir.json";
  fs::remove_all(dir);
  fs::create_directories(dir);
  CHECK_THROWS_WITH(load_experiment_config(dir.string()), Catch::Contains("st_cfg_isdir.json") && Catch::Contains("directory"));
}

TEST_CASE("the resolved config (a run's config.json) loads again to itself", "[config]") {
  // Found by tests/fuzz/fuzz_config.cpp: an ImageNet config's resolved copy held
  // data.train_files = [], which an ImageNet config refuses.
  for (const char* name : {"imagenet/resnet18.json", "cifar10/smoke_strassen_phases.json", "cifar10/resnet20_ttq_quick.json"}) {
    INFO(name);
    const ExperimentConfig c = load_experiment_config(std::string(ST_CONFIGS_DIR) + "/" + name);
    const std::string again = write_config("st_cfg_resolved.json", c.resolved_json);
    CHECK(load_experiment_config(again).resolved_json == c.resolved_json);
  }
}
