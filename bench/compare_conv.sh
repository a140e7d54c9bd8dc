#!/usr/bin/env bash
# Runs the convolution benchmark (ResNet-20's, ResNet-18's and VGG-7's shapes) in this framework
# and in PyTorch, both on 2 threads (THREADS=n in the environment to change that),
# and prints both sets of JSON lines and a table of time ratios per shape (ours / PyTorch; > 1
# means PyTorch is faster): from the median wall times, from the minimum wall times, and from the
# median CPU times of the whole process (the work done on all threads).
#
#   bench/compare_conv.sh [path/to/st_bench_conv] [--case NAME|all|resnet20|resnet18|vgg7] [--runs N]
#                         (default binary: build/bench/st_bench_conv)
#
# The two run case by case, alternating, so that both see the same load on a shared machine. When
# other processes compete for the 2 cores, wall times jump by scheduler time slices (a thread
# waits for its turn at every barrier); the CPU times are then the steadier figure, best taken with
# OMP_WAIT_POLICY=passive (set it in the environment) so that threads do not spin at barriers.
# PyTorch is Debian's (/usr/bin/python3), given its best BLAS: the OpenMP build of OpenBLAS with
# the AVX-512 kernels. Its convolution itself normally runs in oneDNN (the JSON says which).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$here/build/bench/st_bench_conv"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then bin="$1"; shift; fi
[ -x "$bin" ] || { echo "no benchmark binary at $bin (build target st_bench_conv)" >&2; exit 1; }
case_arg=all runs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --case) case_arg="$2"; shift 2 ;;
    --runs) runs=(--runs "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cases="conv1 s1_16 s1_32 s1_64 s2_16_32 s2_32_64 proj_16_32 proj_32_64"
r18="r18_conv1 r18_64 r18_64_128 r18_128 r18_128_256 r18_256 r18_256_512 r18_512 r18_ds_128 r18_ds_256 r18_ds_512"
vgg="vgg_128 vgg_256 vgg_256_512 vgg_512"
case "$case_arg" in
  all) cases="$cases $r18 $vgg" ;;
  vgg7) cases="$vgg" ;;
  resnet20) ;;
  resnet18) cases="$r18" ;;
  *) cases="$case_arg" ;;
esac

threads="${THREADS:-2}"
ours="" torch=""
for c in $cases; do
  ours+=$(OMP_NUM_THREADS=$threads "$bin" --case "$c" "${runs[@]}")$'\n'
  torch+=$(OMP_NUM_THREADS=$threads LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
    /usr/bin/python3 "$here/tools/bench_conv_torch.py" --case "$c" "${runs[@]}")$'\n'
done
printf '%s' "$ours"
printf '%s' "$torch"
/usr/bin/python3 - "$ours" "$torch" <<'PY'
import json, sys
ours = {r["case"]: r for r in map(json.loads, sys.argv[1].split("\n")[:-1])}
torch = {r["case"]: r for r in map(json.loads, sys.argv[2].split("\n")[:-1])}
head = "%-11s %8s %8s %6s %6s %6s | %8s %8s %6s %6s %6s"
print(head % ("", "ours", "torch", "ratio", "ratio", "ratio", "ours", "torch", "ratio", "ratio", "ratio"))
print(head % ("case", "fwd ms", "fwd ms", "median", "min", "cpu", "f+b ms", "f+b ms", "median", "min", "cpu"))
for name, a in ours.items():
    b = torch[name]
    row = [name]
    for k in ("ms_fwd", "ms_fwd_bwd"):
        row += [a[k], b[k], a[k] / b[k], a[k + "_min"] / b[k + "_min"], a[k + "_cpu"] / b[k + "_cpu"]]
    print("%-11s %8.3f %8.3f %6.2f %6.2f %6.2f | %8.3f %8.3f %6.2f %6.2f %6.2f" % tuple(row))
PY
