#include "core/ops/norm.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/norm.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

// A per-channel tensor (weight, bias, running statistic) must be [C] when defined.
void check_channel_tensor(const Tensor& t, const char* what, int64_t C, const Tensor& x) {
  if (!t.defined()) return;
  ST_CHECK(t.shape() == Shape{C}, "batch_norm: " << what << " " << shape_str(t.shape()) << " does not match input "
                                                 << shape_str(x.shape()) << " (expected [" << C << "])");
}

// The op's name in profiles and graphs.
const char* op_name(bool residual, bool relu) {
  return residual ? (relu ? "batch_norm_add_relu" : "batch_norm_add") : (relu ? "batch_norm_relu" : "batch_norm");
}

// batch_norm, or batch_norm_add when residual is defined.
Tensor batch_norm_impl(const Tensor& x, const Tensor& residual, const Tensor& weight, const Tensor& bias,
                       Tensor running_mean, Tensor running_var, bool training, const BatchNormOptions& opt) {
  const char* name = op_name(residual.defined(), opt.relu);
  ProfileScope prof(name);
  ST_CHECK(x.defined() && x.dim() >= 2,
           "batch_norm: expected an input [N, C] or [N, C, ...], got " << (x.defined() ? shape_str(x.shape()) : "undefined"));
  ST_CHECK(!residual.defined() || residual.shape() == x.shape(),
           "batch_norm_add: residual " << shape_str(residual.shape()) << " does not match input "
                                       << shape_str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1);
  const int64_t S = N * C == 0 ? 0 : x.numel() / (N * C);
  check_channel_tensor(weight, "weight", C, x);
  check_channel_tensor(bias, "bias", C, x);
  check_channel_tensor(running_mean, "running_mean", C, x);
  check_channel_tensor(running_var, "running_var", C, x);
  ST_CHECK(running_mean.defined() == running_var.defined(),
           "batch_norm: running_mean and running_var must be both defined or both undefined");
  ST_CHECK(training || running_mean.defined(),
           "batch_norm: evaluation mode needs running_mean and running_var (input " << shape_str(x.shape()) << ")");
  const int64_t M = N * S;  // values per channel
  ST_CHECK(!training || M > 1, "batch_norm: training needs more than one value per channel, got input "
                                   << shape_str(x.shape()));

  // mean[C], inv_std[C]: what the backward needs; var[C]: the biased batch variance in training,
  // a copy of the running variance in evaluation.
  Tensor mean = training ? Tensor::empty({C}) : running_mean.clone();
  Tensor var = training ? Tensor::empty({C}) : running_var.clone();
  Tensor inv_std = Tensor::empty({C});
  Tensor out = Tensor::empty(x.shape());
  batch_norm_forward(x.data(), N, C, S, weight.defined() ? weight.data() : nullptr,
                     bias.defined() ? bias.data() : nullptr, residual.defined() ? residual.data() : nullptr, opt.eps,
                     training, opt.relu, mean.data(), var.data(), inv_std.data(), out.data());

  if (training && running_mean.defined()) {
    // In place, outside the graph. The running variance uses the unbiased estimate (M - 1).
    real* rm = running_mean.data();
    real* rv = running_var.data();
    const real* pm = mean.data();
    const real* pv = var.data();
    const real m = opt.momentum;
    const real unbias = static_cast<real>(M) / static_cast<real>(M - 1);
    for (int64_t c = 0; c < C; ++c) {
      rm[c] = (1 - m) * rm[c] + m * pm[c];
      rv[c] = (1 - m) * rv[c] + m * pv[c] * unbias;
    }
  }

  if (!needs_graph({&x, &weight, &bias, &residual})) return out;
  // Saved: mean[C] and inv_std[C]; x, γ and β are read through the captured input handles (no
  // copy: x̂ is recomputed per element in the backward instead of being stored). The fused ReLU's
  // mask is recomputed from x and β where no residual was added (one tensor fewer to read than
  // the output, which the backward then does not hold), else read from the output.
  const Tensor relu_y = opt.relu && residual.defined() ? out.detach() : Tensor();
  const bool relu_from_x = opt.relu && !residual.defined();
  record_node(name, {x, weight, bias, residual}, {out},
              [x, weight, bias, residual, mean, inv_std, relu_y, relu_from_x, N, C, S,
               training](const std::vector<Tensor>& g) {
                BatchNormGrads out;
                if (x.requires_grad()) out.dx = grad_buffer_for_write(x, &out.dx_add).data();
                if (weight.requires_grad()) out.dgamma = grad_buffer(weight).data();
                if (bias.requires_grad()) out.dbeta = grad_buffer(bias).data();
                if (residual.requires_grad()) out.dresidual = grad_buffer_for_write(residual, &out.dresidual_add).data();
                ReluMask relu;
                relu.y = relu_y.defined() ? relu_y.data() : nullptr;
                relu.from_x = relu_from_x;
                relu.beta = relu_from_x && bias.defined() ? bias.data() : nullptr;
                batch_norm_backward(x.data(), g[0].data(), N, C, S, mean.data(), inv_std.data(),
                                    weight.defined() ? weight.data() : nullptr, training, relu, out);
              });
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, const BatchNormOptions& opt) {
  return batch_norm_impl(x, Tensor(), weight, bias, running_mean, running_var, training, opt);
}

Tensor batch_norm_add(const Tensor& x, const Tensor& residual, const Tensor& weight, const Tensor& bias,
                      Tensor running_mean, Tensor running_var, bool training, const BatchNormOptions& opt) {
  ST_CHECK(residual.defined(), "batch_norm_add: the residual is undefined");
  return batch_norm_impl(x, residual, weight, bias, running_mean, running_var, training, opt);
}

}  // namespace st
