// ImageNet ResNet-18: parameter count, shapes, its Strassen rules (§5), and the ImageNet config
// (read for `strassen count`, refused by `strassen train`).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/experiment.h"
#include "core/ops.h"
#include "models/factory.h"
#include "train/trainer.h"

using namespace st;

namespace {

// Every StrassenConv2d with its dotted name.
void strassen_convs(Module& m, const std::string& prefix, std::vector<std::pair<std::string, StrassenConv2d*>>* out) {
  for (auto& [name, child] : m.named_children()) {
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (auto* s = dynamic_cast<StrassenConv2d*>(child.get())) out->emplace_back(full, s);
    strassen_convs(*child, full, out);
  }
}

std::string write_config(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace

TEST_CASE("ResNet-18: torchvision's parameter count, logits for any input of at least 32x32", "[models]") {
  Generator gen(1);
  ModelOptions o;
  o.name = "resnet18";
  auto net = build_model(o, gen);
  CHECK(net->num_parameters() == 11689512);
  net->eval();
  CHECK((*net)(rand_normal({2, 3, 64, 64}, gen)).shape() == Shape{2, 1000});
  ResNetImageNet narrow(ResNetImageNetOptions{10, 8}, gen);
  CHECK(narrow(rand_normal({2, 3, 32, 32}, gen)).shape() == Shape{2, 10});
  CHECK_THROWS_WITH(narrow(rand_normal({1, 3, 16, 16}, gen)), Catch::Contains("H, W >= 32"));
  CHECK_THROWS_WITH(ResNetImageNet(ResNetImageNetOptions{0, 8}, gen), Catch::Contains("num_classes"));
}

TEST_CASE("Strassen ResNet-18: every conv compressed, p everywhere, g on the 3x3 convs, SPN classifier", "[strassen][models]") {
  Generator gen(2);
  ModelOptions o;
  o.name = "resnet18";
  o.resnet18.base_width = 8;
  o.strassen.enabled = true;
  o.strassen.hidden_ratio = 1;
  o.strassen.out_patch = 2;
  o.strassen.groups = 4;
  auto net = build_model(o, gen);
  std::vector<std::pair<std::string, StrassenConv2d*>> convs;
  strassen_convs(*net, "", &convs);
  REQUIRE(convs.size() == 20);
  for (auto& [name, c] : convs) {
    INFO(name);
    CHECK(c->options().out_patch == 2);
    CHECK(c->options().hidden == c->original().out_channels);
    CHECK(c->options().groups == (c->original().kernel_h == 3 ? 4 : 1));
  }
  CHECK(convs.front().first == "conv1");
  CHECK(convs.front().second->original().kernel_h == 7);
  auto* fc = dynamic_cast<StrassenLinear*>(&dynamic_cast<ResNetImageNet&>(*net).fc());
  REQUIRE(fc);
  CHECK(fc->options().hidden == 1000);
  net->eval();
  CHECK((*net)(rand_normal({2, 3, 64, 64}, gen)).shape() == Shape{2, 1000});
  CHECK(set_strassen_mode(*net, StrassenMode::SpnTernary) == 21);
  // r > c_out: the classifier stays full precision.
  o.strassen.hidden_ratio = 2;
  auto wide = build_model(o, gen);
  CHECK(dynamic_cast<Linear*>(&dynamic_cast<ResNetImageNet&>(*wide).fc()));
  // The CIFAR rules are unchanged: shortcuts keep p = 1.
  ModelOptions cifar;
  cifar.name = "resnet_cifar";
  cifar.resnet.shortcut = 'B';
  cifar.strassen.enabled = true;
  cifar.strassen.out_patch = 2;
  // The model must outlive the raw pointers into it.
  auto cifar_net = build_model(cifar, gen);
  std::vector<std::pair<std::string, StrassenConv2d*>> cifar_convs;
  strassen_convs(*cifar_net, "", &cifar_convs);
  for (auto& [name, c] : cifar_convs) {
    INFO(name);
    CHECK(c->options().out_patch == (c->original().kernel_h == 1 ? 1 : 2));
  }
}

TEST_CASE("ImageNet configs: read for counting, refused by train and eval", "[config]") {
  const std::string path = write_config(
      "st_cfg_imagenet.json",
      R"({"epochs": 1, "data": {"dataset": "imagenet", "dir": "/imagenet"}, "model": {"name": "resnet18"}})");
  ExperimentConfig c = load_experiment_config(path);
  CHECK(c.data.image_size == 224);
  CHECK(c.data.dir == "/imagenet");
  CHECK(c.model.resnet18.num_classes == 1000);
  CHECK(c.model.resnet18.base_width == 64);
  CHECK(load_experiment_config(path, {"data.dataset=cifar10"}).data.image_size == 32);
  CHECK_THROWS_WITH(load_experiment_config(path, {"data.train_files=[\"a.bin\"]"}),
                    Catch::Contains("data.train_files"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"data.dataset=mnist"}), Catch::Contains("\"imagenet\""));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.depth=34"}), Catch::Contains("unknown key 'model.depth'"));
  ::setenv("STRASSEN_IMAGENET_DIR", "/elsewhere", 1);
  CHECK(load_experiment_config(path).data.dir == "/elsewhere");
  ::unsetenv("STRASSEN_IMAGENET_DIR");
  TrainRunOptions run;
  run.out_dir = (std::filesystem::temp_directory_path() / "st_imagenet_run").string();
  CHECK_THROWS_WITH(run_training(c, run), Catch::Contains("the ImageNet loader does not exist yet"));
  CHECK_THROWS_WITH(evaluate_checkpoint(c, "none.ckpt"), Catch::Contains("the ImageNet loader does not exist yet"));
  CHECK_FALSE(std::filesystem::exists(run.out_dir));
}
