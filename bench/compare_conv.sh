#!/usr/bin/env bash
# Runs the ResNet-20 convolution benchmark in this framework and in PyTorch, both on 2 threads,
# and prints both sets of JSON lines and a table of time ratios per shape (ours / PyTorch, from
# the medians; > 1 means PyTorch is faster).
#
#   bench/compare_conv.sh [path/to/st_bench_conv] [--case NAME|all] [--runs N]
#                         (default binary: build/bench/st_bench_conv)
#
# PyTorch is Debian's (/usr/bin/python3), given its best BLAS: the OpenMP build of OpenBLAS with
# the AVX-512 kernels. Its convolution itself normally runs in oneDNN (the JSON says which).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$here/build/bench/st_bench_conv"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then bin="$1"; shift; fi
[ -x "$bin" ] || { echo "no benchmark binary at $bin (build target st_bench_conv)" >&2; exit 1; }

ours=$(OMP_NUM_THREADS=2 "$bin" "$@")
torch=$(OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
  /usr/bin/python3 "$here/tools/bench_conv_torch.py" "$@")
echo "$ours"
echo "$torch"
/usr/bin/python3 - "$ours" "$torch" <<'PY'
import json, sys
ours = {r["case"]: r for r in map(json.loads, sys.argv[1].splitlines()) if "impl" in r}
torch = {r["case"]: r for r in map(json.loads, sys.argv[2].splitlines())}
print("%-11s %9s %9s %6s %11s %11s %6s" % ("case", "ours_fwd", "pt_fwd", "ratio", "ours_fwdbwd", "pt_fwdbwd", "ratio"))
for name, a in ours.items():
    b = torch[name]
    print("%-11s %9.3f %9.3f %6.2f %11.3f %11.3f %6.2f" % (
        name, a["ms_fwd"], b["ms_fwd"], a["ms_fwd"] / b["ms_fwd"],
        a["ms_fwd_bwd"], b["ms_fwd_bwd"], a["ms_fwd_bwd"] / b["ms_fwd_bwd"]))
PY
