#include "core/tuned_environment.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "core/kernels/gemm.h"

namespace st {

int procs_running(std::istream& proc_stat) {
  std::string key;
  while (proc_stat >> key) {
    if (key == "procs_running") {
      int n = -1;
      return proc_stat >> n ? n : -1;
    }
    proc_stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return -1;
}

int other_running_tasks() {
  constexpr int kLooks = 10;
  constexpr useconds_t kGapUs = 5000;
  int fewest = std::numeric_limits<int>::max();
  for (int i = 0; i < kLooks && fewest > 0; ++i) {
    if (i > 0) usleep(kGapUs);
    std::ifstream f("/proc/stat");
    const int n = procs_running(f);
    if (n < 1) return 0;  // unknown: as if the machine were idle
    fewest = std::min(fewest, n - 1);  // this process is one of them
  }
  return fewest;
}

void reexec_with_tuned_environment(char** argv) {
  bool changed = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr &&
      other_running_tasks() > 0)
    changed |= setenv("GOMP_SPINCOUNT", "10000", 1) == 0;
  if (const char* core = openblas_core_override()) changed |= setenv("OPENBLAS_CORETYPE", core, 1) == 0;
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure
}

}  // namespace st
