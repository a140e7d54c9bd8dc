#!/usr/bin/python3
"""Golden reference values from PyTorch for tests/test_golden.cpp.

Usage (Debian's python3-torch, i.e. /usr/bin/python3, not a pyenv python):

    /usr/bin/python3 tools/make_golden.py tests/golden

Writes one file per case, <case>.txt, into the given directory. Every case uses its own fixed
seed, so rerunning the script reproduces the files byte for byte (for a given torch version).

How the values are made
-----------------------
Inputs and parameters are drawn as float32 numbers and then computed with in float64, so the
C++ float32 build reads exactly the inputs PyTorch used and every difference is its own
rounding. Each case stores a random `upstream` tensor U of the output's shape; the gradients
are those of L = sum(out * U) (for the LSTM, L = sum(output*u1) + sum(h_n*u2) + sum(c_n*u3)).
Gradient tensors are named `grad_<input>`.

File format (version 1), plain text
-----------------------------------
    # any number of comment lines starting with '#' (they record the case's settings)
    st-golden 1
    <name> <ndim> <d0> ... <d{ndim-1}>
    <numel values, whitespace separated, row-major, 9 significant digits (%.9g)>
    <name> <ndim> ...
    ...
A scalar has ndim 0 and one value. Integer data (class labels, embedding indices) are tensors
of integral values. Names are unique within a file.

The C++ side (tests/test_golden.cpp) accepts an element when
    |ours - golden| <= 1e-4 * |golden| + 1e-6 * max(1, max |golden| over the tensor)
i.e. 1e-4 relative, with a tiny absolute floor so that near-zero elements of a tensor (results
of cancellation, where float32 rounding error is relative to the tensor's scale, not to the
element) do not fail spuriously.
"""
import os
import sys

import torch
import torch.nn.functional as F

FORMAT_VERSION = 1
MAX_BYTES = 30 * 1024


def f32(t):
    """A float32-representable float64 tensor (so the C++ float build reads it exactly)."""
    return t.float().double()


def randn(*shape):
    return f32(torch.randn(shape, dtype=torch.float64))


def uniform(lo, hi, *shape):
    return f32(torch.rand(shape, dtype=torch.float64) * (hi - lo) + lo)


def leaf(t):
    return t.clone().requires_grad_(True)


class Case:
    def __init__(self, name, comments):
        self.name = name
        self.comments = comments
        self.tensors = []  # (name, tensor)

    def add(self, name, t):
        assert all(n != name for n, _ in self.tensors), name
        self.tensors.append((name, t.detach().double().contiguous()))

    def write(self, out_dir):
        lines = ["# " + c for c in self.comments]
        lines.append("st-golden %d" % FORMAT_VERSION)
        for name, t in self.tensors:
            lines.append(" ".join([name, str(t.dim())] + [str(d) for d in t.shape]))
            vals = ["%.9g" % v for v in t.reshape(-1).tolist()]
            for i in range(0, len(vals), 8):
                lines.append(" ".join(vals[i:i + 8]))
        text = "\n".join(lines) + "\n"
        assert len(text) < MAX_BYTES, "%s: %d bytes" % (self.name, len(text))
        path = os.path.join(out_dir, self.name + ".txt")
        with open(path, "w") as f:
            f.write(text)
        print("%-40s %6d bytes" % (path, len(text)))


def backward_with_upstream(case, out, inputs):
    """Stores out and a random upstream U, runs L = sum(out * U) backward, stores grad_<name>."""
    u = randn(*out.shape)
    case.add("out", out)
    case.add("upstream", u)
    (out * u).sum().backward()
    for name, t in inputs:
        case.add("grad_" + name, t.grad)


def conv2d_case():
    torch.manual_seed(101)
    c = Case("conv2d_s2_g4_p1", [
        "conv2d stride 2, padding 1, groups 4, with bias",
        "x [2,8,7,5], weight [12,2,3,3], bias [12] -> out [2,12,4,3]"])
    x, w, b = leaf(randn(2, 8, 7, 5)), leaf(randn(12, 2, 3, 3)), leaf(randn(12))
    for n, t in (("x", x), ("weight", w), ("bias", b)):
        c.add(n, t)
    out = F.conv2d(x, w, b, stride=2, padding=1, groups=4)
    backward_with_upstream(c, out, [("x", x), ("weight", w), ("bias", b)])
    return c


def conv_transpose_k2s2_case():
    torch.manual_seed(102)
    c = Case("conv_transpose2d_k2_s2", [
        "conv_transpose2d kernel 2, stride 2, padding 0, with bias",
        "x [2,4,4,3], weight [4,6,2,2], bias [6] -> out [2,6,8,6]"])
    x, w, b = leaf(randn(2, 4, 4, 3)), leaf(randn(4, 6, 2, 2)), leaf(randn(6))
    for n, t in (("x", x), ("weight", w), ("bias", b)):
        c.add(n, t)
    out = F.conv_transpose2d(x, w, b, stride=2)
    backward_with_upstream(c, out, [("x", x), ("weight", w), ("bias", b)])
    return c


def conv_transpose_k3s2p1_case():
    torch.manual_seed(103)
    c = Case("conv_transpose2d_k3_s2_p1_outsize", [
        "conv_transpose2d kernel 3, stride 2, padding 1, no bias, explicit output size 10x8",
        "(derived size 9x7, so the output padding is 1 on both axes)",
        "x [2,3,5,4], weight [3,4,3,3] -> out [2,4,10,8]"])
    x, w = leaf(randn(2, 3, 5, 4)), leaf(randn(3, 4, 3, 3))
    c.add("x", x)
    c.add("weight", w)
    # nn.ConvTranspose2d(output_size=(10, 8)) picks output_padding (1, 1); same thing here.
    out = F.conv_transpose2d(x, w, None, stride=2, padding=1, output_padding=1)
    assert tuple(out.shape) == (2, 4, 10, 8)
    backward_with_upstream(c, out, [("x", x), ("weight", w)])
    return c


def batch_norm_case(training):
    torch.manual_seed(104 if training else 105)
    mode = "train" if training else "eval"
    c = Case("batch_norm_" + mode, [
        "batch_norm %s, affine, momentum 0.1, eps 1e-5, x [4,3,5,5]" % mode,
        "running_mean/running_var: the stats before the call;"
        + (" running_mean_new/running_var_new: after the update (unbiased variance)" if training else "")])
    x = leaf(f32(randn(4, 3, 5, 5) * 1.5 + 0.5))
    w, b = leaf(uniform(0.5, 1.5, 3)), leaf(randn(3))
    rm, rv = f32(randn(3) * 0.3), uniform(0.5, 2.0, 3)
    for n, t in (("x", x), ("weight", w), ("bias", b), ("running_mean", rm), ("running_var", rv)):
        c.add(n, t)
    rm_new, rv_new = rm.clone(), rv.clone()
    out = F.batch_norm(x, rm_new, rv_new, w, b, training=training, momentum=0.1, eps=1e-5)
    if training:
        c.add("running_mean_new", rm_new)
        c.add("running_var_new", rv_new)
    backward_with_upstream(c, out, [("x", x), ("weight", w), ("bias", b)])
    return c


def log_softmax_case():
    torch.manual_seed(106)
    c = Case("log_softmax", ["log_softmax over the last axis, x [3,4,6]"])
    x = leaf(f32(randn(3, 4, 6) * 2))
    c.add("x", x)
    out = F.log_softmax(x, dim=-1)
    backward_with_upstream(c, out, [("x", x)])
    return c


def cross_entropy_case():
    torch.manual_seed(107)
    c = Case("cross_entropy", ["cross_entropy (mean over N), logits [5,7], integer labels [5];",
                               "out and upstream are scalars"])
    x = leaf(f32(randn(5, 7) * 2))
    labels = torch.tensor([3, 0, 6, 3, 1])
    c.add("logits", x)
    c.add("labels", labels)
    out = F.cross_entropy(x, labels)
    backward_with_upstream(c, out, [("logits", x)])
    return c


def embedding_case():
    torch.manual_seed(108)
    c = Case("embedding", ["embedding weight [10,4], indices [2,5] with repeats -> out [2,5,4]"])
    w = leaf(randn(10, 4))
    idx = torch.tensor([[1, 3, 3, 7, 1], [0, 9, 3, 5, 1]])
    c.add("weight", w)
    c.add("indices", idx)
    out = F.embedding(idx, w)
    backward_with_upstream(c, out, [("weight", w)])
    return c


def lstm_case():
    torch.manual_seed(109)
    T, B, I, H = 5, 3, 4, 6
    c = Case("lstm", [
        "one LSTM layer, T=5, B=3, I=4, H=6, gates (i, f, g, o) as in PyTorch",
        "L = sum(output*u_output) + sum(h_n*u_h_n) + sum(c_n*u_c_n)"])
    x, h0, c0 = leaf(randn(T, B, I)), leaf(f32(randn(B, H) * 0.5)), leaf(f32(randn(B, H) * 0.5))
    k = 1.0 / H ** 0.5
    w_ih, w_hh = leaf(uniform(-k, k, 4 * H, I)), leaf(uniform(-k, k, 4 * H, H))
    b_ih, b_hh = leaf(uniform(-k, k, 4 * H)), leaf(uniform(-k, k, 4 * H))
    inputs = [("x", x), ("h0", h0), ("c0", c0), ("w_ih", w_ih), ("w_hh", w_hh), ("b_ih", b_ih), ("b_hh", b_hh)]
    for n, t in inputs:
        c.add(n, t)
    # torch._VF.lstm(input, (h0, c0), params, has_biases, num_layers, dropout, train, bidirectional,
    # batch_first): the kernel behind nn.LSTM, here with our own float64 leaves as parameters.
    output, h_n, c_n = torch._VF.lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)), [w_ih, w_hh, b_ih, b_hh],
                                      True, 1, 0.0, True, False, False)
    h_n, c_n = h_n.squeeze(0), c_n.squeeze(0)
    u1, u2, u3 = randn(T, B, H), randn(B, H), randn(B, H)
    for n, t in (("output", output), ("h_n", h_n), ("c_n", c_n), ("u_output", u1), ("u_h_n", u2), ("u_c_n", u3)):
        c.add(n, t)
    ((output * u1).sum() + (h_n * u2).sum() + (c_n * u3).sum()).backward()
    for n, t in inputs:
        c.add("grad_" + n, t.grad)
    return c


def twn_ste(w):
    """TWN (strassennets.md §3) with a straight-through gradient: forward alpha*q, backward identity."""
    delta = 0.7 * w.abs().mean()
    mask = (w.abs() > delta).double()
    alpha = (w.abs() * mask).sum() / mask.sum()
    q = alpha * torch.sign(w) * mask
    return w + (q - w).detach()


def strassen_conv_case(ternary):
    """StrassenConv2d written from strassennets.md §2 with torch's own ops."""
    torch.manual_seed(110 + ternary)
    mode = "spn_ternary" if ternary else "spn_fp"
    c_in, c_out, k, s, q, p, g, r = 4, 6, 3, 2, 1, 2, 2, 8
    n, h, w_ = 2, 7, 5
    c = Case("strassen_conv2d_" + mode, [
        "StrassenConv2d, mode %s (TWN rule), training-mode hidden batch norm (eps 1e-3, momentum 0.1)" % mode,
        "original conv 4 -> 6, kernel 3, stride 2, padding 1, bias; out-patch p 2, groups g 2, r 8",
        "x [2,4,7,5] -> out [2,6,4,3]; W_b [8,2,5,5] (kernel (p-1)s+k, stride p*s, padding q + ceil((H mod ps)/2));",
        "W_c [8,6,2,2] transposed conv stride 2, cropped from e/s to the original output size"])
    x = leaf(randn(n, c_in, h, w_))
    wb = leaf(f32(randn(r, c_in // g, (p - 1) * s + k, (p - 1) * s + k) * 0.3))
    wc = leaf(f32(randn(r, c_out, p, p) * 0.5))
    a_hat = leaf(uniform(0.5, 1.5, r))
    beta = leaf(f32(randn(r) * 0.2))
    bias = leaf(randn(c_out))
    rm, rv = f32(randn(r) * 0.1), uniform(0.5, 1.5, r)
    for name, t in (("x", x), ("w_b", wb), ("w_c", wc), ("a_hat", a_hat), ("hidden_bn_bias", beta), ("bias", bias),
                    ("running_mean", rm), ("running_var", rv)):
        c.add(name, t)
    e_h, e_w = ((h % (p * s)) + 1) // 2, ((w_ % (p * s)) + 1) // 2
    out_h, out_w = (h + 2 * q - k) // s + 1, (w_ + 2 * q - k) // s + 1
    wb_used = twn_ste(wb) if ternary else wb
    wc_used = twn_ste(wc) if ternary else wc
    hid = F.conv2d(x, wb_used, None, stride=p * s, padding=(q + e_h, q + e_w), groups=g)
    rm_new, rv_new = rm.clone(), rv.clone()
    hid = F.batch_norm(hid, rm_new, rv_new, None, beta, training=True, momentum=0.1, eps=1e-3)
    hid = hid * a_hat.view(1, r, 1, 1)
    y = F.conv_transpose2d(hid, wc_used, None, stride=p)
    y = y[:, :, e_h // s:e_h // s + out_h, e_w // s:e_w // s + out_w]
    out = y + bias.view(1, c_out, 1, 1)
    assert tuple(out.shape) == (n, c_out, out_h, out_w)
    c.add("running_mean_new", rm_new)
    c.add("running_var_new", rv_new)
    backward_with_upstream(c, out, [("x", x), ("w_b", wb), ("w_c", wc), ("a_hat", a_hat), ("hidden_bn_bias", beta),
                                    ("bias", bias)])
    return c


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: /usr/bin/python3 tools/make_golden.py <output dir>")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)  # reproducible reductions
    cases = [conv2d_case, conv_transpose_k2s2_case, conv_transpose_k3s2p1_case,
             lambda: batch_norm_case(True), lambda: batch_norm_case(False),
             log_softmax_case, cross_entropy_case, embedding_case, lstm_case,
             lambda: strassen_conv_case(False), lambda: strassen_conv_case(True)]
    for make in cases:
        make().write(out_dir)


if __name__ == "__main__":
    main()
