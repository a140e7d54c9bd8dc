#pragma once
// A program's first call in main: re-executes the program once with better settings for the two
// libraries that read theirs from the environment when they are loaded, before main.
// - OMP_WAIT_POLICY=passive. OpenMP threads that spin while waiting (libgomp's default) cost this
//   framework throughput: on an idle 2-core machine ResNet-20 training runs at 445 images/s with
//   passive waiting against 402 spinning (`strassen bench --case resnet20`), and on a shared
//   machine a training run fell to 51 images/s spinning against 170+ passive.
// - OPENBLAS_CORETYPE, only when OpenBLAS has not recognised the CPU (openblas_core_override in
//   core/kernels/gemm.h): its generic kernels are 5x slower.
// A variable the user has set, to anything, is kept as it is. Returns (and the program runs as it
// is) when nothing needs changing or the re-execution fails.
namespace st {

void reexec_with_tuned_environment(char** argv);

}  // namespace st
