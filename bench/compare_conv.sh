#!/usr/bin/env bash
# Runs the 3x3 convolution benchmark in this framework and in PyTorch, both on 2 threads, and
# prints both JSON lines and the time ratios (ours / PyTorch; > 1 means PyTorch is faster).
#
#   bench/compare_conv.sh [path/to/st_bench_conv]     (default: build/bench/st_bench_conv)
#
# PyTorch is Debian's (/usr/bin/python3), given its best BLAS: the OpenMP build of OpenBLAS with
# the AVX-512 kernels. Its convolution itself normally runs in oneDNN (the JSON says which).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/bench/st_bench_conv}"
[ -x "$bin" ] || { echo "no benchmark binary at $bin (build target st_bench_conv)" >&2; exit 1; }

ours=$(OMP_NUM_THREADS=2 "$bin")
torch=$(OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
  /usr/bin/python3 "$here/tools/bench_conv_torch.py")
echo "$ours"
echo "$torch"
/usr/bin/python3 - "$ours" "$torch" <<'EOF'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
    "ratio_ms_fwd": round(a["ms_fwd"] / b["ms_fwd"], 2),
    "ratio_ms_fwd_bwd": round(a["ms_fwd_bwd"] / b["ms_fwd_bwd"], 2),
    "torch_mkldnn_available": b["mkldnn_available"],
}))
EOF
