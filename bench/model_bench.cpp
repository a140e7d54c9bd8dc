#include "bench/model_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <memory>

#include "analysis/op_count.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/gemm.h"
#include "core/ops/loss.h"
#include "core/rng.h"
#include "layers/strassen.h"
#include "models/factory.h"
#include "optim/sgd.h"

namespace st::bench {

namespace {

// ---- timing

double cpu_now_ms() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Runs `step` warmup times, then times it `steps` times; fills ms, ms_min, ms_cpu.
Measurement time_steps(const std::string& name, const BenchOptions& opt, const std::function<void()>& step) {
  for (int64_t i = 0; i < opt.warmup; ++i) step();
  std::vector<double> wall, cpu;
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double c0 = cpu_now_ms();
    const auto t0 = std::chrono::steady_clock::now();
    step();
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(cpu_now_ms() - c0);
  }
  Measurement m;
  m.name = name;
  m.ms = median_of(wall);
  m.ms_min = *std::min_element(wall.begin(), wall.end());
  m.ms_cpu = median_of(cpu);
  return m;
}

// ---- cases

struct ModelCase {
  std::string name, description;
  ModelOptions model;
  int64_t batch, image, classes;
};

ModelCase strassen_resnet20(int64_t p, bool ternary) {
  ModelCase c{"strassen_resnet20_p" + std::to_string(p) + (ternary ? "_ternary" : ""), "", {}, 128, 32, 10};
  c.model.name = "resnet_cifar";
  c.model.strassen.enabled = true;
  c.model.strassen.hidden_ratio = 1.0;
  c.model.strassen.out_patch = p;
  c.model.strassen.layer.mode = ternary ? StrassenMode::SpnTernary : StrassenMode::SpnFloat;
  c.description = "ResNet-20 (CIFAR, shortcut A), every conv a StrassenConv2d with r = c_out, p = " +
                  std::to_string(p) + ", mode " + strassen_mode_name(c.model.strassen.layer.mode) +
                  (ternary ? " (TWN)" : "") + "; FC full precision";
  return c;
}

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> cases;
  {
    ModelCase c{"resnet20", "ResNet-20 (CIFAR, shortcut A)", {}, 128, 32, 10};
    c.model.name = "resnet_cifar";
    cases.push_back(c);
  }
  for (int64_t p : {1, 2})
    for (bool ternary : {false, true}) cases.push_back(strassen_resnet20(p, ternary));
  {
    ModelCase c{"vgg7", "VGG-7 (CIFAR)", {}, 128, 32, 10};
    c.model.name = "vgg7";
    cases.push_back(c);
  }
  {
    ModelCase c{"resnet18", "ResNet-18 (ImageNet, 224x224)", {}, 16, 224, 1000};
    c.model.name = "resnet18";
    cases.push_back(c);
  }
  return cases;
}

BenchResult run_gemm(const BenchOptions& opt) {
  constexpr int64_t n = 1024, check_rows = 4;
  Generator gen(opt.seed);
  const Tensor a = rand_normal({n, n}, gen), b = rand_normal({n, n}, gen);
  Tensor c = Tensor::zeros({n, n});
  // Check before timing: the first rows of C against the naive triple loop.
  gemm(false, false, n, n, n, a.data(), b.data(), 0, c.data());
  std::vector<real> ref(check_rows * n);
  gemm_reference(false, false, check_rows, n, n, a.data(), b.data(), 0, ref.data());
  double err = 0, scale = 1;
  for (int64_t i = 0; i < check_rows * n; ++i) {
    err = std::max(err, std::fabs(static_cast<double>(c.data()[i]) - ref[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(ref[i])));
  }
  ST_CHECK(err <= 1e-4 * scale, "bench gemm: gemm differs from gemm_reference by " << err << " (max |ref| " << scale
                                                                                     << ")");
  BenchResult r;
  r.name = "gemm";
  r.description = std::string("C[1024,1024] = A[1024,1024] B[1024,1024], float32, st::gemm (") + gemm_backend() + ")";
  Measurement m = time_steps("gemm", opt, [&] { gemm(false, false, n, n, n, a.data(), b.data(), 0, c.data()); });
  m.items = 1;
  m.flops = 2.0 * n * n * n;
  r.measurements.push_back(m);
  return r;
}

BenchResult run_model(const ModelCase& mc, const BenchOptions& opt) {
  Generator gen(opt.seed);
  std::shared_ptr<Layer> model = build_model(mc.model, gen);
  const Shape input{mc.batch, 3, mc.image, mc.image};
  const Tensor x = rand_normal(input, gen);
  std::vector<int64_t> labels(static_cast<size_t>(mc.batch));
  for (int64_t& l : labels) l = gen.randint(mc.classes);

  SgdOptions so;
  so.lr = 0.01;
  so.momentum = 0.9;
  so.weight_decay = 1e-4;
  Sgd sgd(model->parameters(), so);

  BenchResult r;
  r.name = mc.name;
  r.description = mc.description;
  r.batch = mc.batch;
  r.input = input;
  // Forward MACs of one image from analysis/op_count: `adds` is, for Conv2d and Linear, their
  // multiply-accumulates, and for Strassen layers those of the W_b convolution and the W_c
  // transposed convolution with every entry counted (what this floating-point engine computes).
  r.forward_macs = count_model(*model, {1, 3, mc.image, mc.image}).total.adds * mc.batch;
  double loss = 0;
  auto train_step = [&] {
    Tensor logits = (*model)(x);
    Tensor l = cross_entropy(logits, labels);
    sgd.zero_grad();
    l.backward();
    sgd.step();
    loss = l.item();
  };
  model->train();
  Measurement train = time_steps("train", opt, train_step);
  // The parameters the step trains: those with a gradient (a Strassen layer's dense weight has none).
  for (const Tensor& p : model->parameters())
    if (p.grad().defined()) r.params += p.numel();
  ST_CHECK(std::isfinite(loss), "bench " << mc.name << ": the training loss is " << loss);
  r.loss = loss;

  model->eval();
  Measurement infer = time_steps("infer", opt, [&] {
    NoGradGuard no_grad;
    (*model)(x);
  });
  train.items = infer.items = static_cast<double>(mc.batch);
  train.flops = 3 * 2 * static_cast<double>(r.forward_macs);  // forward, and a backward of twice its work
  infer.flops = 2 * static_cast<double>(r.forward_macs);
  r.measurements = {train, infer};
  return r;
}

}  // namespace

const std::vector<std::string>& bench_cases() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n{"gemm"};
    for (const ModelCase& c : model_cases()) n.push_back(c.name);
    return n;
  }();
  return names;
}

BenchResult run_bench_case(const std::string& name, const BenchOptions& opt) {
  ST_CHECK(opt.steps >= 1 && opt.warmup >= 0,
           "bench: steps " << opt.steps << " must be >= 1 and warmup " << opt.warmup << " >= 0");
  if (name == "gemm") return run_gemm(opt);
  for (const ModelCase& c : model_cases())
    if (c.name == name) return run_model(c, opt);
  std::string list;
  for (const std::string& n : bench_cases()) list += (list.empty() ? "" : ", ") + n;
  ST_THROW("bench: unknown case '" << name << "' (known: " << list << ")");
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

}  // namespace st::bench
