#pragma once
// A program's first call in main: re-executes the program once with better settings for the two
// libraries that read theirs from the environment when they are loaded, before main.
// - GOMP_SPINCOUNT=10000, only when other tasks are running on the machine as the program starts
//   (other_running_tasks below): an idle OpenMP thread then spins briefly for the next parallel
//   region and sleeps, leaving the core to the other work. On an otherwise idle machine libgomp's
//   default stays (300000 iterations, as PyTorch runs): a training step runs a few hundred
//   parallel regions, and a thread that went to sleep between two of them has to be woken.
//   Measured alternating `strassen bench --case resnet20 --steps 20` on this 2-core host (shared
//   with other virtual machines), nothing else running: 300000 against 10000, faster in nine
//   pairs of ten (e.g. 178-221 against 206-245 ms/step in six pairs on a loaded host); the
//   previous round, on a quiet host, 10000 had measured 170-194 against 187-206 with passive
//   waiting and active waiting 164-179. With one busy process competing for a core, long spins
//   lose: 10000 422-432 ms/step against 300000 472-558 (two pairs); the previous round passive
//   342-352, 10000 355-373, 30000 437-453, 100000 570-620.
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
