#pragma once
// Model benchmarks (`strassen bench`, docs/benchmarks.md): the time of one full training step and
// one inference step of the project's models, and the GFLOP/s of the GEMM kernel.
//
// A model case builds its model with a fixed seed and one batch of random inputs (normal) and
// labels (uniform over the classes), seeded, and times
//   train  model.train(); logits = model(x); loss = cross_entropy(logits, labels);
//          sgd.zero_grad(); loss.backward(); sgd.step()
//          (SGD with momentum 0.9, weight decay 1e-4 on every parameter, lr 0.01)
//   infer  model.eval(); under NoGradGuard: logits = model(x)
// each `warmup` times untimed, then `steps` times; the train steps run first. Every step reuses
// the same batch: the data loader is not part of the measurement.
// The gemm case times st::gemm (core/kernels/gemm.h, the kernel behind matmul and linear) on
// C[1024,1024] = A[1024,1024]·B[1024,1024], after checking 4 rows of C against gemm_reference.
//
// Cases (the PyTorch side, tools/bench_torch.py, has the same names):
//   gemm                          1024³ float32
//   resnet20                      ResNet-20 for CIFAR, shortcut A, batch 128, 3×32×32
//   strassen_resnet20_p1[_ternary]  the same with every convolution a StrassenConv2d, r = c_out,
//   strassen_resnet20_p2[_ternary]  out-patch p = 1 or 2 (the first conv too, g = 1; the FC
//                                 stays full precision); mode spn_fp, or spn_ternary (TWN) with
//                                 the _ternary suffix
//   vgg7                          VGG-7 for CIFAR, batch 128, 3×32×32
//   resnet18                      ResNet-18 for ImageNet (models/resnet_imagenet.h), batch 16,
//                                 3×224×224, 1000 classes
//
// FLOPs: the forward multiply-accumulates (MACs) of one image come from analysis/op_count.h
// (count_model, its `adds`: for Conv2d and Linear their MACs; for a Strassen layer the MACs of the
// W_b convolution and of the W_c transposed convolution, every entry counted, which is what this
// floating-point engine computes in every SPN mode), times the batch. Batch norm, ReLU, pooling,
// residual additions and the optimizer update are not counted. A training step counts
// 3 × 2 × MACs (forward, and a backward of twice the forward: input and weight gradients), an
// inference step 2 × MACs. The GEMM counts 2·1024³.
//
// Each measurement reports the median, the minimum and the median CPU time of the process (all
// threads) over the timed steps: on a machine shared with other work the CPU time is the steadier
// figure (with OMP_WAIT_POLICY=passive threads do not spin at barriers).
#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"

namespace st::bench {

struct BenchOptions {
  int64_t steps = 20;   // timed steps per measurement (>= 1)
  int64_t warmup = 3;   // untimed steps before them (>= 0)
  uint64_t seed = 1;    // model initialisation, inputs and labels
};

// One timed step kind of a case: "train", "infer" or "gemm".
struct Measurement {
  std::string name;
  double ms = 0;       // median wall time per step
  double ms_min = 0;   // fastest step
  double ms_cpu = 0;   // median CPU time of the whole process per step
  double items = 0;    // items (images; for gemm: products) per step
  double flops = 0;    // floating-point operations per step; 0 when not counted
  double items_per_s() const { return items / (ms * 1e-3); }
  double gflops() const { return flops > 0 ? flops / (ms * 1e6) : 0; }
};

struct BenchResult {
  std::string name;         // the case
  std::string description;  // the model's describe() (or the GEMM shape), shortened
  int64_t batch = 0;
  Shape input;              // one batch; empty for gemm
  int64_t params = 0;       // parameter elements the training step updates
  int64_t forward_macs = 0;  // multiply-accumulates of one forward pass over the batch (see FLOPs)
  double loss = 0;          // the training loss after the last step (a sanity check; NaN = broken)
  std::vector<Measurement> measurements;
};

// Case names in the order `strassen bench` runs them.
const std::vector<std::string>& bench_cases();

// Runs one case. Throws st::Error for an unknown case name (listing the known ones), for
// steps < 1 or warmup < 0, a GEMM that does not match its reference, or a non-finite loss.
BenchResult run_bench_case(const std::string& name, const BenchOptions& opt);

// Peak resident set size of this process so far, in MiB (getrusage's ru_maxrss). Only the
// peak of one case when that case is the only one the process ran.
double peak_rss_mib();

}  // namespace st::bench
