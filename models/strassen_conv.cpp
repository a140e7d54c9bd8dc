#include "models/strassen_conv.h"

#include <cmath>

#include "core/error.h"

namespace st {

namespace {
bool matches(const std::string& prefix, const std::string& name) {
  return name == prefix || (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
                            name[prefix.size()] == '.');
}
}  // namespace

double strassen_ratio_for(const StrassenModelOptions& opt, const std::string& name) {
  double ratio = opt.hidden_ratio;
  size_t best = 0;
  for (const auto& [prefix, r] : opt.ratios)
    if (matches(prefix, name) && prefix.size() >= best) best = prefix.size(), ratio = r;
  return ratio;
}

bool strassen_uncompressed(const StrassenModelOptions& opt, const std::string& name) {
  for (const std::string& prefix : opt.uncompressed)
    if (matches(prefix, name)) return true;
  return false;
}

ConvFactory strassen_conv_factory(const StrassenModelOptions& opt, const StrassenConvRules& rules) {
  ST_CHECK(opt.hidden_ratio > 0, "strassen: hidden_ratio " << opt.hidden_ratio << " must be positive");
  ST_CHECK(opt.out_patch >= 1 && opt.groups >= 1,
           "strassen: out_patch " << opt.out_patch << " and groups " << opt.groups << " must be >= 1");
  return [opt, rules](const std::string& name, const Conv2dLayerOptions& conv, Generator& gen) -> std::shared_ptr<Layer> {
    const bool first = conv.in_channels == 3;
    const bool shortcut = conv.kernel_h == 1 && conv.kernel_w == 1;
    if ((first && !opt.compress_first) || (shortcut && !opt.compress_shortcuts) || strassen_uncompressed(opt, name))
      return std::make_shared<Conv2d>(conv, gen);
    StrassenOptions s = opt.layer;
    const double ratio = strassen_ratio_for(opt, name);
    s.hidden = std::max<int64_t>(1, std::llround(ratio * static_cast<double>(conv.out_channels)));
    s.out_patch = shortcut && !rules.patch_shortcuts ? 1 : opt.out_patch;
    s.groups = (shortcut || first) ? 1 : opt.groups;
    ST_CHECK(conv.in_channels % s.groups == 0 && s.hidden % s.groups == 0,
             "strassen: layer '" << name << "': groups " << s.groups << " must divide c_in " << conv.in_channels
                                  << " and r " << s.hidden);
    return std::make_shared<StrassenConv2d>(conv, s, gen);
  };
}

LinearFactory strassen_fc_factory(const StrassenModelOptions& opt) {
  return [opt](const std::string& name, const LinearOptions& fc, Generator& gen) -> std::shared_ptr<Layer> {
    if (opt.hidden_ratio > 1 || strassen_uncompressed(opt, name)) return std::make_shared<Linear>(fc, gen);
    StrassenOptions s = opt.layer;
    s.hidden = fc.out_features;
    s.out_patch = 1;
    s.groups = 1;
    s.hidden_bn = true;
    return std::make_shared<StrassenLinear>(fc.in_features, fc.out_features, fc.bias, s, gen);
  };
}

LinearFactory strassen_linear_factory(const StrassenModelOptions& opt) {
  return [opt](const std::string& name, const LinearOptions& fc, Generator& gen) -> std::shared_ptr<Layer> {
    if (!opt.compress_fc || strassen_uncompressed(opt, name)) return std::make_shared<Linear>(fc, gen);
    StrassenOptions s = opt.layer;
    s.hidden = std::max<int64_t>(1, std::llround(strassen_ratio_for(opt, name) * static_cast<double>(fc.out_features)));
    s.out_patch = 1;
    s.groups = 1;
    s.hidden_bn = true;
    return std::make_shared<StrassenLinear>(fc.in_features, fc.out_features, fc.bias, s, gen);
  };
}

}  // namespace st
