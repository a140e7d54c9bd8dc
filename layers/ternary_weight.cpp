#include "layers/ternary_weight.h"

#include "core/autograd.h"
#include "core/error.h"

namespace st {

TernaryRule parse_ternary_rule(const std::string& name) {
  for (TernaryRule r : {TernaryRule::Twn, TernaryRule::Fixed, TernaryRule::Ttq})
    if (name == ternary_rule_name(r)) return r;
  ST_THROW("unknown ternary quantizer '" << name << "' (known: twn, fixed, ttq)");
}

const char* ternary_rule_name(TernaryRule rule) {
  switch (rule) {
    case TernaryRule::Twn: return "twn";
    case TernaryRule::Fixed: return "fixed";
    default: return "ttq";
  }
}

TernaryWeight::TernaryWeight(Module& owner, const std::string& name, const TernaryQuantizerOptions& opt)
    : name_(name), opt_(opt) {
  ST_CHECK(opt.fixed_step > 0, "ternary quantizer: fixed_step " << opt.fixed_step << " must be positive");
  ST_CHECK(opt.ttq_threshold >= 0 && opt.ttq_threshold < 1,
           "ternary quantizer: ttq_threshold " << opt.ttq_threshold << " is outside [0, 1)");
  if (opt.rule != TernaryRule::Ttq) return;
  pos_ = &owner.register_parameter(name + "_pos", Tensor::ones({1}));
  neg_ = &owner.register_parameter(name + "_neg", Tensor::ones({1}));
  ready_ = &owner.register_buffer(name + "_ttq_ready", Tensor::zeros({1}));
}

Tensor TernaryWeight::quantize(const Tensor& w) {
  switch (opt_.rule) {
    case TernaryRule::Twn: return ternarize_twn(w);
    case TernaryRule::Fixed: return ternarize_fixed(w, opt_.fixed_step);
    case TernaryRule::Ttq: break;
  }
  if (ready_->data()[0] == 0) {
    const real alpha = ternary_codes_twn(w).scale;
    pos_->data()[0] = alpha;
    neg_->data()[0] = alpha;
    ready_->data()[0] = 1;
  }
  return ternarize_ttq(w, *pos_, *neg_, opt_.ttq_threshold);
}

TernaryCodes TernaryWeight::codes(const Tensor& w) const {
  switch (opt_.rule) {
    case TernaryRule::Twn: return ternary_codes_twn(w);
    case TernaryRule::Fixed: return ternary_codes_fixed(w, opt_.fixed_step);
    case TernaryRule::Ttq: break;
  }
  ST_THROW("ternary quantizer: a TTQ weight has separate positive and negative scales; it cannot be written as one "
           "scale times {-1, 0, 1}");
}

TernaryMatrix TernaryWeight::matrix(const Tensor& w) const {
  TernaryMatrix m;
  m.name = name_;
  if (opt_.rule != TernaryRule::Ttq) {
    TernaryCodes c = codes(w);
    m.codes = c.codes;
    m.scale_pos = m.scale_neg = c.scale;
    return m;
  }
  // TTQ's pattern: the quantizer itself with both scales 1.
  NoGradGuard no_grad;
  m.codes = ternarize_ttq(w, Tensor::ones({1}), Tensor::ones({1}), opt_.ttq_threshold);
  m.scale_pos = pos_->data()[0];
  m.scale_neg = neg_->data()[0];
  return m;
}

LayerCost ternary_baseline_cost(const Module& layer, TernaryRule rule, int64_t macs, int64_t outputs) {
  LayerCost c;
  c.mults = outputs * (rule == TernaryRule::Ttq ? 2 : 1);
  c.adds = c.adds_nonzero = macs;
  for (auto& [name, t] : layer.named_parameters()) c.add_params(t.numel(), name == "weight");
  return c;
}

}  // namespace st
