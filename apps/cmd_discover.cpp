// strassen discover: learn exact ternary matrix-multiplication algorithms with an SPN
// (strassennets.md §7, "Strassen's algorithm rediscovered"; the search is discover/matmul_spn.h).
//
//   strassen discover --n 2 --r 7 --restarts 25 [--samples 100000] [--seed S] [--json]
#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "discover/matmul_spn.h"

namespace {

using st::cli::UsageError;

// cxxopts only accepts long names of two or more letters, so "--n 2" would be a syntax error;
// the issue spells the options --n and --r. They are declared as -n and -r and rewritten here:
// "--n" -> "-n", "--n=3" -> "-n3" (cxxopts reads the rest of a short option as its value).
std::vector<std::string> single_letter_options(int argc, char** argv, const std::string& letters) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() >= 3 && a[0] == '-' && a[1] == '-' && letters.find(a[2]) != std::string::npos &&
        (a.size() == 3 || a[3] == '='))
      args[i] = "-" + a.substr(2, 1) + (a.size() > 4 ? a.substr(4) : "");
  }
  return args;
}

// Rows of a row-major [rows, cols] integer matrix, as JSON arrays.
nlohmann::ordered_json matrix_json(const std::vector<int>& m, int64_t rows, int64_t cols) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (int64_t i = 0; i < rows; ++i) out.push_back(std::vector<int>(m.begin() + i * cols, m.begin() + (i + 1) * cols));
  return out;
}

std::string matrix_text(const char* name, const std::vector<int>& m, int64_t rows, int64_t cols) {
  std::ostringstream os;
  os << name << " [" << rows << " x " << cols << "]:\n";
  for (int64_t i = 0; i < rows; ++i) {
    os << " ";
    for (int64_t j = 0; j < cols; ++j) {
      char cell[8];
      std::snprintf(cell, sizeof cell, " %2d", m[i * cols + j]);
      os << cell;
    }
    os << "\n";
  }
  return os.str();
}

nlohmann::ordered_json algorithm_json(const st::RestartResult& r) {
  const st::MatmulAlgorithm& a = r.algorithm;
  const int64_t nn = a.n * a.n;
  nlohmann::ordered_json j;
  j["restart"] = r.restart;
  j["wa"] = matrix_json(a.wa, a.r, nn);
  j["wb"] = matrix_json(a.wb, a.r, nn);
  j["wc"] = matrix_json(a.wc, nn, a.r);
  j["additions"] = r.additions;
  j["violated"] = r.check.violated;
  return j;
}

// The exact restart with the fewest additions, or null.
const st::RestartResult* fewest_additions(const st::DiscoverResult& res) {
  const st::RestartResult* best = nullptr;
  for (const st::RestartResult& r : res.restarts)
    if (r.check.exact() && (!best || r.additions < best->additions)) best = &r;
  return best;
}

void print_json(const st::DiscoverOptions& opt, int64_t restarts, const st::DiscoverResult& res) {
  nlohmann::ordered_json j;
  j["n"] = opt.n;
  j["r"] = opt.r;
  j["restarts"] = restarts;
  j["samples"] = opt.samples;
  j["seed"] = opt.seed;
  j["exact"] = res.exact_count;
  j["seconds"] = res.seconds;
  j["threads"] = res.threads;
  j["equations"] = res.restarts.front().check.equations;
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const st::RestartResult& r : res.restarts)
    runs.push_back({{"restart", r.restart},
                    {"fp_loss", r.fp_loss},
                    {"loss", r.ternary_loss},
                    {"ternary_epochs", r.ternary_epochs_run},
                    {"violated", r.check.violated},
                    {"residual_sq", r.check.residual_sq},
                    {"exact", r.check.exact()},
                    {"additions", r.additions}});
  j["runs"] = runs;
  const st::RestartResult& best = res.restarts[res.best];
  j["first_exact"] = best.check.exact() ? algorithm_json(best) : nlohmann::ordered_json();
  j["additions"] = best.check.exact() ? nlohmann::ordered_json(best.additions) : nlohmann::ordered_json();
  const st::RestartResult* fewest = fewest_additions(res);
  j["fewest_additions"] = fewest ? nlohmann::ordered_json{{"restart", fewest->restart}, {"additions", fewest->additions}}
                                 : nlohmann::ordered_json();
  if (!best.check.exact()) j["best"] = algorithm_json(best);
  std::printf("%s\n", j.dump().c_str());
}

void print_text(const st::DiscoverOptions& opt, int64_t restarts, const st::DiscoverResult& res) {
  std::printf("strassen discover: %lldx%lld products with r = %lld, %lld restarts, %lld samples, seed %llu, %d threads\n",
              static_cast<long long>(opt.n), static_cast<long long>(opt.n), static_cast<long long>(opt.r),
              static_cast<long long>(restarts), static_cast<long long>(opt.samples),
              static_cast<unsigned long long>(opt.seed), res.threads);
  const int64_t equations = res.restarts.front().check.equations;
  std::printf("restart  fp loss    ternary epochs  ternary loss  violated equations  exact\n");
  for (const st::RestartResult& r : res.restarts)
    std::printf("%7lld  %9.3g  %14lld  %12.4g  %8lld of %-6lld  %s\n", static_cast<long long>(r.restart), r.fp_loss,
                static_cast<long long>(r.ternary_epochs_run), r.ternary_loss, static_cast<long long>(r.check.violated),
                static_cast<long long>(equations), r.check.exact() ? "yes" : "no");
  std::printf("exact: %lld of %lld restarts\n", static_cast<long long>(res.exact_count), static_cast<long long>(restarts));
  const st::RestartResult& best = res.restarts[res.best];
  const st::MatmulAlgorithm& a = best.algorithm;
  const int64_t nn = a.n * a.n;
  if (best.check.exact())
    std::printf("\nfirst exact algorithm: restart %lld, %lld multiplications, %lld additions (each row of W_a, W_b, W_c with k non-zeros costs k-1)\n",
                static_cast<long long>(best.restart), static_cast<long long>(a.r), static_cast<long long>(best.additions));
  else
    std::printf("\nno exact algorithm; closest: restart %lld with %lld of %lld equations violated (sum of squared residuals %lld, ternary loss %.4g)\n",
                static_cast<long long>(best.restart), static_cast<long long>(best.check.violated), static_cast<long long>(equations),
                static_cast<long long>(best.check.residual_sq), best.ternary_loss);
  std::printf("%s%s%s%s", matrix_text("W_a", a.wa, a.r, nn).c_str(), matrix_text("W_b", a.wb, a.r, nn).c_str(),
              matrix_text("W_c", a.wc, nn, a.r).c_str(), st::format_algorithm(a).c_str());
  if (const st::RestartResult* fewest = fewest_additions(res))
    std::printf("fewest additions among the exact restarts: %lld (restart %lld)\n", static_cast<long long>(fewest->additions),
                static_cast<long long>(fewest->restart));
  std::printf("time: %.1f s\n", res.seconds);
}

}  // namespace

int cmd_discover(int argc, char** argv) {
  cxxopts::Options options("strassen discover",
                           "Learn ternary W_a, W_b, W_c that multiply n x n matrices exactly with r multiplications "
                           "(SPN trained on synthetic products, full precision then ternary), and check them exactly.");
  options.add_options()("n", "matrix size (also --n)", cxxopts::value<int64_t>()->default_value("2"))(
      "r", "number of multiplications (also --r)", cxxopts::value<int64_t>()->default_value("7"))(
      "restarts", "independent random initialisations", cxxopts::value<int64_t>()->default_value("25"))(
      "samples", "synthetic products (A, B) to train on", cxxopts::value<int64_t>()->default_value("100000"))(
      "seed", "random seed (data and every restart's initialisation)", cxxopts::value<uint64_t>()->default_value("0"))(
      "fp-epochs", "epochs of the full-precision phase", cxxopts::value<int64_t>()->default_value("20"))(
      "ternary-epochs", "epochs of the ternary phase at most", cxxopts::value<int64_t>()->default_value("10"))(
      "lr", "Adam learning rate of the full-precision phase", cxxopts::value<double>()->default_value("0.01"))(
      "l1", "L1 penalty of the full-precision phase", cxxopts::value<double>()->default_value("0.001"))(
      "pull", "final weight of the penalty pulling weights to {-1,0,1} in the full-precision phase (0.01 helps n = 3)",
      cxxopts::value<double>()->default_value("0"))(
      "json", "print one JSON object instead of the report");
  std::vector<std::string> args = single_letter_options(argc, argv, "nr");
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  const cxxopts::ParseResult r = st::cli::parse(options, static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  st::DiscoverOptions opt;
  opt.n = r["n"].as<int64_t>();
  opt.r = r["r"].as<int64_t>();
  opt.samples = r["samples"].as<int64_t>();
  opt.seed = r["seed"].as<uint64_t>();
  opt.fp_epochs = r["fp-epochs"].as<int64_t>();
  opt.ternary_epochs = r["ternary-epochs"].as<int64_t>();
  opt.lr = r["lr"].as<double>();
  opt.l1 = r["l1"].as<double>();
  opt.ternary_pull = r["pull"].as<double>();
  const int64_t restarts = r["restarts"].as<int64_t>();
  if (const std::string problem = opt.problem(); !problem.empty()) throw UsageError(problem);
  if (restarts < 1 || restarts > 100000) throw UsageError("--restarts must be between 1 and 100000, got " + std::to_string(restarts));
  const st::DiscoverResult res = st::discover_matmul(opt, restarts);
  if (r.count("json")) print_json(opt, restarts, res);
  else print_text(opt, restarts, res);
  return 0;
}
