// Strassen versions of the CIFAR models: which convolutions are compressed, budgets, mode
// switching, and a short overfitting run through the SPN layers.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "config/experiment.h"
#include "core/ops.h"
#include "models/factory.h"
#include "optim/sgd.h"

using namespace st;

namespace {
int64_t count_strassen(const Module& m, std::vector<int64_t>* hidden = nullptr) {
  int64_t n = 0;
  for (auto& [name, child] : m.named_children()) {
    if (dynamic_cast<const StrassenConv2d*>(child.get())) {
      ++n;
      if (hidden)
        for (auto& [pname, t] : child->named_parameters())
          if (pname == "a_hat") hidden->push_back(t.numel());
    }
    n += count_strassen(*child, hidden);
  }
  return n;
}
ModelOptions strassen_resnet(char shortcut, double ratio) {
  ModelOptions o;
  o.name = "resnet_cifar";
  o.resnet.shortcut = shortcut;
  o.strassen.enabled = true;
  o.strassen.hidden_ratio = ratio;
  return o;
}
}  // namespace

TEST_CASE("Strassen ResNet-20 compresses every conv, shortcuts and first conv optional", "[strassen][models]") {
  Generator gen(1);
  std::vector<int64_t> hidden;
  auto net = build_model(strassen_resnet('B', 0.5), gen);
  CHECK(count_strassen(*net, &hidden) == 21);  // 19 3×3 convs + 2 projection shortcuts
  CHECK(hidden.front() == 8);                  // first conv: 0.5 × 16
  CHECK(hidden.back() == 32);                  // last 3×3 conv: 0.5 × 64
  CHECK((*net)(rand_normal({2, 3, 32, 32}, gen)).shape() == Shape{2, 10});
  CHECK(set_strassen_mode(*net, StrassenMode::SpnTernary) == 21);
  ModelOptions keep = strassen_resnet('B', 1.0);
  keep.strassen.compress_first = false;
  keep.strassen.compress_shortcuts = false;
  CHECK(count_strassen(*build_model(keep, gen)) == 18);
  ModelOptions vgg;
  vgg.name = "vgg7";
  vgg.vgg.width = 0.125;
  vgg.strassen.enabled = true;
  vgg.strassen.out_patch = 2;
  auto v = build_model(vgg, gen);
  CHECK(count_strassen(*v) == 6);
  CHECK((*v)(rand_normal({2, 3, 32, 32}, gen)).shape() == Shape{2, 10});
}

TEST_CASE("a small Strassen ResNet overfits a batch through every mode change", "[strassen][models]") {
  Generator gen(2);
  ModelOptions o = strassen_resnet('A', 1.0);
  o.resnet.depth = 8;
  o.resnet.base_width = 8;
  auto net = build_model(o, gen);
  Tensor x = rand_normal({16, 3, 16, 16}, gen);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 16; ++i) labels.push_back(i % 10);
  SgdOptions so;
  so.lr = 0.05, so.momentum = 0.9;
  Sgd sgd(net->parameters(), so);
  auto train = [&](int steps) {
    double loss = 0;
    for (int i = 0; i < steps; ++i) {
      Tensor l = cross_entropy((*net)(x), labels);
      sgd.zero_grad();
      l.backward();
      sgd.step();
      loss = l.item();
    }
    return loss;
  };
  const double first = cross_entropy((*net)(x), labels).item();
  const double after_fp = train(30);
  CHECK(after_fp < 0.5 * first);
  set_strassen_mode(*net, StrassenMode::SpnTernary);
  const double after_ternary = train(30);
  CHECK(std::isfinite(after_ternary));
  CHECK(after_ternary < first);
  set_strassen_mode(*net, StrassenMode::TernaryFrozen);
  CHECK(train(10) < first);
}

TEST_CASE("the model.strassen config block", "[strassen][config]") {
  const auto path = (std::filesystem::temp_directory_path() / "st_cfg_strassen.json").string();
  std::ofstream(path) << R"({"epochs": 1, "data": {"dir": "/d"},
    "model": {"name": "resnet_cifar", "strassen": {"hidden_ratio": 2, "out_patch": 2, "mode": "spn_ternary"}}})";
  const ExperimentConfig c = load_experiment_config(path);
  CHECK(c.model.strassen.enabled);
  CHECK(c.model.strassen.hidden_ratio == 2.0);
  CHECK(c.model.strassen.out_patch == 2);
  CHECK(c.model.strassen.layer.mode == StrassenMode::SpnTernary);
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.strassen.mode=fast"}), Catch::Contains("model.strassen.mode"));
  CHECK_THROWS_WITH(load_experiment_config(path, {"model.strassen.ratio=1"}), Catch::Contains("model.strassen.ratio"));
  CHECK_FALSE(load_experiment_config(path, {"model={\"name\": \"vgg7\"}"}).model.strassen.enabled);
}

TEST_CASE("per-stage and per-layer ratios, uncompressed layers and a Strassen classifier", "[strassen][models]") {
  ModelOptions m;
  m.name = "resnet_cifar";
  m.resnet.depth = 8, m.resnet.shortcut = 'B';
  m.strassen.enabled = true;
  m.strassen.hidden_ratio = 1;
  m.strassen.ratios = {{"stage2", 2.0}, {"stage2.0.conv1", 0.5}, {"stage", 4.0}};  // "stage" matches no name
  m.strassen.uncompressed = {"stage3.0.conv2"};
  m.strassen.compress_fc = true;
  Generator gen(90);
  auto model = build_model(m, gen);
  std::map<std::string, const Module*> modules;
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& mod, const std::string& name) {
    modules[name] = &mod;
    for (auto& [n, ch] : mod.named_children()) walk(*ch, name.empty() ? n : name + "." + n);
  };
  walk(*model, "");
  auto hidden = [&](const std::string& name) {
    const auto* s = dynamic_cast<const StrassenConv2d*>(modules.at(name));
    REQUIRE(s != nullptr);
    return s->options().hidden;
  };
  CHECK(hidden("conv1") == 16);                 // hidden_ratio 1
  CHECK(hidden("stage1.0.conv1") == 16);
  CHECK(hidden("stage2.0.conv1") == 16);        // the longest prefix: 0.5 × 32
  CHECK(hidden("stage2.0.conv2") == 64);        // stage2: 2 × 32
  CHECK(hidden("stage2.0.shortcut.conv") == 64);
  CHECK(hidden("stage3.0.conv1") == 64);
  CHECK(dynamic_cast<const Conv2d*>(modules.at("stage3.0.conv2")) != nullptr);
  const auto* fc = dynamic_cast<const StrassenLinear*>(modules.at("fc"));
  REQUIRE(fc != nullptr);
  CHECK(fc->options().hidden == 10);
  Generator xg(91);
  CHECK((*model)(rand_normal({2, 3, 16, 16}, xg)).shape() == Shape{2, 10});
  // Without compress_fc the classifier stays full precision.
  m.strassen.compress_fc = false;
  auto plain_fc = build_model(m, gen);
  CHECK(dynamic_cast<ResNetCifar&>(*plain_fc).fc().describe().rfind("Linear", 0) == 0);
}
