#include "core/tuned_environment.h"

#include <unistd.h>

#include <cstdlib>

#include "core/kernels/gemm.h"

namespace st {

void reexec_with_tuned_environment(char** argv) {
  bool changed = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr)
    changed |= setenv("GOMP_SPINCOUNT", "10000", 1) == 0;
  if (const char* core = openblas_core_override()) changed |= setenv("OPENBLAS_CORETYPE", core, 1) == 0;
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure
}

}  // namespace st
