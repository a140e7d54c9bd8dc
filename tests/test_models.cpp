// Models: ResNet for CIFAR (options A and B) and VGG-7 — shapes, parameter counts, checkpoint
// keys, train/eval behaviour, the factory, and a small overfitting run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "models/factory.h"
#include "models/resnet_cifar.h"
#include "models/vgg7.h"
#include "optim/sgd.h"

using namespace st;

namespace {

std::vector<std::string> parameter_names(const Module& m) {
  std::vector<std::string> names;
  for (auto& [name, t] : m.named_parameters()) names.push_back(name);
  return names;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The parameter count of a CIFAR ResNet with n blocks per stage, base width w and option A,
// counted layer by layer (3×3 convs without bias, BN with γ and β, fc with bias):
//   conv1 27w + bn1 2w
//   stage 1: n blocks of 2 (9w² + 2w)
//   stage 2: first block 9w·2w + 9(2w)² + 2·4w, then n-1 blocks of 2 (9(2w)² + 4w)
//   stage 3: first block 9·2w·4w + 9(4w)² + 2·8w, then n-1 blocks of 2 (9(4w)² + 8w)
//   fc 4w·10 + 10
// Option B adds the projections: 2w·w + 2·2w (stage 2) and 4w·2w + 2·4w (stage 3).
int64_t resnet_count(int64_t n, int64_t w, char shortcut) {
  int64_t c = 27 * w + 2 * w;
  c += n * 2 * (9 * w * w + 2 * w);
  c += 9 * w * 2 * w + 9 * 4 * w * w + 2 * 4 * w + (n - 1) * 2 * (9 * 4 * w * w + 4 * w);
  c += 9 * 2 * w * 4 * w + 9 * 16 * w * w + 2 * 8 * w + (n - 1) * 2 * (9 * 16 * w * w + 8 * w);
  c += 4 * w * 10 + 10;
  if (shortcut == 'B') c += 2 * w * w + 4 * w + 8 * w * w + 8 * w;
  return c;
}

}  // namespace

TEST_CASE("ResNet-CIFAR output shapes for depths 20-56 with shortcuts A and B", "[models]") {
  Generator gen(1);
  Tensor x = rand_normal({2, 3, 32, 32}, gen);
  NoGradGuard ng;
  for (int64_t depth : {20, 32, 44, 56})
    for (char sc : {'A', 'B'}) {
      INFO("depth " << depth << " shortcut " << sc);
      ResNetCifar net(ResNetCifarOptions{depth, 10, sc, 16}, gen);
      CHECK(net.blocks_per_stage() == (depth - 2) / 6);
      CHECK(net(x).shape() == Shape{2, 10});
    }
  // Other input sizes and class counts work as long as the stride-2 stages have something left.
  ResNetCifar net(ResNetCifarOptions{8, 100, 'A', 8}, gen);
  CHECK(net(rand_normal({3, 3, 9, 9}, gen)).shape() == Shape{3, 100});
}

TEST_CASE("ResNet-CIFAR parameter counts match He et al. and the PyTorch reimplementations", "[models]") {
  Generator gen(2);
  // ResNet-20, option A, by hand (w = 16, n = 3):
  //   conv1 3·16·9 = 432, bn1 32                                                  ->    464
  //   stage 1: 3 × 2 × (16·16·9 + 32) = 3 × 4,672                                 -> 14,016
  //   stage 2: (16·32·9 + 64) + (32·32·9 + 64) = 13,952; 2 × 2 × (9,216 + 64)     -> 51,072
  //   stage 3: (32·64·9 + 128) + (64·64·9 + 128) = 55,552; 2 × 2 × (36,864 + 128) -> 203,520
  //   fc 64·10 + 10                                                               ->    650
  //   total 269,722 — the "0.27M" of He et al. Table 6, and exactly the count PyTorch gives for
  //   the common reimplementation (e.g. akamaster/pytorch_resnet_cifar10: 269,722 / 464,154 /
  //   658,586 / 853,018 for depths 20 / 32 / 44 / 56).
  CHECK(resnet_count(3, 16, 'A') == 269722);
  CHECK(ResNetCifar(ResNetCifarOptions{20, 10, 'A', 16}, gen).num_parameters() == 269722);
  CHECK(ResNetCifar(ResNetCifarOptions{32, 10, 'A', 16}, gen).num_parameters() == 464154);
  CHECK(ResNetCifar(ResNetCifarOptions{44, 10, 'A', 16}, gen).num_parameters() == 658586);
  CHECK(ResNetCifar(ResNetCifarOptions{56, 10, 'A', 16}, gen).num_parameters() == 853018);
  // Option B adds 16·32 + 64 = 576 and 32·64 + 128 = 2,176: 272,474.
  CHECK(ResNetCifar(ResNetCifarOptions{20, 10, 'B', 16}, gen).num_parameters() == 269722 + 576 + 2176);
  for (int64_t n : {1, 2, 3, 5})
    for (char sc : {'A', 'B'})
      for (int64_t w : {4, 16}) {
        INFO("n " << n << " shortcut " << sc << " width " << w);
        CHECK(ResNetCifar(ResNetCifarOptions{6 * n + 2, 10, sc, w}, gen).num_parameters() == resnet_count(n, w, sc));
      }
}

TEST_CASE("ResNet-CIFAR checkpoint keys and initial values", "[models]") {
  Generator gen(3);
  ResNetCifar b(ResNetCifarOptions{20, 10, 'B', 16}, gen);
  const auto names = parameter_names(b);
  CHECK(names.size() == 1 + 2 + 9 * 6 + 2 * 3 + 2);
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 5) ==
        std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "stage1.0.conv1.weight", "stage1.0.bn1.weight"});
  for (const char* key : {"stage1.2.conv2.weight", "stage2.0.shortcut.conv.weight", "stage2.0.shortcut.bn.weight",
                          "stage2.0.shortcut.bn.bias", "stage3.0.shortcut.conv.weight", "stage3.2.bn2.bias"})
    CHECK(has(names, key));
  CHECK_FALSE(has(names, "stage1.0.shortcut.conv.weight"));
  CHECK_FALSE(has(names, "stage2.1.shortcut.conv.weight"));
  CHECK(names[names.size() - 2] == "fc.weight");
  CHECK(names.back() == "fc.bias");
  std::vector<std::string> buffers;
  for (auto& [name, t] : b.named_buffers()) buffers.push_back(name);
  CHECK(buffers.size() == 2 * (1 + 9 * 2 + 2));
  CHECK(has(buffers, "stage2.0.shortcut.bn.running_mean"));
  CHECK(b.stage(2)[0].describe().find("ProjectionShortcut") != std::string::npos);

  ResNetCifar a(ResNetCifarOptions{20, 10, 'A', 16}, gen);
  const auto names_a = parameter_names(a);
  CHECK(names_a.size() == 1 + 2 + 9 * 6 + 2);
  for (const auto& n : names_a) CHECK(n.find("shortcut") == std::string::npos);
  CHECK(a.stage(3)[0].describe().find("ZeroPadShortcut(32, 64, stride 2)") != std::string::npos);

  // Shapes and initial values: Kaiming normal (fan_out) convs, BN γ = 1 and β = 0, fc U(±1/8).
  for (auto& [name, t] : b.named_parameters()) {
    INFO(name);
    if (name == "stage3.0.shortcut.conv.weight") CHECK(t.shape() == Shape{64, 32, 1, 1});
    if (name == "stage2.0.conv1.weight") CHECK(t.shape() == Shape{32, 16, 3, 3});
    if (name.find("bn") != std::string::npos) {
      const real expected = name.size() > 6 && name.compare(name.size() - 6, 6, "weight") == 0 ? 1 : 0;
      for (real v : t.to_vector()) CHECK(v == expected);
    }
    if (name == "fc.weight") {
      CHECK(t.shape() == Shape{10, 64});
      for (real v : t.to_vector()) CHECK(std::fabs(v) <= real(0.125));
    }
  }
  Tensor w = b.stage(3)[2].named_parameters()[0].second;  // stage3.2.conv1.weight [64, 64, 3, 3]
  double ss = 0;
  for (real v : w.to_vector()) ss += double(v) * v;
  CHECK(std::sqrt(ss / w.numel()) == Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.05));
}

TEST_CASE("ResNet-CIFAR rejects bad options with the value in the message", "[models]") {
  Generator gen(4);
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{21, 10, 'A', 16}, gen), Catch::Contains("depth 21"));
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{2, 10, 'A', 16}, gen), Catch::Contains("depth 2"));
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{18, 10, 'A', 16}, gen), Catch::Contains("6n + 2"));
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{20, 10, 'C', 16}, gen), Catch::Contains("'C'"));
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{20, 0, 'A', 16}, gen), Catch::Contains("num_classes 0"));
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{20, 10, 'A', 0}, gen), Catch::Contains("base_width 0"));
  ResNetCifar net(ResNetCifarOptions{8, 10, 'A', 4}, gen);
  CHECK_THROWS_WITH(net(Tensor::zeros({2, 1, 8, 8})), Catch::Contains("[2, 1, 8, 8]"));
}

TEST_CASE("option A shortcut subsamples and zero-pads channels on both sides", "[models]") {
  Tensor x = Tensor::arange(2 * 2 * 5 * 5);
  x = reshape(x, {2, 2, 5, 5});
  ZeroPadShortcut sc(2, 6, 2);
  Tensor y = sc(x);
  REQUIRE(y.shape() == Shape{2, 6, 3, 3});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 6; ++c)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          const real expected = (c == 2 || c == 3) ? x.at({n, c - 2, 2 * i, 2 * j}) : real(0);
          CHECK(y.at({n, c, i, j}) == expected);
        }
  // Odd padding: the extra zero channel goes after.
  CHECK(ZeroPadShortcut(2, 5, 1)(x).at({0, 0, 0, 0}) == 0);
  CHECK(ZeroPadShortcut(2, 5, 1)(x).at({0, 1, 0, 1}) == 1);
  CHECK(sc.named_parameters().empty());
  CHECK_THROWS_WITH(ZeroPadShortcut(4, 2, 2), Catch::Contains("4 -> 2"));
  CHECK_THROWS_WITH(sc(Tensor::zeros({1, 3, 4, 4})), Catch::Contains("[1, 3, 4, 4]"));
}

TEST_CASE("VGG-7 shape, parameter count and keys", "[models]") {
  Generator gen(5);
  // Full width, by hand: convs 3·128·9 + 128·128·9 + 128·256·9 + 256·256·9 + 256·512·9 + 512·512·9
  //   = 3,456 + 147,456 + 294,912 + 589,824 + 1,179,648 + 2,359,296 = 4,574,592;
  // their BNs 2·(128 + 128 + 256 + 256 + 512 + 512) = 3,584; fc1 (no bias) 8,192·1,024 = 8,388,608;
  // bn7 2,048; fc2 1,024·10 + 10 = 10,250. Total 12,979,082.
  Vgg7 full(Vgg7Options{}, gen);
  CHECK(full.num_parameters() == 12979082);
  const auto names = parameter_names(full);
  CHECK(names == std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight",
                                          "bn2.bias",     "conv3.weight", "bn3.weight", "bn3.bias", "conv4.weight",
                                          "bn4.weight",   "bn4.bias",   "conv5.weight", "bn5.weight", "bn5.bias",
                                          "conv6.weight", "bn6.weight", "bn6.bias",   "fc1.weight", "bn7.weight",
                                          "bn7.bias",     "fc2.weight", "fc2.bias"});
  Tensor x = rand_normal({2, 3, 32, 32}, gen);
  {
    NoGradGuard ng;
    CHECK(full(x).shape() == Shape{2, 10});
  }

  // Tiny: widths 8, 16, 32, 64.
  Vgg7 tiny(Vgg7Options{7, 1.0 / 16}, gen);
  CHECK(tiny.widths() == std::vector<int64_t>{8, 16, 32, 64});
  const int64_t convs = 9 * (3 * 8 + 8 * 8 + 8 * 16 + 16 * 16 + 16 * 32 + 32 * 32);
  CHECK(tiny.num_parameters() == convs + 2 * (8 + 8 + 16 + 16 + 32 + 32) + 32 * 16 * 64 + 2 * 64 + 64 * 7 + 7);
  Tensor y = tiny(x);
  CHECK(y.shape() == Shape{2, 7});
  sum(y).backward();
  for (auto& [name, p] : tiny.named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined());
  }
  CHECK_THROWS_WITH(tiny(Tensor::zeros({2, 3, 16, 16})), Catch::Contains("[2, 3, 16, 16]"));
  CHECK_THROWS_WITH(Vgg7(Vgg7Options{10, 0.001}, gen), Catch::Contains("0.001"));
}

TEST_CASE("models in evaluation mode use running statistics; training mode uses the batch", "[models]") {
  Generator gen(6);
  ResNetCifar net(ResNetCifarOptions{8, 10, 'B', 4}, gen);
  Tensor x = rand_normal({4, 3, 8, 8}, gen);
  Tensor rm = net.named_buffers()[0].second;  // bn1.running_mean
  const auto rm0 = rm.to_vector();

  // Training mode: the output of one sample depends on the rest of the batch, and the running
  // statistics move.
  REQUIRE(net.is_training());
  Tensor y_batch, y_one;
  {
    NoGradGuard ng;
    y_batch = net(x);
    y_one = net(narrow(x, 0, 0, 1));
  }
  CHECK(rm.to_vector() != rm0);
  double diff = 0;
  for (int64_t j = 0; j < 10; ++j) diff = std::max(diff, double(std::fabs(y_batch.at({0, j}) - y_one.at({0, j}))));
  CHECK(diff > 1e-3);

  // Evaluation mode reaches every block; outputs are per-sample and the statistics stay put.
  net.eval();
  CHECK_FALSE(net.stage(2)[0].is_training());
  for (auto& [name, child] : net.stage(2)[0].named_children()) CHECK_FALSE(child->is_training());
  const auto rm1 = rm.to_vector();
  Tensor e_batch = net(x), e_one = net(narrow(x, 0, 0, 1));
  CHECK(rm.to_vector() == rm1);
  for (int64_t j = 0; j < 10; ++j) CHECK(e_one.at({0, j}) == Approx(e_batch.at({0, j})).margin(1e-5));
  net.train();
  CHECK(net.stage(3)[0].is_training());
}

TEST_CASE("inference folds batch norm into the convolutions and matches the layers run one by one",
          "[models]") {
  // Without a graph in evaluation mode, conv → batch norm pairs run as one folded convolution
  // (layers/conv_batch_norm.h); with grad mode on they run as separate layers. Trained-looking
  // batch-norm statistics and affine parameters make the fold do real work.
  Generator gen(61);
  ResNetCifar resnet(ResNetCifarOptions{8, 10, 'B', 4}, gen);
  Vgg7 vgg(Vgg7Options{10, 0.0625}, gen);
  for (Module* net : std::vector<Module*>{&resnet, &vgg}) {
    for (auto& [name, t] : net->named_parameters())
      if (name.find("bn") != std::string::npos) t.copy_(rand_uniform(t.shape(), gen, 0.5, 1.5));
    for (auto& [name, t] : net->named_buffers())
      t.copy_(name.find("var") != std::string::npos ? rand_uniform(t.shape(), gen, 0.5, 2)
                                                      : rand_uniform(t.shape(), gen, -0.3, 0.3));
    net->eval();
    Layer& layer = dynamic_cast<Layer&>(*net);
    const Tensor x = rand_normal({3, 3, 32, 32}, gen);
    const Tensor separate = layer(x);  // grad mode on: no fusion
    Tensor fused;
    {
      NoGradGuard ng;
      fused = layer(x);
    }
    REQUIRE(fused.shape() == separate.shape());
    for (int64_t i = 0; i < fused.numel(); ++i)
      REQUIRE(fused.data()[i] == Approx(separate.data()[i]).epsilon(1e-4).margin(1e-4));
  }
}

TEST_CASE("conv2d_batch_norm_eval equals conv2d then batch_norm (and relu) in evaluation", "[models]") {
  Generator gen(62);
  // Plain, strided with a bias, a shape that takes the batched GEMM path (stride 2, P = 49,
  // K = 1152), one image (split by positions over the threads), an S of 576 KiB (built by
  // chunks of channels), rows of 32 (read from the padded image) and a last panel of 16
  // positions (a tile one packet wide); each with and without a residual.
  struct Case {
    Shape x, w;
    int64_t stride, pad;
    bool bias;
  };
  for (const Case& c : {Case{{2, 5, 9, 7}, {6, 5, 3, 3}, 1, 1, false}, Case{{2, 4, 9, 9}, {8, 4, 3, 3}, 2, 1, true},
                        Case{{2, 128, 13, 13}, {8, 128, 3, 3}, 2, 1, false},
                        Case{{1, 4, 9, 9}, {10, 4, 3, 3}, 1, 1, true},
                        Case{{2, 40, 48, 48}, {12, 40, 3, 3}, 2, 1, true},
                        Case{{2, 3, 8, 32}, {10, 3, 3, 3}, 1, 1, true},
                        Case{{2, 4, 6, 8}, {8, 4, 3, 3}, 1, 1, true}})
    for (bool relu : {false, true})
      for (bool affine : {false, true})
        for (bool with_residual : {false, true}) {
          INFO("x " << shape_str(c.x) << " stride " << c.stride << (relu ? " relu" : "") << (affine ? " affine" : "")
                    << (with_residual ? " residual" : ""));
          const int64_t C = c.w[0];
          const Tensor x = rand_normal(c.x, gen), w = rand_normal(c.w, gen, 0, 0.2);
          const Tensor b = c.bias ? rand_normal({C}, gen) : Tensor();
          const Tensor gamma = affine ? rand_uniform({C}, gen, 0.5, 1.5) : Tensor();
          const Tensor beta = affine ? rand_uniform({C}, gen, -1, 1) : Tensor();
          const Tensor mean = rand_uniform({C}, gen, -0.5, 0.5), var = rand_uniform({C}, gen, 0.5, 2);
          const Conv2dOptions opt = Conv2dOptions::make(c.stride, c.pad);
          BatchNormOptions bo;
          bo.relu = relu;
          NoGradGuard ng;
          const Tensor y = conv2d(x, w, b, opt);
          const Tensor residual = with_residual ? rand_normal(y.shape(), gen) : Tensor();
          const Tensor expected = with_residual ? batch_norm_add(y, residual, gamma, beta, mean, var, false, bo)
                                                : batch_norm(y, gamma, beta, mean, var, false, bo);
          const Tensor got = conv2d_batch_norm_eval(x, w, b, gamma, beta, mean, var, bo.eps, relu, opt, residual);
          REQUIRE(got.shape() == expected.shape());
          for (int64_t i = 0; i < got.numel(); ++i)
            REQUIRE(got.data()[i] == Approx(expected.data()[i]).epsilon(1e-4).margin(1e-5));
        }
  Tensor w = rand_normal({4, 3, 3, 3}, gen).set_requires_grad(true);
  CHECK_THROWS_WITH(conv2d_batch_norm_eval(Tensor::zeros({1, 3, 5, 5}), w, Tensor(), Tensor(), Tensor(),
                                           Tensor::zeros({4}), Tensor::ones({4}), 1e-5, false),
                    Catch::Contains("evaluation only"));
  CHECK_THROWS_WITH(conv2d_batch_norm_eval(Tensor::zeros({1, 3, 5, 5}), w.detach(), Tensor(), Tensor::ones({5}),
                                           Tensor(), Tensor::zeros({4}), Tensor::ones({4}), 1e-5, false),
                    Catch::Contains("[5]"));
  CHECK_THROWS_WITH(conv2d_batch_norm_eval(Tensor::zeros({1, 3, 5, 5}), w.detach(), Tensor(), Tensor(), Tensor(),
                                           Tensor::zeros({4}), Tensor::ones({4}), 1e-5, false, Conv2dOptions::make(1, 1),
                                           Tensor::zeros({1, 4, 5, 4})),
                    Catch::Contains("residual [1, 4, 5, 4]"));
}

TEST_CASE("build_model makes the named model and rejects unknown names", "[models]") {
  Generator gen(7);
  ModelOptions o;
  o.name = "resnet_cifar";
  o.resnet.depth = 20;
  auto r = build_model(o, gen);
  CHECK(r->num_parameters() == 269722);
  CHECK(dynamic_cast<ResNetCifar*>(r.get()) != nullptr);
  o.name = "vgg7";
  o.vgg.width = 0.125;
  auto v = build_model(o, gen);
  CHECK(dynamic_cast<Vgg7*>(v.get()) != nullptr);
  CHECK(v->describe() == "Vgg7(widths 16/32/64/128, classes 10)");
  o.name = "resnet50";
  CHECK_THROWS_AS(build_model(o, gen), st::Error);
  CHECK_THROWS_WITH(build_model(o, gen), Catch::Contains("'resnet50'") && Catch::Contains("resnet_cifar, vgg7, resnet18"));
  o.name = "resnet_cifar";
  o.resnet.depth = 22;
  CHECK_THROWS_WITH(build_model(o, gen), Catch::Contains("depth 22"));
}

TEST_CASE("a conv factory builds every convolution of the models", "[models]") {
  Generator gen(8);
  int calls = 0, pointwise = 0;
  std::vector<std::string> names;
  ConvFactory counting = [&](const std::string& name, const Conv2dLayerOptions& o, Generator& g) -> std::shared_ptr<Layer> {
    ++calls;
    names.push_back(name);
    if (o.kernel_h == 1) ++pointwise;
    return std::make_shared<Conv2d>(o, g);
  };
  ResNetCifar b(ResNetCifarOptions{20, 10, 'B', 16}, gen, counting);
  CHECK(calls == 1 + 18 + 2);
  CHECK(pointwise == 2);
  // The factory sees each convolution's dotted name in the finished model.
  std::vector<std::string> module_names;
  for (auto& [name, t] : b.named_parameters())
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 && t.dim() == 4)
      module_names.push_back(name.substr(0, name.size() - 7));
  CHECK(names == module_names);
  CHECK(names[1] == "stage1.0.conv1");
  CHECK(std::find(names.begin(), names.end(), "stage2.0.shortcut.conv") != names.end());
  calls = 0;
  names.clear();
  Vgg7 v(Vgg7Options{10, 0.0625}, gen, counting);
  CHECK(calls == 6);
  CHECK(names.back() == "conv6");
}

TEST_CASE("a depth-8 ResNet overfits one small batch with SGD", "[models]") {
  Generator gen(9);
  for (char sc : {'A', 'B'}) {
    INFO("shortcut " << sc);
    ResNetCifar net(ResNetCifarOptions{8, 10, sc, 8}, gen);
    Tensor x = rand_normal({16, 3, 16, 16}, gen);
    std::vector<int64_t> labels;
    for (int i = 0; i < 16; ++i) labels.push_back(gen.randint(10));
    SgdOptions so;
    so.lr = 0.05;
    so.momentum = 0.9;
    Sgd sgd(net.parameters(), so);
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      sgd.zero_grad();
      Tensor loss = cross_entropy(net(x), labels);
      if (step == 0) first = loss.item();
      last = loss.item();
      loss.backward();
      sgd.step();
    }
    CHECK(first > 1.5);
    CHECK(last < 0.2 * first);
    // The memorised batch is classified correctly in evaluation mode too (running statistics).
    net.eval();
    NoGradGuard ng;
    const auto pred = argmax(net(x), 1);
    int correct = 0;
    for (int i = 0; i < 16; ++i) correct += pred[i] == labels[i];
    CHECK(correct >= 14);
  }
}
