#pragma once
// Shared pieces of the `strassen` subcommands: cxxopts parsing with --help, the usage-error type
// (exit status 2) and required options. Each subcommand lives in its own cmd_*.cpp file and is
// dispatched from strassen.cpp.
// --set values are JSON ("phases=[{...}, {...}]", "schedule.milestones=[5, 8]"): a repeated
// option must not be split at commas, which cxxopts does by default for vector options.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace st::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline cxxopts::ParseResult parse(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "show this help");
  try {
    cxxopts::ParseResult r = options.parse(argc, argv);
    if (r.count("help")) {
      std::cout << options.help() << std::endl;
      std::exit(0);
    }
    if (!r.unmatched().empty()) throw UsageError("unexpected argument '" + r.unmatched().front() + "'");
    return r;
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(e.what());
  }
}

inline std::string require(const cxxopts::ParseResult& r, const char* name) {
  if (!r.count(name)) throw UsageError(std::string("--") + name + " is required");
  return r[name].as<std::string>();
}

}  // namespace st::cli
