#include "models/strassen_conv.h"

#include <cmath>

#include "core/error.h"

namespace st {

ConvFactory strassen_conv_factory(const StrassenModelOptions& opt, const StrassenConvRules& rules) {
  ST_CHECK(opt.hidden_ratio > 0, "strassen: hidden_ratio " << opt.hidden_ratio << " must be positive");
  ST_CHECK(opt.out_patch >= 1 && opt.groups >= 1,
           "strassen: out_patch " << opt.out_patch << " and groups " << opt.groups << " must be >= 1");
  return [opt, rules](const Conv2dLayerOptions& conv, Generator& gen) -> std::shared_ptr<Layer> {
    const bool first = conv.in_channels == 3;
    const bool shortcut = conv.kernel_h == 1 && conv.kernel_w == 1;
    if ((first && !opt.compress_first) || (shortcut && !opt.compress_shortcuts)) return std::make_shared<Conv2d>(conv, gen);
    StrassenOptions s = opt.layer;
    s.hidden = std::max<int64_t>(1, std::llround(opt.hidden_ratio * static_cast<double>(conv.out_channels)));
    s.out_patch = shortcut && !rules.patch_shortcuts ? 1 : opt.out_patch;
    s.groups = (shortcut || first) ? 1 : opt.groups;
    ST_CHECK(conv.in_channels % s.groups == 0 && s.hidden % s.groups == 0,
             "strassen: groups " << s.groups << " must divide c_in " << conv.in_channels << " and r " << s.hidden);
    return std::make_shared<StrassenConv2d>(conv, s, gen);
  };
}

LinearFactory strassen_fc_factory(const StrassenModelOptions& opt) {
  return [opt](const LinearOptions& fc, Generator& gen) -> std::shared_ptr<Layer> {
    if (opt.hidden_ratio > 1) return std::make_shared<Linear>(fc, gen);
    StrassenOptions s = opt.layer;
    s.hidden = fc.out_features;
    s.out_patch = 1;
    s.groups = 1;
    s.hidden_bn = true;
    return std::make_shared<StrassenLinear>(fc.in_features, fc.out_features, fc.bias, s, gen);
  };
}

}  // namespace st
