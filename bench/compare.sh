#!/usr/bin/env bash
# Runs the model benchmarks in this framework (`strassen bench`, bench/model_bench.h) and in
# PyTorch (tools/bench_torch.py), one process per case and side (so that each peak RSS is the
# case's own), both on 2 threads (THREADS=n in the environment to change that), and prints both
# sets of JSON lines and a table: images/s of the training and the inference step, ours and
# PyTorch's, their ratio ours / PyTorch (speed: > 1 means we are faster), and the peak resident
# memory of each process. The gemm row gives GFLOP/s instead of images/s.
#
#   bench/compare.sh [path/to/strassen] [--case NAME|all] [--steps N] [--warmup W]
#                    (default binary: build/apps/strassen; defaults 20 steps after 3 warm-ups)
#
# The two sides run case by case, alternating, so that both see the same load. Measure on an idle
# machine: on a busy one, wall times jump by scheduler time slices; the JSON lines also carry the
# minimum and the median CPU time of the process (*_ms_min, *_ms_cpu), steadier under load, best
# with OMP_WAIT_POLICY=passive in the environment. PyTorch is Debian's (/usr/bin/python3) with its
# best BLAS: the OpenMP build of OpenBLAS with the AVX-512 kernels (apt-get install
# libopenblas0-openmp python3-torch).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$here/build/apps/strassen"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then bin="$1"; shift; fi
[ -x "$bin" ] || { echo "no strassen binary at $bin (build target strassen)" >&2; exit 1; }
case_arg=all args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --case) case_arg="$2"; shift 2 ;;
    --steps | --warmup) args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cases="gemm resnet20 strassen_resnet20_p1 strassen_resnet20_p1_ternary strassen_resnet20_p2 strassen_resnet20_p2_ternary
       vgg7 resnet18"
[ "$case_arg" = all ] || cases="$case_arg"

threads="${THREADS:-2}"
ours="" torch=""
for c in $cases; do
  ours+=$(OMP_NUM_THREADS=$threads "$bin" bench --json --case "$c" "${args[@]}")$'\n'
  torch+=$(OMP_NUM_THREADS=$threads LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
    /usr/bin/python3 "$here/tools/bench_torch.py" --case "$c" "${args[@]}")$'\n'
done
printf '%s' "$ours"
printf '%s' "$torch"
/usr/bin/python3 - "$ours" "$torch" <<'PY'
import json, sys
ours = {r["case"]: r for r in map(json.loads, sys.argv[1].split("\n")[:-1])}
torch = {r["case"]: r for r in map(json.loads, sys.argv[2].split("\n")[:-1])}
print("%-30s %s   %s   %s" % ("", "training step images/s".center(27), "inference step images/s".center(27),
                              "peak RSS MiB".center(15)))
print("%-30s %9s %9s %7s   %9s %9s %7s   %7s %7s" % ("case", "ours", "pytorch", "ratio", "ours", "pytorch", "ratio",
                                                     "ours", "pytorch"))
notes = []
for name, a in ours.items():
    b = torch[name]
    if name == "gemm":
        row = ("gemm (GFLOP/s, 1024^3)", a["gemm_gflops"], b["gemm_gflops"], a["gemm_gflops"] / b["gemm_gflops"])
        print("%-30s %9.1f %9.1f %7.2f   %9s %9s %7s   %7.0f %7.0f" % (row + ("", "", "", a["peak_rss_mib"],
                                                                          b["peak_rss_mib"])))
        continue
    t_a, t_b, i_a, i_b = a["train_items_per_s"], b["train_items_per_s"], a["infer_items_per_s"], b["infer_items_per_s"]
    print("%-30s %9.1f %9.1f %7.2f   %9.1f %9.1f %7.2f   %7.0f %7.0f" % (name, t_a, t_b, t_a / t_b, i_a, i_b, i_a / i_b,
                                                                      a["peak_rss_mib"], b["peak_rss_mib"]))
    if a.get("forward_macs") != b.get("forward_macs") or a.get("params") != b.get("params"):
        notes.append("%s: forward MACs %s (ours) vs %s (pytorch), parameters %s vs %s" % (
            name, a.get("forward_macs"), b.get("forward_macs"), a.get("params"), b.get("params")))
print("ratio = ours / pytorch (speed: > 1 means ours is faster); GFLOP/s in the JSON lines count a training step as "
      "6 x forward MACs and an inference step as 2 x forward MACs")
for n in notes:
    print("note: the two models differ: " + n)
PY
