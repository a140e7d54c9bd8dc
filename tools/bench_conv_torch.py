#!/usr/bin/python3
"""The PyTorch side of bench/compare_conv.sh: the op of bench/bench_conv.cpp, same JSON fields.

One 3x3 convolution, x [128,16,32,32] and weight [16,16,3,3] both requiring grad, no bias,
stride 1, padding 1, float32, torch.set_num_threads(2); forward, and forward + backward seeded
with ones; median of 20 runs after 3 warm-ups. GFLOP/s counts F = 2*N*Cout*Hout*Wout*Cin*k*k for
the forward and 3F for forward+backward. Run with Debian's torch (/usr/bin/python3); give OpenBLAS
its best with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX
(compare_conv.sh does). Also reports whether oneDNN (mkldnn) is available and which ATen
convolution kernel ran.
"""
import json
import time

import torch
import torch.nn.functional as F

N, C_IN, C_OUT, H, W, K, STRIDE, PAD = 128, 16, 16, 32, 32, 3, 1, 1
WARMUP, RUNS = 3, 20


def median_ms(f):
    for _ in range(WARMUP):
        f()
    ms = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        f()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return (ms[RUNS // 2 - 1] + ms[RUNS // 2]) / 2


def main():
    torch.set_num_threads(2)
    torch.manual_seed(42)
    x = torch.randn(N, C_IN, H, W).requires_grad_(True)
    w = (torch.randn(C_OUT, C_IN, K, K) / (C_IN * K * K) ** 0.5).requires_grad_(True)

    # Check before timing: float32 against float64.
    with torch.no_grad():
        out = F.conv2d(x, w, None, STRIDE, PAD)
        ref = F.conv2d(x.double(), w.double(), None, STRIDE, PAD)
        max_err = (out.double() - ref).abs().max().item()
        assert max_err <= 1e-5 * max(1.0, ref.abs().max().item()), max_err
    ones = torch.ones_like(out)

    # Which ATen kernel runs (mkldnn_convolution, slow_conv2d, thnn_conv2d, ...).
    with torch.autograd.profiler.profile() as prof:
        F.conv2d(x, w, None, STRIDE, PAD).backward(ones)
    kernels = sorted({e.name for e in prof.function_events if "conv" in e.name and e.name != "aten::conv2d"})

    def fwd():
        F.conv2d(x, w, None, STRIDE, PAD)

    def fwd_bwd():
        x.grad = None
        w.grad = None
        F.conv2d(x, w, None, STRIDE, PAD).backward(ones)

    ms_fwd, ms_fwd_bwd = median_ms(fwd), median_ms(fwd_bwd)
    h_out = (H + 2 * PAD - K) // STRIDE + 1
    w_out = (W + 2 * PAD - K) // STRIDE + 1
    flops_fwd = 2.0 * N * C_OUT * h_out * w_out * C_IN * K * K
    print(json.dumps({
        "impl": "pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "kernels": kernels,
        "x": [N, C_IN, H, W], "weight": [C_OUT, C_IN, K, K], "stride": STRIDE, "pad": PAD,
        "check_max_abs_err": float("%.3g" % max_err),
        "ms_fwd": round(ms_fwd, 3), "ms_fwd_bwd": round(ms_fwd_bwd, 3),
        "gflops_fwd": round(flops_fwd / (ms_fwd * 1e6), 2),
        "gflops_fwd_bwd": round(3 * flops_fwd / (ms_fwd_bwd * 1e6), 2),
    }))


if __name__ == "__main__":
    main()
