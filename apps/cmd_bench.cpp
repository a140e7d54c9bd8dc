// strassen bench: times a training step and an inference step of the benchmark models, and the
// GEMM kernel (bench/model_bench.h, docs/benchmarks.md). One JSON line per case with --json, the
// same fields as tools/bench_torch.py prints for PyTorch; bench/compare.sh runs both, one process
// per case (the peak resident memory is the process's).
#include "apps/cli.h"  // first: it configures cxxopts

#include <omp.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/model_bench.h"
#include "core/ops/profiler.h"
#include "train/metrics.h"

namespace {

std::string input_text(const st::Shape& s) {  // without the batch axis: "3x32x32"
  std::string t;
  for (size_t i = 1; i < s.size(); ++i) t += (i > 1 ? "x" : "") + std::to_string(s[i]);
  return t;
}

std::string json_line(const st::bench::BenchResult& r, const st::bench::BenchOptions& opt) {
  st::JsonLine j;
  j.add("impl", "strassen").add("case", r.name).add("description", r.description);
  j.add("threads", omp_get_max_threads()).add("steps", opt.steps).add("warmup", opt.warmup);
  if (!r.input.empty()) {
    j.add("batch", r.batch).add("input", input_text(r.input)).add("params", r.params);
    j.add("forward_macs", r.forward_macs).add("flops_convention", "train 6 x forward MACs, infer 2 x forward MACs");
  }
  for (const st::bench::Measurement& m : r.measurements) {
    j.add(m.name + "_ms", m.ms).add(m.name + "_ms_min", m.ms_min).add(m.name + "_ms_cpu", m.ms_cpu);
    j.add(m.name + "_items_per_s", m.items_per_s());
    if (m.flops > 0) j.add(m.name + "_gflops", m.gflops());
  }
  if (!r.input.empty()) j.add("loss", r.loss);
  j.add("peak_rss_mib", st::bench::peak_rss_mib());
  return j.str();
}

void print_text(const st::bench::BenchResult& r) {
  std::printf("%s: %s\n", r.name.c_str(), r.description.c_str());
  for (const st::bench::Measurement& m : r.measurements) {
    std::printf("  %-5s %9.2f ms/step (min %.2f, cpu %.2f)  %10.1f %s/s", m.name.c_str(), m.ms, m.ms_min, m.ms_cpu,
                m.items_per_s(), r.input.empty() ? "products" : "images");
    if (m.flops > 0) std::printf("  %7.2f GFLOP/s", m.gflops());
    std::printf("\n");
  }
  std::printf("  peak RSS %.1f MiB\n", st::bench::peak_rss_mib());
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  std::string cases;
  for (const std::string& c : st::bench::bench_cases()) cases += (cases.empty() ? "" : ", ") + c;
  cxxopts::Options options(
      "strassen bench",
      "Time a training step (forward, cross-entropy, backward, SGD momentum update) and an inference step (evaluation "
      "mode, no graph) of the benchmark models on a seeded random batch: median of --steps after --warmup untimed "
      "steps. Cases: " + cases + ". Threads: OMP_NUM_THREADS. Peak memory is the process's: run one case per "
      "process to get a case's own (bench/compare.sh does).");
  options.add_options()("case", "one case, or all", cxxopts::value<std::string>()->default_value("all"))(
      "steps", "timed steps per measurement", cxxopts::value<int64_t>()->default_value("20"))(
      "warmup", "untimed steps before them", cxxopts::value<int64_t>()->default_value("3"))(
      "json", "one JSON line per case instead of text");
  cxxopts::ParseResult r = st::cli::parse(options, argc, argv);
  st::bench::BenchOptions opt;
  opt.steps = r["steps"].as<int64_t>();
  opt.warmup = r["warmup"].as<int64_t>();
  if (opt.steps < 1 || opt.warmup < 0) throw st::cli::UsageError("--steps must be >= 1 and --warmup >= 0");
  const std::string which = r["case"].as<std::string>();
  std::vector<std::string> run;
  for (const std::string& c : st::bench::bench_cases())
    if (which == "all" || which == c) run.push_back(c);
  if (run.empty()) throw st::cli::UsageError("unknown case '" + which + "' (known: " + cases + ", all)");
  const bool json = r.count("json") > 0;
  for (const std::string& c : run) {
    const st::bench::BenchResult res = st::bench::run_bench_case(c, opt);
    if (json)
      std::printf("%s\n", json_line(res, opt).c_str());
    else
      print_text(res);
    std::fflush(stdout);
  }
  if (st::profiler::enabled()) st::profiler::report(std::cerr);  // ST_PROFILE=1: per-op times of all steps
  return 0;
}
