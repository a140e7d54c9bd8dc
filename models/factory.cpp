#include "models/factory.h"

#include "core/error.h"

namespace st {

const std::vector<std::string>& known_models() {
  static const std::vector<std::string> names{"resnet_cifar", "vgg7", "resnet18"};
  return names;
}

std::shared_ptr<Layer> build_model(const ModelOptions& opt, Generator& gen, const ConvFactory& conv_in) {
  ST_CHECK(!(opt.strassen.enabled && opt.ternary.enabled),
           "build_model: a model is either a Strassen model or a ternary baseline, not both");
  ConvFactory conv = conv_in;
  if (!conv && opt.strassen.enabled) conv = strassen_conv_factory(opt.strassen);
  if (!conv && opt.ternary.enabled) conv = ternary_conv_factory(opt.ternary);
  LinearFactory fc;
  if (!conv_in && opt.strassen.enabled) fc = strassen_linear_factory(opt.strassen);
  if (!conv_in && opt.ternary.enabled) fc = ternary_linear_factory(opt.ternary);
  if (opt.name == "resnet_cifar") return std::make_shared<ResNetCifar>(opt.resnet, gen, conv, fc);
  if (opt.name == "vgg7") return std::make_shared<Vgg7>(opt.vgg, gen, conv, fc);
  if (opt.name == "resnet18") {
    if (conv_in || !opt.strassen.enabled) return std::make_shared<ResNetImageNet>(opt.resnet18, gen, conv);  // plain or ternary
    StrassenConvRules rules;
    rules.patch_shortcuts = true;
    return std::make_shared<ResNetImageNet>(opt.resnet18, gen, strassen_conv_factory(opt.strassen, rules),
                                            strassen_fc_factory(opt.strassen));
  }
  std::string list;
  for (const std::string& n : known_models()) list += (list.empty() ? "" : ", ") + n;
  ST_THROW("build_model: unknown model '" << opt.name << "' (known: " << list << ")");
}

const std::vector<std::string>& known_sequence_models() {
  static const std::vector<std::string> names{"char_lm", "word_lm"};
  return names;
}

std::shared_ptr<SequenceModel> build_sequence_model(const SequenceModelOptions& opt, const Spellings& spellings,
                                                    Generator& gen) {
  if (opt.name == "char_lm") return std::make_shared<CharLm>(opt.char_lm, spellings, gen);
  if (opt.name == "word_lm") {
    ST_CHECK(spellings.words == 0 || spellings.words == opt.word_lm.vocabulary,
             "build_sequence_model: word_lm has vocabulary " << opt.word_lm.vocabulary << " but the data has "
                                                             << spellings.words << " words");
    return std::make_shared<WordLstmLm>(opt.word_lm, gen);
  }
  std::string list;
  for (const std::string& n : known_sequence_models()) list += (list.empty() ? "" : ", ") + n;
  ST_THROW("build_sequence_model: unknown model '" << opt.name << "' (known: " << list << ")");
}

}  // namespace st
