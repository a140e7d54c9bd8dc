#include "models/ternary_conv.h"

#include <algorithm>

namespace st {

ConvFactory ternary_conv_factory(const TernaryModelOptions& opt) {
  return [opt](const std::string&, const Conv2dLayerOptions& conv, Generator& gen) -> std::shared_ptr<Layer> {
    if (conv.in_channels == 3 && !opt.compress_first) return std::make_shared<Conv2d>(conv, gen);
    return std::make_shared<TernaryConv2d>(conv, opt.quant, gen);
  };
}

LinearFactory ternary_linear_factory(const TernaryModelOptions& opt) {
  return [opt](const std::string& name, const LinearOptions& fc, Generator& gen) -> std::shared_ptr<Layer> {
    if (std::find(opt.fc.begin(), opt.fc.end(), name) == opt.fc.end()) return std::make_shared<Linear>(fc, gen);
    return std::make_shared<TernaryLinear>(fc, opt.quant, gen);
  };
}

}  // namespace st
