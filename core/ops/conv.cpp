#include "core/ops/conv.h"

#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/conv.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

void check_common(const char* op, const Tensor& x, const Tensor& weight, int64_t stride_h,
                  int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t groups, const char* weight_layout) {
  ST_CHECK(x.dim() == 4, op << ": input must be 4-D [N, C, H, W], got " << shape_str(x.shape()));
  ST_CHECK(weight.dim() == 4, op << ": weight must be 4-D " << weight_layout << ", got " << shape_str(weight.shape()));
  ST_CHECK(stride_h >= 1 && stride_w >= 1, op << ": stride must be positive, got " << stride_h << "×" << stride_w);
  ST_CHECK(pad_h >= 0 && pad_w >= 0, op << ": padding must be non-negative, got " << pad_h << "×" << pad_w);
  ST_CHECK(groups >= 1, op << ": groups must be positive, got " << groups);
  ST_CHECK(x.size(1) % groups == 0, op << ": input " << shape_str(x.shape()) << " has " << x.size(1)
                                       << " channels, not divisible by groups " << groups);
}

void check_bias(const char* op, const Tensor& bias, const Tensor& weight, int64_t out_channels) {
  if (!bias.defined()) return;
  ST_CHECK(bias.dim() == 1 && bias.size(0) == out_channels,
           op << ": bias " << shape_str(bias.shape()) << " does not match weight " << shape_str(weight.shape())
              << " (expected [" << out_channels << "])");
}

// The geometry of conv2d(x, weight, bias, opt), after checking the shapes.
Conv2dGeometry conv2d_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opt) {
  check_common("conv2d", x, weight, opt.stride_h, opt.stride_w, opt.pad_h, opt.pad_w, opt.groups,
               "[C_out, C_in/groups, kH, kW]");
  const int64_t G = opt.groups;
  ST_CHECK(weight.size(0) % G == 0, "conv2d: weight " << shape_str(weight.shape()) << " has " << weight.size(0)
                                                     << " output channels, not divisible by groups " << G);
  ST_CHECK(weight.size(1) * G == x.size(1), "conv2d: input " << shape_str(x.shape()) << " has " << x.size(1)
                                                             << " channels but weight " << shape_str(weight.shape())
                                                             << " expects " << weight.size(1) * G << " (groups " << G
                                                             << ")");
  check_bias("conv2d", bias, weight, weight.size(0));

  Conv2dGeometry g;
  g.batch = x.size(0);
  g.in_channels = x.size(1);
  g.in_h = x.size(2);
  g.in_w = x.size(3);
  g.out_channels = weight.size(0);
  g.kernel_h = weight.size(2);
  g.kernel_w = weight.size(3);
  g.stride_h = opt.stride_h;
  g.stride_w = opt.stride_w;
  g.pad_h = opt.pad_h;
  g.pad_w = opt.pad_w;
  g.groups = G;
  // Checked before dividing: C++ division truncates toward zero, so a kernel one larger than the
  // padded input would otherwise give an output extent of 1.
  ST_CHECK(g.kernel_h >= 1 && g.kernel_w >= 1 && g.in_h + 2 * g.pad_h >= g.kernel_h &&
               g.in_w + 2 * g.pad_w >= g.kernel_w,
           "conv2d: kernel " << g.kernel_h << "×" << g.kernel_w << " of weight " << shape_str(weight.shape())
                             << " does not fit the padded input " << g.in_h + 2 * g.pad_h << "×"
                             << g.in_w + 2 * g.pad_w << " (input " << shape_str(x.shape()) << ", padding " << g.pad_h
                             << "×" << g.pad_w << "): the output would be empty");
  g.out_h = (g.in_h + 2 * g.pad_h - g.kernel_h) / g.stride_h + 1;
  g.out_w = (g.in_w + 2 * g.pad_w - g.kernel_w) / g.stride_w + 1;
  return g;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opt) {
  ProfileScope prof("conv2d");
  const Conv2dGeometry g = conv2d_geometry(x, weight, bias, opt);
  Tensor out = Tensor::empty({g.batch, g.out_channels, g.out_h, g.out_w});
  conv2d_forward(g, x.data(), weight.data(), bias.defined() ? bias.data() : nullptr, out.data());
  if (!needs_graph({&x, &weight, &bias})) return out;

  // Saved: the input and the weight (the im2col matrix is recomputed in the backward rather
  // than kept: it is kH*kW times the size of the input).
  record_node("conv2d", {x, weight, bias}, {out}, [x, weight, bias, g](const std::vector<Tensor>& grads) {
    const real* dy = grads[0].data();
    if (x.requires_grad()) {
      bool add;
      real* dx = grad_buffer_for_write(x, &add).data();
      conv2d_backward_input(g, dy, weight.data(), dx, add);
    }
    if (weight.requires_grad()) conv2d_backward_weight(g, x.data(), dy, grad_buffer(weight).data());
    if (bias.defined() && bias.requires_grad())
      conv_bias_backward(dy, g.batch, g.out_channels, g.out_plane(), grad_buffer(bias).data());
  });
  return out;
}

Tensor conv2d_batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean, const Tensor& running_var, real eps,
                              bool relu, const Conv2dOptions& opt, const Tensor& residual) {
  ProfileScope prof("conv2d_batch_norm_eval");
  const Conv2dGeometry g = conv2d_geometry(x, weight, bias, opt);
  const int64_t C = g.out_channels, per_channel = weight.numel() / C;
  for (const Tensor* t : {&gamma, &beta, &running_mean, &running_var})
    ST_CHECK(!t->defined() || t->shape() == Shape{C},
             "conv2d_batch_norm_eval: batch-norm tensor " << shape_str(t->shape()) << " does not match the "
                                                          << C << " output channels of weight "
                                                          << shape_str(weight.shape()));
  ST_CHECK(running_mean.defined() && running_var.defined(),
           "conv2d_batch_norm_eval: needs the running statistics (weight " << shape_str(weight.shape()) << ")");
  const Shape out_shape{g.batch, C, g.out_h, g.out_w};
  ST_CHECK(!residual.defined() || residual.shape() == out_shape,
           "conv2d_batch_norm_eval: residual " << shape_str(residual.shape()) << " does not match the output "
                                               << shape_str(out_shape));
  ST_CHECK(!needs_graph({&x, &weight, &bias, &gamma, &beta, &residual}),
           "conv2d_batch_norm_eval: evaluation only; it records no graph (input " << shape_str(x.shape()) << ")");
  // Channel c: scale = γ / sqrt(var + eps) (as batch_norm computes it), w' = w·scale,
  // b' = (b − mean)·scale + β.
  Tensor w = Tensor::empty(weight.shape()), b = Tensor::empty({C});
  for (int64_t c = 0; c < C; ++c) {
    const real is = static_cast<real>(1.0 / std::sqrt(static_cast<double>(running_var.data()[c]) + eps));
    const real scale = (gamma.defined() ? gamma.data()[c] : real(1)) * is;
    const real* src = weight.data() + c * per_channel;
    real* dst = w.data() + c * per_channel;
    for (int64_t k = 0; k < per_channel; ++k) dst[k] = src[k] * scale;
    b.data()[c] = ((bias.defined() ? bias.data()[c] : real(0)) - running_mean.data()[c]) * scale +
                  (beta.defined() ? beta.data()[c] : real(0));
  }
  Tensor out = Tensor::empty(out_shape);
  conv2d_forward(g, x.data(), w.data(), b.data(), out.data(), relu, residual.defined() ? residual.data() : nullptr);
  return out;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvTranspose2dOptions& opt) {
  ProfileScope prof("conv_transpose2d");
  check_common("conv_transpose2d", x, weight, opt.stride_h, opt.stride_w, opt.pad_h, opt.pad_w, opt.groups,
               "[C_in, C_out/groups, kH, kW]");
  const int64_t G = opt.groups;
  ST_CHECK(weight.size(0) == x.size(1), "conv_transpose2d: input " << shape_str(x.shape()) << " has " << x.size(1)
                                                                   << " channels but weight "
                                                                   << shape_str(weight.shape()) << " expects "
                                                                   << weight.size(0) << " (groups " << G << ")");
  const int64_t out_channels = weight.size(1) * G;
  check_bias("conv_transpose2d", bias, weight, out_channels);
  ST_CHECK(weight.size(2) >= 1 && weight.size(3) >= 1,
           "conv_transpose2d: weight " << shape_str(weight.shape()) << " has an empty kernel");

  // Output extent of one axis: (in-1)*s - 2p + k + output_padding, where an explicit size
  // chooses the output padding within [0, s-1] (as PyTorch's output_size argument does).
  auto out_extent = [&](const char* axis, int64_t in, int64_t k, int64_t s, int64_t p, int64_t output_padding,
                        int64_t requested) {
    const int64_t lo = (in - 1) * s - 2 * p + k;
    if (requested != 0) {
      ST_CHECK(requested >= lo && requested <= lo + s - 1,
               "conv_transpose2d: requested output " << axis << " " << requested << " is out of range [" << lo
                                                     << ", " << lo + s - 1 << "] for input " << shape_str(x.shape())
                                                     << ", weight " << shape_str(weight.shape()) << ", stride " << s
                                                     << ", padding " << p);
      output_padding = requested - lo;
    } else {
      ST_CHECK(output_padding >= 0 && output_padding < s,
               "conv_transpose2d: output padding " << output_padding << " (" << axis
                                                   << ") must be non-negative and smaller than the stride " << s);
    }
    const int64_t out = lo + output_padding;
    ST_CHECK(out > 0, "conv_transpose2d: output " << axis << " " << out << " is not positive for input "
                                                  << shape_str(x.shape()) << ", weight " << shape_str(weight.shape())
                                                  << ", stride " << s << ", padding " << p);
    return out;
  };
  const int64_t out_h = out_extent("height", x.size(2), weight.size(2), opt.stride_h, opt.pad_h,
                                   opt.output_padding_h, opt.output_h);
  const int64_t out_w = out_extent("width", x.size(3), weight.size(3), opt.stride_w, opt.pad_w,
                                   opt.output_padding_w, opt.output_w);

  const Conv2dGeometry g =
      conv_transpose2d_geometry(x.size(0), x.size(1), x.size(2), x.size(3), out_channels, out_h, out_w, weight.size(2),
                                weight.size(3), opt.stride_h, opt.stride_w, opt.pad_h, opt.pad_w, G);
  Tensor out = Tensor::empty({x.size(0), out_channels, out_h, out_w});
  conv_transpose2d_forward(g, x.data(), weight.data(), bias.defined() ? bias.data() : nullptr, out.data());
  if (!needs_graph({&x, &weight, &bias})) return out;

  record_node("conv_transpose2d", {x, weight, bias}, {out}, [x, weight, bias, g](const std::vector<Tensor>& grads) {
    const real* dy = grads[0].data();
    if (x.requires_grad()) {
      bool add;
      real* dx = grad_buffer_for_write(x, &add).data();
      conv_transpose2d_backward_input(g, dy, weight.data(), dx, add);
    }
    if (weight.requires_grad()) conv_transpose2d_backward_weight(g, x.data(), dy, grad_buffer(weight).data());
    if (bias.defined() && bias.requires_grad())
      conv_bias_backward(dy, g.batch, g.in_channels, g.in_plane(), grad_buffer(bias).data());
  });
  return out;
}

}  // namespace st
