#pragma once
// A program's first call in main: re-executes the program once with better settings for the two
// libraries that read theirs from the environment when they are loaded, before main.
// - GOMP_SPINCOUNT=10000 (libgomp's default is 300000 iterations; passive waiting is 0): an idle
//   OpenMP thread spins briefly for the next parallel region, then sleeps. A training step runs a
//   few hundred parallel regions (ResNet-20: about 130 more futex wake-ups per step when every
//   wait sleeps), and waking a sleeping thread costs more than the short gap it slept through.
//   Measured alternating `strassen bench --case resnet20` on this 2-core host: training 170-194
//   ms/step against 187-206 with passive waiting (four and two pairs), the README's training run
//   652-728 against 652-672 images/s; ResNet-18 faster in three of four pairs. Long spins do not
//   suit a shared machine: with one busy process competing for a core, passive 342-352 ms/step,
//   10000 355-373, 30000 437-453, 100000 570-620, active (spin forever) 365-453. The earlier
//   default, passive, measured 445 against 402 images/s (libgomp's default spin) on an older build
//   with fewer threads' worth of regions.
// - OPENBLAS_CORETYPE, only when OpenBLAS has not recognised the CPU (openblas_core_override in
//   core/kernels/gemm.h): its generic kernels are 5x slower.
// A variable the user has set, to anything, is kept as it is (setting OMP_WAIT_POLICY also keeps
// GOMP_SPINCOUNT unset, so that the policy decides). Returns (and the program runs as it
// is) when nothing needs changing or the re-execution fails.
namespace st {

void reexec_with_tuned_environment(char** argv);

}  // namespace st
