#!/usr/bin/python3
"""The PyTorch side of bench/compare.sh: the cases of `strassen bench` (bench/model_bench.h), the
same steps and the same JSON fields, one line per case.

   bench_torch.py [--case NAME|all] [--steps N] [--warmup W]

Model cases build the model (seeded) and one random batch (normal inputs, uniform labels) and time
  train  model.train(); loss = cross_entropy(model(x), labels); opt.zero_grad(set_to_none=True);
         loss.backward(); opt.step()   (SGD lr 0.01, momentum 0.9, weight decay 1e-4)
  infer  model.eval(); with torch.no_grad(): model(x)
--warmup untimed steps, then --steps timed ones (median, minimum, median process CPU time).
The models are written here, from the same definitions as the C++ ones (torchvision is not
needed): ResNet-20 for CIFAR with option A shortcuts (models/resnet_cifar.h), its Strassen version
(StrassenConv2d below, as layers/strassen.cpp computes it: strassennets.md §2), VGG-7
(models/vgg7.h) and ResNet-18 for ImageNet (models/resnet_imagenet.h). gemm times torch.mm on
1024x1024 float32 matrices after checking it against float64.

FLOPs: forward MACs are counted on one batch-1 forward (Conv2d, ConvTranspose2d and Linear as
dense multiply-accumulates; in a StrassenConv2d the W_b convolution and the W_c transposed
convolution as computed in floating point; batch norm, ReLU, pooling, residual additions not
counted) and scaled by the batch; a training step counts 3 x 2 x MACs (forward, and a backward of
twice the forward), an inference step 2 x MACs, as `strassen bench` does.

Threads: torch.set_num_threads($OMP_NUM_THREADS, default 2). Peak memory: the process's
ru_maxrss, so run one case per process (compare.sh does). Run with Debian's torch (/usr/bin/python3)
and give OpenBLAS its best: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
OPENBLAS_CORETYPE=SkylakeX.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- counting forward MACs (one batch-1 forward with COUNT["on"] set)

COUNT = {"on": False, "macs": 0}


def count_hook(module, inputs, output):
    if not COUNT["on"]:
        return
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1]
        COUNT["macs"] += output.numel() * (module.in_channels // module.groups) * k
    elif isinstance(module, nn.Linear):
        COUNT["macs"] += output.numel() * module.in_features


# ---- ternary quantization (TWN, strassennets.md §3) with a straight-through gradient


class TwnSTE(torch.autograd.Function):
    """Forward alpha * sign(w) * [|w| > 0.7 mean|w|], alpha the mean |w| of the survivors; the
    backward passes the gradient to w unchanged (core/ops/quantize.h: ternarize_twn)."""

    @staticmethod
    def forward(ctx, w):
        a = w.abs()
        mask = (a > 0.7 * a.mean()).to(w.dtype)
        alpha = (a * mask).sum() / mask.sum().clamp_min(1)
        return torch.sign(w) * mask * alpha

    @staticmethod
    def backward(ctx, grad):
        return grad


# ---- StrassenConv2d (layers/strassen.h)


class StrassenConv2d(nn.Module):
    """Original conv c_in -> c_out, kernel k, stride s, padding q; hidden width r, out-patch p, W_b
    groups g:
      h = conv2d(x, W_b)   kernel (p-1)s+k, stride p*s, groups g, padding q + e, e = ceil((H mod ps)/2)
      h = BN(h) with gamma fixed to 1, beta learned, eps 1e-3; h = a_hat * h (a_hat clipped to [0, 100]),
          computed as one batch norm with weight a_hat and bias a_hat * beta (the same function and
          gradients; layers/strassen.cpp does the same)
      y = conv_transpose2d(h, W_c), kernel p, stride p, cropped from e/s to the original output size"""

    def __init__(self, c_in, c_out, k, s, q, r, p, g=1, ternary=False):
        super().__init__()
        self.c_in, self.c_out, self.k, self.s, self.q, self.r, self.p, self.g = c_in, c_out, k, s, q, r, p, g
        self.ternary = ternary
        kk = (p - 1) * s + k
        self.w_b = nn.Parameter(nn.init.xavier_uniform_(torch.empty(r, c_in // g, kk, kk)))
        self.w_c = nn.Parameter(nn.init.xavier_uniform_(torch.empty(r, c_out, p, p)))
        self.a_hat = nn.Parameter(torch.ones(r))
        self.beta = nn.Parameter(torch.zeros(r))
        self.register_buffer("running_mean", torch.zeros(r))
        self.register_buffer("running_var", torch.ones(r))

    def forward(self, x):
        with torch.no_grad():
            self.a_hat.clamp_(0, 100)
        h_in, w_in = x.shape[2], x.shape[3]
        ps = self.p * self.s
        e_h, e_w = ((h_in % ps) + 1) // 2, ((w_in % ps) + 1) // 2
        out_h = (h_in + 2 * self.q - self.k) // self.s + 1
        out_w = (w_in + 2 * self.q - self.k) // self.s + 1
        w_b = TwnSTE.apply(self.w_b) if self.ternary else self.w_b
        w_c = TwnSTE.apply(self.w_c) if self.ternary else self.w_c
        h = F.conv2d(x, w_b, None, stride=ps, padding=(self.q + e_h, self.q + e_w), groups=self.g)
        h = F.batch_norm(h, self.running_mean, self.running_var, self.a_hat, self.a_hat * self.beta, self.training,
                         0.1, 1e-3)
        y = F.conv_transpose2d(h, w_c, None, stride=self.p)
        if COUNT["on"]:
            COUNT["macs"] += h.numel() * (self.c_in // self.g) * w_b.shape[2] * w_b.shape[3]
            COUNT["macs"] += x.shape[0] * out_h * out_w * self.c_out * self.r
        c_h, c_w = e_h // self.s, e_w // self.s
        if c_h != 0 or out_h != y.shape[2] or c_w != 0 or out_w != y.shape[3]:
            y = y[:, :, c_h:c_h + out_h, c_w:c_w + out_w]
        return y


def conv_factory(strassen):
    """conv(c_in, c_out, k, s, q): nn.Conv2d without bias, or (strassen = dict(ratio, p, ternary)) a
    StrassenConv2d with r = ratio * c_out, p for every conv but 1x1 shortcuts (p = 1), g = 1
    (models/strassen_conv.cpp)."""
    def make(c_in, c_out, k, s, q):
        if strassen is None:
            return nn.Conv2d(c_in, c_out, k, s, q, bias=False)
        r = max(1, round(strassen["ratio"] * c_out))
        p = 1 if k == 1 else strassen["p"]
        return StrassenConv2d(c_in, c_out, k, s, q, r, p, 1, strassen["ternary"])
    return make


# ---- models


class ZeroPadShortcut(nn.Module):
    """Option A: x[:, :, ::s, ::s] with (c_out - c_in)/2 zero channels before, the rest after."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.before = (c_out - c_in) // 2
        self.after = c_out - c_in - self.before
        self.stride = stride

    def forward(self, x):
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride, shortcut, conv):
        super().__init__()
        self.conv1 = conv(c_in, c_out, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = conv(c_out, c_out, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            if shortcut == "A":
                self.shortcut = ZeroPadShortcut(c_in, c_out, stride)
            else:
                self.shortcut = nn.Sequential(conv(c_in, c_out, 1, stride, 0), nn.BatchNorm2d(c_out))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class ResNetCifar(nn.Module):
    def __init__(self, depth=20, num_classes=10, width=16, conv=conv_factory(None)):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = conv(3, width, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(width)
        blocks, c_in = [], width
        for stage in range(3):
            c_out = width << stage
            for b in range(n):
                blocks.append(BasicBlock(c_in, c_out, 2 if stage > 0 and b == 0 else 1, "A", conv))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(h.mean((2, 3)))


class Vgg7(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        widths = [128, 128, 256, 256, 512, 512]
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        c_in = 3
        for w in widths:
            self.convs.append(nn.Conv2d(c_in, w, 3, 1, 1, bias=False))
            self.bns.append(nn.BatchNorm2d(w))
            c_in = w
        self.fc1 = nn.Linear(512 * 4 * 4, 1024, bias=False)
        self.bn7 = nn.BatchNorm1d(1024)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        h = x
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            h = F.relu(bn(conv(h)))
            if i % 2 == 1:
                h = F.max_pool2d(h, 2, 2)
        h = F.relu(self.bn7(self.fc1(h.flatten(1))))
        return self.fc2(h)


class ResNet18(nn.Module):
    """ResNet-18 for ImageNet as torchvision's resnet18 (11,689,512 parameters)."""

    def __init__(self, num_classes=1000, width=64):
        super().__init__()
        conv = conv_factory(None)
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        blocks, c_in = [], width
        for stage in range(4):
            c_out = width << stage
            for b in range(2):
                blocks.append(BasicBlock(c_in, c_out, 2 if stage > 0 and b == 0 else 1, "B", conv))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.fc(self.blocks(h).mean((2, 3)))


def strassen_resnet20(p, ternary):
    mode = "spn_ternary" if ternary else "spn_fp"
    return ("ResNet-20 (CIFAR, shortcut A), every conv a StrassenConv2d with r = c_out, p = %d, mode %s%s; "
            "FC full precision" % (p, mode, " (TWN)" if ternary else ""),
            lambda: ResNetCifar(conv=conv_factory({"ratio": 1.0, "p": p, "ternary": ternary})), 128, 32, 10)


# name: (description, build, batch, image size, classes); the order of `strassen bench`
CASES = {
    "gemm": None,
    "resnet20": ("ResNet-20 (CIFAR, shortcut A)", ResNetCifar, 128, 32, 10),
    "strassen_resnet20_p1": strassen_resnet20(1, False),
    "strassen_resnet20_p1_ternary": strassen_resnet20(1, True),
    "strassen_resnet20_p2": strassen_resnet20(2, False),
    "strassen_resnet20_p2_ternary": strassen_resnet20(2, True),
    "vgg7": ("VGG-7 (CIFAR)", Vgg7, 128, 32, 10),
    "resnet18": ("ResNet-18 (ImageNet, 224x224)", ResNet18, 16, 224, 1000),
}


# ---- timing


def time_steps(name, step, steps, warmup):
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(steps):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return {name + "_ms": statistics.median(wall), name + "_ms_min": min(wall), name + "_ms_cpu": statistics.median(cpu)}


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def common(name, description, args):
    return {"impl": "pytorch " + torch.__version__, "case": name, "description": description,
            "threads": torch.get_num_threads(), "steps": args.steps, "warmup": args.warmup}


def run_gemm(args):
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    c = torch.empty(n, n)
    torch.mm(a, b, out=c)
    ref = a.double() @ b.double()
    err = (c.double() - ref).abs().max().item()
    assert err <= 1e-4 * max(1.0, ref.abs().max().item()), "torch.mm differs from float64 by %g" % err
    out = common("gemm", "C[1024,1024] = A[1024,1024] B[1024,1024], float32, torch.mm", args)
    out.update(time_steps("gemm", lambda: torch.mm(a, b, out=c), args.steps, args.warmup))
    out["gemm_items_per_s"] = 1e3 / out["gemm_ms"]
    out["gemm_gflops"] = 2.0 * n ** 3 / (out["gemm_ms"] * 1e6)
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def run_model(name, args):
    description, build, batch, image, classes = CASES[name]
    model = build()
    x = torch.randn(batch, 3, image, image)
    labels = torch.randint(0, classes, (batch,))

    # Forward MACs of one image (see the module docstring), then scaled by the batch.
    hooks = [m.register_forward_hook(count_hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    COUNT["on"], COUNT["macs"] = True, 0
    with torch.no_grad():
        model(x[:1])
    COUNT["on"] = False
    for h in hooks:
        h.remove()
    macs = COUNT["macs"] * batch

    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    last = {}

    def train_step():
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad(set_to_none=True)  # as the C++ engine: gradients are dropped, not zeroed
        loss.backward()
        opt.step()
        last["loss"] = loss.item()

    def infer_step():
        with torch.no_grad():
            model(x)

    out = common(name, description, args)
    model.train()
    t = time_steps("train", train_step, args.steps, args.warmup)
    params = sum(p.numel() for p in model.parameters() if p.grad is not None)
    model.eval()
    i = time_steps("infer", infer_step, args.steps, args.warmup)
    out.update({"batch": batch, "input": "3x%dx%d" % (image, image), "params": params, "forward_macs": macs,
                "flops_convention": "train 6 x forward MACs, infer 2 x forward MACs"})
    out.update(t)
    out["train_items_per_s"] = batch / (t["train_ms"] * 1e-3)
    out["train_gflops"] = 6.0 * macs / (t["train_ms"] * 1e6)
    out.update(i)
    out["infer_items_per_s"] = batch / (i["infer_ms"] * 1e-3)
    out["infer_gflops"] = 2.0 * macs / (i["infer_ms"] * 1e6)
    out["loss"] = last["loss"]
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="all", choices=["all"] + list(CASES))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(1)
    for name in CASES:
        if args.case in ("all", name):
            out = run_gemm(args) if name == "gemm" else run_model(name, args)
            print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}), flush=True)


if __name__ == "__main__":
    main()
