#pragma once
// A program's first call in main: re-executes the program once with better settings for the two
// libraries that read theirs from the environment when they are loaded, before main.
// - GOMP_SPINCOUNT=10000, only when other tasks are running on the machine as the program starts
//   (other_running_tasks below): an idle OpenMP thread then spins briefly for the next parallel
//   region and sleeps, leaving the core to the other work. On an otherwise idle machine libgomp's
//   default stays (300000 iterations, as PyTorch runs): a training step runs a few hundred
//   parallel regions, and a thread that went to sleep between two of them has to be woken.
//   The long spin measured faster on an idle machine and slower beside a busy process
//   (measurements: the messages of commits 182a1f7 and b40984d).
// - OPENBLAS_CORETYPE, only when OpenBLAS has not recognised the CPU (openblas_core_override in
//   core/kernels/gemm.h): its generic kernels are 5x slower.
// A variable the user has set, to anything, is kept as it is (setting OMP_WAIT_POLICY also keeps
// GOMP_SPINCOUNT unset, so that the policy decides). Returns (and the program runs as it
// is) when nothing needs changing or the re-execution fails.
#include <istream>

namespace st {

void reexec_with_tuned_environment(char** argv);

// The count of tasks running on the machine, from /proc/stat's "procs_running" line (this
// process included), or -1 when the stream has none.
int procs_running(std::istream& proc_stat);

// Tasks running besides this process: the fewest of ten looks at /proc/stat 5 ms apart (so that
// a process passing through, or one still exiting, is not counted); 0 when /proc/stat is not
// readable.
int other_running_tasks();

}  // namespace st
