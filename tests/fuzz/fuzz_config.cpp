// Fuzz target: the experiment config reader with --set overrides (config/experiment.h).
//
// Input: zero or more leading lines "--set key.path=value" (each one override), then the text of
// the config file. Properties: the only exception is st::Error, with a one-line message; a config
// that loads has a resolved form (what `strassen train` writes as config.json) that loads again to
// the same resolved form.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/experiment.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The data directory must come from the input, not from the fuzzing machine.
  ::unsetenv("STRASSEN_CIFAR10_DIR");
  ::unsetenv("STRASSEN_IMAGENET_DIR");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  size_t pos = 0;
  while (input.compare(pos, 6, "--set ") == 0) {
    const size_t end = std::min(input.find('\n', pos), input.size());
    overrides.push_back(input.substr(pos + 6, end - pos - 6));
    pos = std::min(end + 1, input.size());
  }
  st::ExperimentConfig config;
  try {
    config = st::parse_experiment_config(input.substr(pos), "fuzz.json", overrides);
  } catch (const st::Error& e) {
    st::fuzz::check_message(e);
    return 0;
  }
  try {
    const st::ExperimentConfig again = st::parse_experiment_config(config.resolved_json, "resolved.json");
    if (again.resolved_json != config.resolved_json)
      st::fuzz::fail("the resolved config does not load to itself:\n" + config.resolved_json + "\n---\n" + again.resolved_json);
  } catch (const st::Error& e) {
    st::fuzz::fail(std::string("the resolved config does not load: ") + e.what() + "\n" + config.resolved_json);
  }
  return 0;
}
