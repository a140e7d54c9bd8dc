#include "analysis/op_count.h"

#include <map>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/quantize.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/strassen.h"
#include "layers/ternary_conv.h"
#include "layers/ternary_linear.h"

namespace st {

namespace {

struct Call {
  Shape input, output;
};
using CallLog = std::map<const Module*, std::vector<Call>>;

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string conv_detail(const Conv2dLayerOptions& o) {
  std::string d = std::to_string(o.kernel_h) + "x" + std::to_string(o.kernel_w) + " s" + std::to_string(o.stride) + " " +
                  std::to_string(o.in_channels) + "->" + std::to_string(o.out_channels);
  if (o.groups != 1) d += " g" + std::to_string(o.groups);
  return d;
}

// Adds `numel` parameter elements to `c`, ternary (2 bits) or 32-bit.
void add_param(LayerCount* c, int64_t numel, bool ternary) {
  c->params += numel;
  if (ternary) c->ternary_params += numel;
  c->bits += numel * (ternary ? 2 : 32);
}

// Every parameter of `m` (recursively) at 32 bits.
void add_all_params(LayerCount* c, const Module& m) {
  for (auto& [name, t] : m.named_parameters()) add_param(c, t.numel(), false);
}

// Full-precision convolution: one multiply-accumulate per weight tap and output.
void count_conv_ops(LayerCount* c, const Conv2dLayerOptions& o, const std::vector<Call>& calls) {
  for (const Call& call : calls) {
    const int64_t macs = numel_of(call.output) * (o.in_channels / o.groups) * o.kernel_h * o.kernel_w;
    c->mults += macs;
    c->adds += macs;
  }
}

void count_linear_ops(LayerCount* c, int64_t in, int64_t out, const std::vector<Call>& calls) {
  for (const Call& call : calls) {
    const int64_t macs = numel_of(call.output) * in;  // rows · out · in
    c->mults += macs;
    c->adds += macs;
  }
}

// The {−1, 0, 1} pattern that the layer's ternary rule gives `w`.
Tensor ternary_pattern(const TernaryQuantizerOptions& q, const Tensor& w) {
  switch (q.rule) {
    case TernaryRule::Twn: return ternary_codes_twn(w).codes;
    case TernaryRule::Fixed: return ternary_codes_fixed(w, q.fixed_step).codes;
    case TernaryRule::Ttq: break;
  }
  // TTQ: the quantizer itself with both scales 1 (the scales differ; the pattern is what the
  // additions see).
  NoGradGuard no_grad;
  return ternarize_ttq(w, Tensor::ones({1}), Tensor::ones({1}), q.ttq_threshold);
}

// TWN/TTQ baseline layers: every weight ±1 or 0, so the multiply-accumulates (already in c) become
// additions; one multiplication per output applies the scale (TTQ: two, W_p·Σ⁺ − W_n·Σ⁻). The
// weight is stored at 2 bits per entry.
void count_ternary_layer(LayerCount* c, TernaryRule rule, const std::vector<Call>& calls, const Module& mod) {
  int64_t outputs = 0;
  for (const Call& call : calls) outputs += numel_of(call.output);
  c->mults = outputs * (rule == TernaryRule::Ttq ? 2 : 1);
  for (auto& [pname, t] : mod.named_parameters()) add_param(c, t.numel(), pname == "weight");
}

int64_t count_nonzero(const Tensor& t) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += t.data()[i] != 0;
  return n;
}

Tensor named(const Module& m, const std::string& name) {
  for (auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  ST_THROW("count: " << m.describe() << " has no parameter '" << name << "'");
}

// A Strassen layer's parameters: in dense mode its `weight` and bias, in SPN modes everything else
// (W_b, W_c as ternary; ã, the hidden batch norm, the bias, any scales at 32 bits).
void add_strassen_params(const Module& l, bool dense, LayerCount* c, ModelCount* m) {
  for (auto& [name, t] : l.named_parameters()) {
    const bool used = dense ? (name == "weight" || name == "bias") : name != "weight";
    if (!used) {
      m->unused_params += t.numel();
      continue;
    }
    add_param(c, t.numel(), !dense && (name == "w_b" || name == "w_c"));
  }
}

LayerCount count_strassen_conv(const StrassenConv2d& l, const std::vector<Call>& calls, ModelCount* m) {
  const Conv2dLayerOptions& o = l.original();
  const StrassenOptions& s = l.options();
  LayerCount c;
  c.type = "StrassenConv2d";
  c.detail = conv_detail(o);
  const bool dense = l.mode() == StrassenMode::Dense;
  add_strassen_params(l, dense, &c, m);
  if (dense) {
    c.type += " (dense)";
    count_conv_ops(&c, o, calls);
    return c;
  }
  const int64_t r = s.hidden, k = o.kernel_h, p = s.out_patch, co_n = o.out_channels;
  const int64_t K = (p - 1) * o.stride + k;
  // Non-zero ternary entries: of W_b in all, of W_c per (output channel, patch row, patch column).
  const int64_t nnz_b = count_nonzero(ternary_pattern(s.quant, named(l, "w_b")));
  const Tensor wc = ternary_pattern(s.quant, named(l, "w_c"));  // [r, c_out, p, p]
  std::vector<int64_t> nnz_c(static_cast<size_t>(co_n * p * p), 0);
  for (int64_t j = 0; j < r; ++j)
    for (int64_t i = 0; i < co_n * p * p; ++i) nnz_c[i] += wc.data()[j * co_n * p * p + i] != 0;
  for (const Call& call : calls) {
    ST_CHECK(call.input.size() == 4, "count: StrassenConv2d input " << shape_str(call.input) << " is not 4-D");
    const StrassenConv2d::Geometry gh = l.geometry(call.input[2]), gw = l.geometry(call.input[3]);
    ST_CHECK(gh.kernel == K && gw.kernel == K, "count: StrassenConv2d geometry kernel " << gh.kernel << " != " << K);
    const int64_t hid_h = (call.input[2] + 2 * gh.pad - gh.kernel) / gh.stride + 1;
    const int64_t hid_w = (call.input[3] + 2 * gw.pad - gw.kernel) / gw.stride + 1;
    const int64_t hidden_units = call.input[0] * hid_h * hid_w * r;
    const int64_t outputs = numel_of(call.output);
    c.mults += hidden_units + outputs;
    c.adds += hidden_units * (o.in_channels / s.groups) * K * K + outputs * r;
    // Output (y, x) takes patch position ((y + crop) mod p, (x + crop) mod p) of its hidden unit.
    std::vector<int64_t> rows(p, 0), cols(p, 0);
    for (int64_t y = 0; y < call.output[2]; ++y) rows[(y + gh.crop) % p]++;
    for (int64_t x = 0; x < call.output[3]; ++x) cols[(x + gw.crop) % p]++;
    int64_t out_nonzero = 0;
    for (int64_t ch = 0; ch < co_n; ++ch)
      for (int64_t a = 0; a < p; ++a)
        for (int64_t b = 0; b < p; ++b) out_nonzero += rows[a] * cols[b] * nnz_c[(ch * p + a) * p + b];
    c.adds_nonzero += call.input[0] * (hid_h * hid_w * nnz_b + out_nonzero);
    c.detail = conv_detail(o) + ", r " + std::to_string(r) + " p " + std::to_string(s.out_patch) + " g " +
               std::to_string(s.groups) + " K " + std::to_string(K) + ", hidden " + std::to_string(hid_h) + "x" +
               std::to_string(hid_w);
  }
  return c;
}

LayerCount count_strassen_linear(const StrassenLinear& l, const std::vector<Call>& calls, ModelCount* m) {
  const int64_t in = l.in_features(), out = l.out_features(), r = l.options().hidden;
  LayerCount c;
  c.type = "StrassenLinear";
  const bool dense = l.mode() == StrassenMode::Dense;
  add_strassen_params(l, dense, &c, m);
  c.detail = std::to_string(in) + "->" + std::to_string(out);
  if (dense) {
    c.type += " (dense)";
    count_linear_ops(&c, in, out, calls);
    return c;
  }
  c.detail += ", r " + std::to_string(r);
  const int64_t nnz = count_nonzero(ternary_pattern(l.options().quant, named(l, "w_b"))) +
                      count_nonzero(ternary_pattern(l.options().quant, named(l, "w_c")));
  for (const Call& call : calls) {
    const int64_t rows = numel_of(call.output) / out;
    c.mults += rows * (r + out);
    c.adds += rows * (r * in + out * r);
    c.adds_nonzero += rows * nnz;
  }
  return c;
}

// Visits the module tree in registration order, one row per counted module.
void visit(const Module& mod, const std::string& name, const CallLog& log, ModelCount* m) {
  static const std::vector<Call> kNoCalls;
  auto it = log.find(&mod);
  const std::vector<Call>& calls = it == log.end() ? kNoCalls : it->second;
  auto must_be_called = [&](const char* type) {
    ST_CHECK(!calls.empty(), "count: " << type << " '" << name
                                       << "' was not called through Layer::operator() in the forward pass, so it "
                                          "cannot be counted (call layers as (*layer)(x), not layer->forward(x))");
  };
  LayerCount c;
  bool row = true;
  if (auto* sc = dynamic_cast<const StrassenConv2d*>(&mod)) {
    must_be_called("StrassenConv2d");
    c = count_strassen_conv(*sc, calls, m);
    ++m->strassen_layers;
    if (sc->mode() == StrassenMode::Dense) ++m->dense_strassen_layers;
  } else if (auto* sl = dynamic_cast<const StrassenLinear*>(&mod)) {
    must_be_called("StrassenLinear");
    c = count_strassen_linear(*sl, calls, m);
    ++m->strassen_layers;
    if (sl->mode() == StrassenMode::Dense) ++m->dense_strassen_layers;
  } else if (auto* tc = dynamic_cast<const TernaryConv2d*>(&mod)) {
    must_be_called("TernaryConv2d");
    c.type = "TernaryConv2d";
    c.detail = conv_detail(tc->options()) + " " + ternary_rule_name(tc->quantizer().rule);
    count_conv_ops(&c, tc->options(), calls);
    count_ternary_layer(&c, tc->quantizer().rule, calls, mod);
  } else if (auto* tl = dynamic_cast<const TernaryLinear*>(&mod)) {
    must_be_called("TernaryLinear");
    c.type = "TernaryLinear";
    c.detail = std::to_string(tl->options().in_features) + "->" + std::to_string(tl->options().out_features) + " " +
               ternary_rule_name(tl->quantizer().rule);
    count_linear_ops(&c, tl->options().in_features, tl->options().out_features, calls);
    count_ternary_layer(&c, tl->quantizer().rule, calls, mod);
  } else if (auto* cv = dynamic_cast<const Conv2d*>(&mod)) {
    must_be_called("Conv2d");
    c.type = "Conv2d";
    c.detail = conv_detail(cv->options());
    count_conv_ops(&c, cv->options(), calls);
    add_all_params(&c, mod);
  } else if (auto* li = dynamic_cast<const Linear*>(&mod)) {
    must_be_called("Linear");
    c.type = "Linear";
    c.detail = std::to_string(li->options().in_features) + "->" + std::to_string(li->options().out_features);
    count_linear_ops(&c, li->options().in_features, li->options().out_features, calls);
    add_all_params(&c, mod);
  } else if (dynamic_cast<const BatchNorm*>(&mod)) {
    c.type = "BatchNorm";
    c.detail = "folded";
    add_all_params(&c, mod);
  } else {
    // A container or parameter-free layer: its own parameters (if any) at 32 bits, then its children.
    for (auto& [pname, t] : mod.named_parameters())
      if (pname.find('.') == std::string::npos) add_param(&c, t.numel(), false);
    row = c.params > 0;
    c.type = mod.describe();
    c.detail = "operations not counted";
    for (auto& [child_name, child] : mod.named_children())
      visit(*child, name.empty() ? child_name : name + "." + child_name, log, m);
  }
  if (!row) return;
  if (c.type != "StrassenConv2d" && c.type != "StrassenLinear") c.adds_nonzero = c.adds;  // no ternary matrices
  c.name = name;
  c.calls = static_cast<int64_t>(calls.size());
  if (!calls.empty()) c.output = calls.back().output;
  m->layers.push_back(c);
}

// Restores the Strassen modes and the training flag however the pass ends.
class RestoreState {
 public:
  RestoreState(Module& model, std::vector<StrassenLayer*> layers)
      : model_(model), layers_(std::move(layers)), training_(model.is_training()) {
    for (StrassenLayer* l : layers_) modes_.push_back(l->mode());
  }
  ~RestoreState() {
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->set_mode(modes_[i]);
    model_.train(training_);
  }

 private:
  Module& model_;
  std::vector<StrassenLayer*> layers_;
  std::vector<StrassenMode> modes_;
  bool training_;
};

}  // namespace

ModelCount count_model(Layer& model, const Shape& input) {
  CallLog log;
  {
    const std::vector<StrassenLayer*> strassen = find_strassen_layers(model);
    RestoreState restore(model, strassen);
    for (StrassenLayer* l : strassen) l->set_mode(StrassenMode::Dense);
    model.eval();
    NoGradGuard no_grad;
    const LayerObserver observer = [&log](const Layer& layer, const Shape& in, const Shape& out) {
      log[&layer].push_back(Call{in, out});
    };
    LayerObserverGuard guard(observer);
    model(Tensor::zeros(input));
  }
  ModelCount m;
  m.input = input;
  visit(model, "", log, &m);
  m.total.name = "total";
  for (const LayerCount& c : m.layers) {
    m.total.mults += c.mults;
    m.total.adds += c.adds;
    m.total.adds_nonzero += c.adds_nonzero;
    m.total.params += c.params;
    m.total.ternary_params += c.ternary_params;
    m.total.bits += c.bits;
  }
  return m;
}

}  // namespace st
