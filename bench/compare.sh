#!/usr/bin/env bash
# Runs the model benchmarks in this framework (`strassen bench`, bench/model_bench.h) and in
# PyTorch (tools/bench_torch.py), one process per case and side (so that each peak RSS is the
# case's own), both on 2 threads (THREADS=n in the environment to change that), and prints both
# sets of JSON lines and a table: images/s of the training and the inference step, ours and
# PyTorch's, their ratio ours / PyTorch (speed: > 1 means we are faster), and the peak resident
# memory of each process. The gemm row gives GFLOP/s instead of images/s.
#
#   bench/compare.sh [path/to/strassen] [--case NAME|all] [--steps N] [--warmup W] [--rounds R]
#                    (default binary: build/apps/strassen; defaults 20 steps after 3 warm-ups, 1 round)
#
# The two sides run case by case, alternating, so that both see the same load. With --rounds R
# each case alternates R times, which side goes first alternating too (ours, PyTorch, PyTorch,
# ours, ours, PyTorch, ...); the table then gives each side's median
# images/s over the rounds, their ratio, and the range of the R per-round ratios, so that a
# ratio can be told apart from the host's drift (the table's peak RSS is the largest). The gemm
# case runs at least 10 rounds: both sides make the same OpenBLAS call and a round takes seconds,
# and a few rounds leave its ratio a draw of the host's drift (commit e57ab00). Measure on an idle
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
case_arg=all args=() rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --case) case_arg="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps | --warmup) args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cases="gemm resnet20 strassen_resnet20_p1 strassen_resnet20_p1_ternary strassen_resnet20_p2 strassen_resnet20_p2_ternary
       vgg7 resnet18"
[ "$case_arg" = all ] || cases="$case_arg"

threads="${THREADS:-2}"
ours="" torch=""
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds wants a positive integer, not '$rounds'" >&2; exit 2; }
run_ours() { OMP_NUM_THREADS=$threads "$bin" bench --json --case "$1" "${args[@]}"; }
run_torch() {
  OMP_NUM_THREADS=$threads LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
    /usr/bin/python3 "$here/tools/bench_torch.py" --case "$1" "${args[@]}"
}
min_gemm_rounds=10
for c in $cases; do
  case_rounds=$rounds
  if [ "$c" = gemm ] && ((case_rounds < min_gemm_rounds)); then case_rounds=$min_gemm_rounds; fi
  for ((r = 0; r < case_rounds; ++r)); do
    # Which side goes first alternates from round to round (ours, PyTorch, PyTorch, ours, ...),
    # so that neither always runs in the wake of the other or of the previous case.
    if ((r % 2 == 0)); then
      ours+=$(run_ours "$c")$'\n'
      torch+=$(run_torch "$c")$'\n'
    else
      torch+=$(run_torch "$c")$'\n'
      ours+=$(run_ours "$c")$'\n'
    fi
  done
done
printf '%s' "$ours"
printf '%s' "$torch"
/usr/bin/python3 - "$ours" "$torch" <<'PY'
import json, statistics, sys


def by_case(text):
    rows = {}
    for r in map(json.loads, text.split("\n")[:-1]):
        rows.setdefault(r["case"], []).append(r)
    return rows


ours, torch = by_case(sys.argv[1]), by_case(sys.argv[2])
med = statistics.median


def cells(a, b, key):
    """Median of each side over the rounds, their ratio, and the range of the per-round ratios."""
    x, y = [r[key] for r in a], [r[key] for r in b]
    per_round = [p / q for p, q in zip(x, y)]
    spread = "%.2f-%.2f" % (min(per_round), max(per_round)) if len(per_round) > 1 else ""
    return med(x), med(y), med(x) / med(y), spread


print("%-30s %s   %s   %s" % ("", "training step images/s".center(37), "inference step images/s".center(37),
                              "peak RSS MiB".center(15)))
print("%-30s %9s %9s %7s %9s   %9s %9s %7s %9s   %7s %7s" % (
    "case", "ours", "pytorch", "ratio", "range", "ours", "pytorch", "ratio", "range", "ours", "pytorch"))
notes = []
for name, a in ours.items():
    b = torch[name]
    rss = (max(r["peak_rss_mib"] for r in a), max(r["peak_rss_mib"] for r in b))
    if name == "gemm":
        row = ("gemm (GFLOP/s, 1024^3)",) + cells(a, b, "gemm_gflops")
        print("%-30s %9.1f %9.1f %7.2f %9s   %9s %9s %7s %9s   %7.0f %7.0f" % (row + ("", "", "", "") + rss))
        continue
    row = (name,) + cells(a, b, "train_items_per_s") + cells(a, b, "infer_items_per_s") + rss
    print("%-30s %9.1f %9.1f %7.2f %9s   %9.1f %9.1f %7.2f %9s   %7.0f %7.0f" % row)
    if a[0].get("forward_macs") != b[0].get("forward_macs") or a[0].get("params") != b[0].get("params"):
        notes.append("%s: forward MACs %s (ours) vs %s (pytorch), parameters %s vs %s" % (
            name, a[0].get("forward_macs"), b[0].get("forward_macs"), a[0].get("params"), b[0].get("params")))
model_rounds = "/".join(str(k) for k in sorted({len(a) for n, a in ours.items() if n != "gemm"}))
over = ", ".join(([model_rounds + " round(s)"] if model_rounds else []) +
                 (["%d round(s) for gemm" % len(ours["gemm"])] if "gemm" in ours else []))
print("ratio = ours / pytorch (speed: > 1 means ours is faster), of the medians over %s; range: the lowest and highest "
      "ratio of a single round; GFLOP/s in the JSON lines count a training step as 6 x forward MACs and an inference "
      "step as 2 x forward MACs" % over)
for n in notes:
    print("note: the two models differ: " + n)
PY
