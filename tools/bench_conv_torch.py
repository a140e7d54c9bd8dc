#!/usr/bin/python3
"""The PyTorch side of bench/compare_conv.sh: the cases of bench/bench_conv.cpp, same JSON fields.

   bench_conv_torch.py [--case NAME|all] [--runs N]

Each case: x [N, C_in, H, W] (N = 128 for the ResNet-20 and VGG-7 shapes, 16 for ResNet-18's) and weight [C_out, C_in, k, k] both requiring grad, no bias,
float32, torch.set_num_threads($OMP_NUM_THREADS, default 2); forward, and forward + backward seeded with ones; median (and
minimum) of --runs runs (default 30) after 3 warm-ups, and the median CPU time of the process. GFLOP/s counts F = 2*N*Cout*Hout*Wout*Cin*k*k
for the forward and 3F for forward+backward. Run with Debian's torch (/usr/bin/python3); give
OpenBLAS its best with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
OPENBLAS_CORETYPE=SkylakeX (compare_conv.sh does). Also reports whether oneDNN (mkldnn) is
available and which ATen convolution kernel ran.
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

# name: (N, C_in, H, W, C_out, k, stride, pad), as in bench/bench_conv.cpp
CASES = {
    "conv1": (128, 3, 32, 32, 16, 3, 1, 1),
    "s1_16": (128, 16, 32, 32, 16, 3, 1, 1),
    "s1_32": (128, 32, 16, 16, 32, 3, 1, 1),
    "s1_64": (128, 64, 8, 8, 64, 3, 1, 1),
    "s2_16_32": (128, 16, 32, 32, 32, 3, 2, 1),
    "s2_32_64": (128, 32, 16, 16, 64, 3, 2, 1),
    "proj_16_32": (128, 16, 32, 32, 32, 1, 2, 0),
    "proj_32_64": (128, 32, 16, 16, 64, 1, 2, 0),
    "r18_conv1": (16, 3, 224, 224, 64, 7, 2, 3),
    "r18_64": (16, 64, 56, 56, 64, 3, 1, 1),
    "r18_64_128": (16, 64, 56, 56, 128, 3, 2, 1),
    "r18_128": (16, 128, 28, 28, 128, 3, 1, 1),
    "r18_128_256": (16, 128, 28, 28, 256, 3, 2, 1),
    "r18_256": (16, 256, 14, 14, 256, 3, 1, 1),
    "r18_256_512": (16, 256, 14, 14, 512, 3, 2, 1),
    "r18_512": (16, 512, 7, 7, 512, 3, 1, 1),
    "r18_ds_128": (16, 64, 56, 56, 128, 1, 2, 0),
    "r18_ds_256": (16, 128, 28, 28, 256, 1, 2, 0),
    "r18_ds_512": (16, 256, 14, 14, 512, 1, 2, 0),
    "vgg_128": (128, 128, 32, 32, 128, 3, 1, 1),
    "vgg_256": (128, 256, 16, 16, 256, 3, 1, 1),
    "vgg_256_512": (128, 256, 8, 8, 512, 3, 1, 1),
    "vgg_512": (128, 512, 8, 8, 512, 3, 1, 1),
}
WARMUP = 3


def median(v):
    v = sorted(v)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def time_ms(f, runs):
    """Median and minimum wall time, and median CPU time of the process (all threads), in ms."""
    for _ in range(WARMUP):
        f()
    ms, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        f()
        ms.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return median(ms), min(ms), median(cpu)


def run_case(name, runs):
    N, c_in, h, w_, c_out, k, stride, pad = CASES[name]
    x = torch.randn(N, c_in, h, w_).requires_grad_(True)
    w = (torch.randn(c_out, c_in, k, k) / (c_in * k * k) ** 0.5).requires_grad_(True)

    # Check before timing: float32 against float64.
    with torch.no_grad():
        out = F.conv2d(x, w, None, stride, pad)
        ref = F.conv2d(x.double(), w.double(), None, stride, pad)
        max_err = (out.double() - ref).abs().max().item()
        assert max_err <= 1e-5 * max(1.0, ref.abs().max().item()), max_err
    ones = torch.ones_like(out)

    # Which ATen kernel runs (mkldnn_convolution, slow_conv2d, thnn_conv2d, ...).
    with torch.autograd.profiler.profile() as prof:
        F.conv2d(x, w, None, stride, pad).backward(ones)
    kernels = sorted({e.name for e in prof.function_events if "conv" in e.name and e.name != "aten::conv2d"})

    def fwd():
        F.conv2d(x, w, None, stride, pad)

    def fwd_bwd():
        x.grad = None
        w.grad = None
        F.conv2d(x, w, None, stride, pad).backward(ones)

    (ms_fwd, ms_fwd_min, ms_fwd_cpu), (ms_fwd_bwd, ms_fwd_bwd_min, ms_fwd_bwd_cpu) = time_ms(fwd, runs), time_ms(
        fwd_bwd, runs)
    flops_fwd = 2.0 * N * c_out * out.shape[2] * out.shape[3] * c_in * k * k
    print(json.dumps({
        "impl": "pytorch " + torch.__version__, "case": name,
        "threads": torch.get_num_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "kernels": kernels,
        "x": [N, c_in, h, w_], "weight": [c_out, c_in, k, k], "stride": stride, "pad": pad,
        "check_max_abs_err": float("%.3g" % max_err),
        "ms_fwd": round(ms_fwd, 3), "ms_fwd_min": round(ms_fwd_min, 3), "ms_fwd_cpu": round(ms_fwd_cpu, 3),
        "ms_fwd_bwd": round(ms_fwd_bwd, 3), "ms_fwd_bwd_min": round(ms_fwd_bwd_min, 3),
        "ms_fwd_bwd_cpu": round(ms_fwd_bwd_cpu, 3),
        "gflops_fwd": round(flops_fwd / (ms_fwd * 1e6), 2),
        "gflops_fwd_bwd": round(3 * flops_fwd / (ms_fwd_bwd * 1e6), 2),
    }), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="all", choices=["all"] + list(CASES))
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(42)
    for name in CASES:
        if args.case in ("all", name):
            run_case(name, max(1, args.runs))


if __name__ == "__main__":
    main()
