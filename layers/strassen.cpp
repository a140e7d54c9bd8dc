#include "layers/strassen.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/linalg.h"
#include "core/ops/norm.h"
#include "core/ops/quantize.h"
#include "core/ops/shape_ops.h"
#include "layers/init.h"

namespace st {

namespace {

void validate(const StrassenOptions& o) {
  ST_CHECK(o.hidden > 0, "strassen layer: hidden width r = " << o.hidden << " must be positive");
  ST_CHECK(o.out_patch > 0, "strassen layer: out_patch p = " << o.out_patch << " must be positive");
  ST_CHECK(o.groups > 0 && o.hidden % o.groups == 0,
           "strassen layer: hidden width " << o.hidden << " must be divisible by groups " << o.groups);
}

BatchNormLayerOptions hidden_bn_options(const StrassenOptions& o) {
  BatchNormLayerOptions b{o.hidden};
  b.eps = o.bn_eps;
  b.momentum = o.bn_momentum;
  b.affine = BatchNormLayerOptions::Affine::FixedScale;
  return b;
}

// ã is kept in [0, 100]: clipped in place, outside the graph, before each forward.
void clip_a_hat(Tensor& a) {
  real* p = a.data();
  for (int64_t i = 0; i < a.numel(); ++i) p[i] = std::min(real(100), std::max(real(0), p[i]));
}

// ã ⊙ BN(h) with BN's γ fixed to 1 and β learned, computed as one batch norm with γ = ã and
// β' = ã ⊙ β: the same function and the same gradients for ã and β, without a separate
// full-size multiplication (and its backward) per hidden activation.
Tensor scaled_hidden_bn(const Tensor& h, BatchNorm& bn, const Tensor& a_hat, const StrassenOptions& o, bool training) {
  BatchNormOptions b;
  b.eps = o.bn_eps;
  b.momentum = o.bn_momentum;
  return batch_norm(h, a_hat, mul(a_hat, *bn.bias()), bn.running_mean(), bn.running_var(), training, b);
}

// The (possibly ternary, possibly frozen) weight a mode uses.
Tensor effective(const StrassenOptions& o, TernaryWeight& quant, const Tensor& w, bool ternary) {
  if (!ternary) return w;
  Tensor q = quant.quantize(w);
  return o.mode == StrassenMode::TernaryFrozen ? q.detach() : q;
}

// Folding (see strassen.h). The quantizer must map codes to themselves, so that the folded layer
// in the same mode uses exactly the stored {−1, 0, 1} values.
TernaryCodes fold_codes(const char* layer, const StrassenOptions& o, const TernaryWeight& quant, const Tensor& w) {
  ST_CHECK(o.mode == StrassenMode::SpnTernary || o.mode == StrassenMode::TernaryFrozen,
           layer << ": folding needs W_b and W_c ternary (mode spn_ternary or ternary_frozen), the layer is in mode "
                 << strassen_mode_name(o.mode));
  ST_CHECK(o.quant.rule == TernaryRule::Twn || (o.quant.rule == TernaryRule::Fixed && o.quant.fixed_step == 1),
           layer << ": folding needs the twn rule or the fixed rule with step 1 (got "
                 << ternary_rule_name(o.quant.rule) << ")");
  return quant.codes(w);
}

// ã ← ã·s (ã is clipped to [0, 100] before each forward: a folded value above 100 would change
// the function).
void scale_a_hat(const char* layer, Tensor& a_hat, real s) {
  real* a = a_hat.data();
  for (int64_t i = 0; i < a_hat.numel(); ++i) {
    a[i] *= s;
    ST_CHECK(a[i] <= 100, layer << ": folded a_hat " << a[i] << " exceeds the clip bound 100");
  }
}

// In evaluation mode the hidden BN sees W_b's output divided by s: with m ← m/s and
// v ← (v + eps)/s² − eps, (z/s − m/s)/sqrt(v' + eps) = (z − m)/sqrt(v + eps) exactly.
void fold_into_bn(BatchNorm& bn, real s, real eps) {
  real* m = bn.running_mean().data();
  real* v = bn.running_var().data();
  for (int64_t i = 0; i < bn.running_mean().numel(); ++i) {
    m[i] /= s;
    v[i] = (v[i] + eps) / (s * s) - eps;
  }
}

// Both layers' folding: W_b, W_c ← their codes; W_c's scale into ã; W_b's into the hidden BN's
// statistics, or into ã too when there is no hidden BN (bn null).
void fold_spn(const char* layer, const StrassenOptions& o, const TernaryWeight& q_b, const TernaryWeight& q_c,
              Tensor& w_b, Tensor& w_c, Tensor& a_hat, BatchNorm* bn) {
  const TernaryCodes b = fold_codes(layer, o, q_b, w_b), c = fold_codes(layer, o, q_c, w_c);
  ST_CHECK(b.scale > 0, layer << ": W_b quantizes to all zeros; nothing to fold");
  w_b.copy_(b.codes);
  w_c.copy_(c.codes);
  if (bn) {
    scale_a_hat(layer, a_hat, c.scale);
    fold_into_bn(*bn, b.scale, o.bn_eps);
  } else {
    scale_a_hat(layer, a_hat, b.scale * c.scale);
  }
}

int64_t count_nonzero(const Tensor& t) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += t.data()[i] != 0;
  return n;
}

// Both layers' parameters by mode: "weight" in dense mode only, the bias in every mode, W_b and
// W_c ternary.
void add_parameters(const Module& layer, StrassenMode mode, LayerCost* c) {
  add_strassen_parameters(layer, mode, {"weight"}, {"bias"}, {"w_b", "w_c"}, c);
}

}  // namespace

StrassenConv2d::StrassenConv2d(const Conv2dLayerOptions& original, const StrassenOptions& opt, Generator& gen)
    : orig_(original), opt_(opt) {
  validate(opt);
  ST_CHECK(original.in_channels % opt.groups == 0, "StrassenConv2d: in_channels " << original.in_channels
                                                                                  << " must be divisible by groups "
                                                                                  << opt.groups);
  ST_CHECK(original.kernel_h == original.kernel_w, "StrassenConv2d: square kernels only, got "
                                                       << original.kernel_h << "x" << original.kernel_w);
  const int64_t r = opt.hidden, p = opt.out_patch, s = original.stride, k = original.kernel_h;
  const int64_t K = (p - 1) * s + k;
  Tensor w = Tensor::empty({original.out_channels, original.in_channels / original.groups, k, k});
  init::kaiming_normal(w, gen, /*fan_out_mode=*/true);
  weight_ = &register_parameter("weight", w);
  if (original.bias) bias_ = &register_parameter("bias", Tensor::zeros({original.out_channels}));
  Tensor wb = Tensor::empty({r, original.in_channels / opt.groups, K, K});
  init::xavier_uniform(wb, gen);
  w_b_ = &register_parameter("w_b", wb);
  Tensor wc = Tensor::empty({r, original.out_channels, p, p});
  init::xavier_uniform(wc, gen);
  w_c_ = &register_parameter("w_c", wc);
  a_hat_ = &register_parameter("a_hat", Tensor::ones({r}));
  bn_ = register_module("hidden_bn", std::make_shared<BatchNorm>(hidden_bn_options(opt)));
  q_b_ = TernaryWeight(*this, "w_b", opt.quant);
  q_c_ = TernaryWeight(*this, "w_c", opt.quant);
}

void StrassenConv2d::fold_ternary_scales() {
  fold_spn("StrassenConv2d", opt_, q_b_, q_c_, *w_b_, *w_c_, *a_hat_, bn_.get());
}

std::vector<TernaryMatrix> StrassenConv2d::ternary_matrices() const { return {q_b_.matrix(*w_b_), q_c_.matrix(*w_c_)}; }

LayerCost StrassenConv2d::cost(const std::vector<CallShapes>& calls) const {
  LayerCost c;
  c.type = "StrassenConv2d";
  c.detail = conv2d_cost_detail(orig_);
  add_parameters(*this, opt_.mode, &c);
  if (opt_.mode == StrassenMode::Dense) {
    c.type += " (dense)";
    c.mults = c.adds = c.adds_nonzero = conv2d_macs(orig_, calls);
    return c;
  }
  const int64_t r = opt_.hidden, k = orig_.kernel_h, p = opt_.out_patch, co_n = orig_.out_channels;
  const int64_t K = (p - 1) * orig_.stride + k;
  // Non-zero ternary entries: of W_b in all, of W_c per (output channel, patch row, patch column).
  const std::vector<TernaryMatrix> m = ternary_matrices();
  const int64_t nnz_b = count_nonzero(m[0].codes);
  const Tensor& wc = m[1].codes;  // [r, c_out, p, p]
  std::vector<int64_t> nnz_c(static_cast<size_t>(co_n * p * p), 0);
  for (int64_t j = 0; j < r; ++j)
    for (int64_t i = 0; i < co_n * p * p; ++i) nnz_c[i] += wc.data()[j * co_n * p * p + i] != 0;
  for (const CallShapes& call : calls) {
    ST_CHECK(call.inputs.size() == 1 && call.outputs.size() == 1 && call.inputs[0].size() == 4 &&
                 call.outputs[0].size() == 4,
             "count: StrassenConv2d call " << (call.inputs.empty() ? "[]" : shape_str(call.inputs[0]))
                                           << " is not one 4-D input and output");
    const Shape &in = call.inputs[0], &out = call.outputs[0];
    const Geometry gh = geometry(in[2]), gw = geometry(in[3]);
    ST_CHECK(gh.kernel == K && gw.kernel == K, "count: StrassenConv2d geometry kernel " << gh.kernel << " != " << K);
    const int64_t hid_h = (in[2] + 2 * gh.pad - gh.kernel) / gh.stride + 1;
    const int64_t hid_w = (in[3] + 2 * gw.pad - gw.kernel) / gw.stride + 1;
    const int64_t hidden_units = in[0] * hid_h * hid_w * r;
    const int64_t outputs = shape_numel(out);
    c.mults += hidden_units + outputs;
    c.adds += hidden_units * (orig_.in_channels / opt_.groups) * K * K + outputs * r;
    // Output (y, x) takes patch position ((y + crop) mod p, (x + crop) mod p) of its hidden unit.
    std::vector<int64_t> rows(p, 0), cols(p, 0);
    for (int64_t y = 0; y < out[2]; ++y) rows[(y + gh.crop) % p]++;
    for (int64_t x = 0; x < out[3]; ++x) cols[(x + gw.crop) % p]++;
    int64_t out_nonzero = 0;
    for (int64_t ch = 0; ch < co_n; ++ch)
      for (int64_t a = 0; a < p; ++a)
        for (int64_t b = 0; b < p; ++b) out_nonzero += rows[a] * cols[b] * nnz_c[(ch * p + a) * p + b];
    c.adds_nonzero += in[0] * (hid_h * hid_w * nnz_b + out_nonzero);
    c.detail = conv2d_cost_detail(orig_) + ", r " + std::to_string(r) + " p " + std::to_string(p) + " g " +
               std::to_string(opt_.groups) + " K " + std::to_string(K) + ", hidden " + std::to_string(hid_h) + "x" +
               std::to_string(hid_w);
  }
  return c;
}

StrassenConv2d::Geometry StrassenConv2d::geometry(int64_t in_extent) const {
  const int64_t p = opt_.out_patch, s = orig_.stride, k = orig_.kernel_h, q = orig_.padding;
  const int64_t extra = ((in_extent % (p * s)) + 1) / 2;  // ceil((H mod p·s) / 2)
  Geometry g;
  g.kernel = (p - 1) * s + k;
  g.stride = p * s;
  g.pad = q + extra;
  g.crop = extra / s;
  g.out = (in_extent + 2 * q - k) / s + 1;
  return g;
}

Tensor StrassenConv2d::forward(const Tensor& x) {
  ST_CHECK(x.dim() == 4 && x.size(1) == orig_.in_channels,
           "StrassenConv2d: input " << shape_str(x.shape()) << " does not have " << orig_.in_channels << " channels");
  if (opt_.mode == StrassenMode::Dense)
    return conv2d(x, *weight_, bias_ ? *bias_ : Tensor(), Conv2dOptions::make(orig_.stride, orig_.padding, orig_.groups));
  clip_a_hat(*a_hat_);
  const Geometry gh = geometry(x.size(2)), gw = geometry(x.size(3));
  Conv2dOptions hidden;
  hidden.stride_h = gh.stride, hidden.stride_w = gw.stride;
  hidden.pad_h = gh.pad, hidden.pad_w = gw.pad;
  hidden.groups = opt_.groups;
  const Tensor w_b = effective(opt_, q_b_, *w_b_, uses_ternary_b(opt_.mode));
  Tensor h;
  if (!is_training() && !grad_enabled()) {
    // Inference: the hidden batch norm (running statistics, γ = ã, β' = ã ⊙ β) is an affine map
    // per hidden channel, folded into W_b: one pass over h instead of two.
    h = conv2d_batch_norm_eval(x, w_b, Tensor(), *a_hat_, mul(*a_hat_, *bn_->bias()), bn_->running_mean(),
                               bn_->running_var(), opt_.bn_eps, /*relu=*/false, hidden);
  } else {
    h = conv2d(x, w_b, Tensor(), hidden);
    h = scaled_hidden_bn(h, *bn_, *a_hat_, opt_, is_training());
  }
  Tensor y = conv_transpose2d(h, effective(opt_, q_c_, *w_c_, uses_ternary_c(opt_.mode)), Tensor(),
                              ConvTranspose2dOptions::make(opt_.out_patch, 0));
  ST_CHECK(gh.crop + gh.out <= y.size(2) && gw.crop + gw.out <= y.size(3),
           "StrassenConv2d: output " << shape_str(y.shape()) << " cannot be cropped to " << gh.out << "x" << gw.out
                                     << " for input " << shape_str(x.shape()));
  // (p = 1 and even sizes: nothing to crop, and narrow would copy)
  if (gh.crop != 0 || gh.out != y.size(2)) y = narrow(y, 2, gh.crop, gh.out);
  if (gw.crop != 0 || gw.out != y.size(3)) y = narrow(y, 3, gw.crop, gw.out);
  if (bias_) y = add(y, reshape(*bias_, {1, orig_.out_channels, 1, 1}));
  return y;
}

std::string StrassenConv2d::describe() const {
  return "StrassenConv2d(" + std::to_string(orig_.in_channels) + ", " + std::to_string(orig_.out_channels) + ", kernel " +
         std::to_string(orig_.kernel_h) + ", stride " + std::to_string(orig_.stride) + ", r " +
         std::to_string(opt_.hidden) + ", p " + std::to_string(opt_.out_patch) + ", g " + std::to_string(opt_.groups) +
         ", " + strassen_mode_name(opt_.mode) + ")";
}

StrassenLinear::StrassenLinear(int64_t in_features, int64_t out_features, bool bias, const StrassenOptions& opt,
                               Generator& gen)
    : in_(in_features), out_(out_features), opt_(opt) {
  validate(opt);
  ST_CHECK(in_features > 0 && out_features > 0,
           "StrassenLinear: features " << in_features << " -> " << out_features << " must be positive");
  Tensor w = Tensor::empty({out_features, in_features});
  init::xavier_uniform(w, gen);
  weight_ = &register_parameter("weight", w);
  if (bias) bias_ = &register_parameter("bias", Tensor::zeros({out_features}));
  Tensor wb = Tensor::empty({opt.hidden, in_features});
  init::xavier_uniform(wb, gen);
  w_b_ = &register_parameter("w_b", wb);
  Tensor wc = Tensor::empty({out_features, opt.hidden});
  init::xavier_uniform(wc, gen);
  w_c_ = &register_parameter("w_c", wc);
  a_hat_ = &register_parameter("a_hat", Tensor::ones({opt.hidden}));
  if (opt.hidden_bn) bn_ = register_module("hidden_bn", std::make_shared<BatchNorm>(hidden_bn_options(opt)));
  q_b_ = TernaryWeight(*this, "w_b", opt.quant);
  q_c_ = TernaryWeight(*this, "w_c", opt.quant);
}

void StrassenLinear::fold_ternary_scales() {
  fold_spn("StrassenLinear", opt_, q_b_, q_c_, *w_b_, *w_c_, *a_hat_, bn_.get());
}

std::vector<TernaryMatrix> StrassenLinear::ternary_matrices() const { return {q_b_.matrix(*w_b_), q_c_.matrix(*w_c_)}; }

LayerCost StrassenLinear::cost(const std::vector<CallShapes>& calls) const {
  const int64_t r = opt_.hidden;
  LayerCost c;
  c.type = "StrassenLinear";
  c.detail = std::to_string(in_) + "->" + std::to_string(out_);
  add_parameters(*this, opt_.mode, &c);
  if (opt_.mode == StrassenMode::Dense) {
    c.type += " (dense)";
    c.mults = c.adds = c.adds_nonzero = output_elements(calls) * in_;  // rows · out · in
    return c;
  }
  c.detail += ", r " + std::to_string(r);
  int64_t nnz = 0;
  for (const TernaryMatrix& m : ternary_matrices()) nnz += count_nonzero(m.codes);
  for (const CallShapes& call : calls) {
    const int64_t rows = output_elements({call}) / out_;
    c.mults += rows * (r + out_);
    c.adds += rows * (r * in_ + out_ * r);
    c.adds_nonzero += rows * nnz;
  }
  return c;
}

Tensor StrassenLinear::forward(const Tensor& x) {
  const Tensor b = bias_ ? *bias_ : Tensor();
  if (opt_.mode == StrassenMode::Dense) return linear(x, *weight_, b);
  ST_CHECK(!bn_ || x.dim() == 2, "StrassenLinear: the hidden batch norm needs [N, " << in_ << "] input, got "
                                                                                   << shape_str(x.shape()));
  clip_a_hat(*a_hat_);
  Tensor h = linear(x, effective(opt_, q_b_, *w_b_, uses_ternary_b(opt_.mode)));
  h = bn_ ? scaled_hidden_bn(h, *bn_, *a_hat_, opt_, is_training()) : mul(h, *a_hat_);
  return linear(h, effective(opt_, q_c_, *w_c_, uses_ternary_c(opt_.mode)), b);
}

std::string StrassenLinear::describe() const {
  return "StrassenLinear(" + std::to_string(in_) + ", " + std::to_string(out_) + ", r " + std::to_string(opt_.hidden) +
         ", " + strassen_mode_name(opt_.mode) + ")";
}

}  // namespace st
