// strassen: the project's one command-line program.
//
//   strassen train --config FILE [--set key=value ...] [--out DIR] [--seed N] [--resume] [--no-progress]
//   strassen eval  --config FILE --checkpoint FILE [--set key=value ...] [--json FILE]
//   strassen export --config FILE --checkpoint FILE --out FILE [--set key=value ...]
//   strassen count --config FILE [--checkpoint FILE] [--set key=value ...] [--json]
//   strassen discover --n 2 --r 7 --restarts 25 [--samples 100000] [--seed S] [--json]
//   strassen bench [--case NAME] [--json] [--steps N] [--warmup W]
//
// Errors are one line on stderr ("strassen: error: ...") and a non-zero exit status:
// 1 for a failed run (bad config, missing data, corrupt file), 2 for a usage error.
#include "apps/cli.h"  // first: it configures cxxopts

#include <cstdio>
#include <fstream>
#include <new>
#include <iostream>
#include <string>
#include <vector>

#include "config/experiment.h"
#include "core/error.h"
#include "core/ops/profiler.h"
#include "core/tuned_environment.h"
#include "train/metrics.h"
#include "train/run_setup.h"
#include "train/trainer.h"

int cmd_count(int argc, char** argv);  // apps/cmd_count.cpp
int cmd_bench(int argc, char** argv);  // apps/cmd_bench.cpp

int cmd_discover(int argc, char** argv);  // apps/cmd_discover.cpp

namespace {

using st::cli::UsageError;
using st::cli::parse;
using st::cli::require;

constexpr const char* kUsage =
    "usage: strassen <command> [options]\n"
    "commands:\n"
    "  train     train a model from a JSON config (strassen train --help)\n"
    "  eval      evaluate a checkpoint on the config's test split (strassen eval --help)\n"
    "  export    fold a ternary Strassen model's scales: W_b, W_c exactly {-1, 0, 1} (strassen export --help)\n"
    "  count     multiplications, additions and model size per layer (strassen count --help)\n"
    "  discover  learn exact ternary matrix-multiplication algorithms (strassen discover --help)\n"
    "  bench     time training and inference steps of the benchmark models (strassen bench --help)\n";

int cmd_train(int argc, char** argv) {
  cxxopts::Options options("strassen train", "Train a model from a JSON experiment config.");
  options.add_options()("config", "experiment config (JSON)", cxxopts::value<std::string>())(
      "set", "override a config key: key.path=value (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "out", "run directory (default runs/<name>)", cxxopts::value<std::string>())(
      "seed", "override the config's seed", cxxopts::value<uint64_t>())(
      "resume", "continue the run in --out from its last checkpoint")("no-progress", "no progress display");
  cxxopts::ParseResult r = parse(options, argc, argv);
  std::vector<std::string> overrides;
  if (r.count("set")) overrides = r["set"].as<std::vector<std::string>>();
  if (r.count("seed")) overrides.push_back("seed=" + std::to_string(r["seed"].as<uint64_t>()));
  const st::ExperimentConfig config = st::load_experiment_config(require(r, "config"), overrides);
  st::TrainRunOptions run;
  run.out_dir = r.count("out") ? r["out"].as<std::string>() : "runs/" + config.name;
  run.resume = r.count("resume") > 0;
  run.progress = r.count("no-progress") == 0;
  const st::TrainSummary s = st::run_training(config, run, st::build_teacher(config));
  if (st::profiler::enabled()) st::profiler::report(std::cerr);  // ST_PROFILE=1
  for (const st::PhaseResult& p : s.phases)
    std::printf("%s: phase '%s'%s%s: test %s\n", config.name.c_str(), p.name.c_str(), p.mode.empty() ? "" : " mode ",
                p.mode.c_str(), st::format_scores(p.test).c_str());
  const std::string best = st::format_value(s.monitor.name, s.best);
  if (s.epochs_run == 0) {
    std::printf("%s: already complete (%lld epochs); best %s; weights checksum %s; run in %s\n", config.name.c_str(),
                static_cast<long long>(config.epochs), best.c_str(), s.checksum.c_str(), run.out_dir.c_str());
    return 0;
  }
  std::printf("%s: %lld epochs in %.1f s; test %s; best %s; weights checksum %s; run in %s\n", config.name.c_str(),
              static_cast<long long>(s.epochs_run), s.seconds, st::format_scores(s.last_test).c_str(), best.c_str(),
              s.checksum.c_str(), run.out_dir.c_str());
  return 0;
}

int cmd_eval(int argc, char** argv) {
  cxxopts::Options options("strassen eval", "Evaluate a checkpoint on the config's test split.");
  options.add_options()("config", "experiment config (JSON)", cxxopts::value<std::string>())(
      "checkpoint", "checkpoint file", cxxopts::value<std::string>())(
      "set", "override a config key: key.path=value (repeatable)", cxxopts::value<std::vector<std::string>>())(
      "json", "also write the result to this file", cxxopts::value<std::string>());
  cxxopts::ParseResult r = parse(options, argc, argv);
  std::vector<std::string> overrides;
  if (r.count("set")) overrides = r["set"].as<std::vector<std::string>>();
  const st::ExperimentConfig config = st::load_experiment_config(require(r, "config"), overrides);
  const std::string ckpt = require(r, "checkpoint");
  const st::EvalSummary e = st::evaluate_checkpoint(config, ckpt);
  st::JsonLine json;
  json.add("checkpoint", ckpt).add("split", "test").add(e.unit, e.count);
  for (const auto& [name, value] : e.metrics) json.add(name, value);
  const std::string line = json.str();
  std::printf("%s\n", line.c_str());
  if (r.count("json")) {
    const std::string path = r["json"].as<std::string>();
    std::ofstream out(path);
    if (!(out << line << "\n")) throw st::Error("cannot write '" + path + "'");
  }
  return 0;
}

int cmd_export(int argc, char** argv) {
  cxxopts::Options options("strassen export",
                           "Write a trained ternary Strassen model with W_b, W_c exactly {-1, 0, 1} (scales folded into "
                           "a_hat and the hidden batch norm).");
  options.add_options()("config", "experiment config (JSON)", cxxopts::value<std::string>())(
      "checkpoint", "trained checkpoint (spn_ternary or ternary_frozen, TWN rule)", cxxopts::value<std::string>())(
      "out", "the exported checkpoint to write", cxxopts::value<std::string>())(
      "set", "override a config key: key.path=value (repeatable)", cxxopts::value<std::vector<std::string>>());
  cxxopts::ParseResult r = parse(options, argc, argv);
  std::vector<std::string> overrides;
  if (r.count("set")) overrides = r["set"].as<std::vector<std::string>>();
  const st::ExperimentConfig config = st::load_experiment_config(require(r, "config"), overrides);
  const std::string out = require(r, "out");
  st::export_ternary(config, require(r, "checkpoint"), out);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  st::reexec_with_tuned_environment(argv);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  try {
    if (command == "train") return cmd_train(argc - 1, argv + 1);
    if (command == "eval") return cmd_eval(argc - 1, argv + 1);
    if (command == "export") return cmd_export(argc - 1, argv + 1);
    if (command == "count") return cmd_count(argc - 1, argv + 1);
    if (command == "discover") return cmd_discover(argc - 1, argv + 1);
    if (command == "bench") return cmd_bench(argc - 1, argv + 1);
    if (command == "-h" || command == "--help" || command == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "strassen: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const st::Error& e) {
    std::fprintf(stderr, "strassen: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    // what() is only "std::bad_alloc". The config's sizes are range-checked, so this is a model,
    // batch or data set that does not fit in this machine's memory.
    std::fprintf(stderr,
                 "strassen: error: out of memory in 'strassen %s' (a model, batch or data set larger than the "
                 "memory available; try a smaller model, data.batch_size or data.eval_batch_size)\n",
                 command.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strassen: error: %s\n", e.what());
    return 1;
  }
}
