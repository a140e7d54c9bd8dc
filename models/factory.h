#pragma once
// build_model: a model from its options, by name; build_sequence_model: the same for language
// models (SequenceModel). The options are plain structs; the config layer binds them to JSON.
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/layer.h"
#include "layers/sequence_model.h"
#include "models/char_lm.h"
#include "models/conv_factory.h"
#include "models/resnet_cifar.h"
#include "models/resnet_imagenet.h"
#include "models/strassen_conv.h"
#include "models/ternary_conv.h"
#include "models/vgg7.h"
#include "models/word_lm.h"

namespace st {

struct ModelOptions {
  std::string name;  // "resnet_cifar" | "vgg7" | "resnet18"
  ResNetCifarOptions resnet;
  ResNetImageNetOptions resnet18;
  Vgg7Options vgg;
  StrassenModelOptions strassen;  // enabled: every conv is a StrassenConv2d (models/strassen_conv.h)
  TernaryModelOptions ternary;    // enabled: ternary convs, the TWN/TTQ baselines (models/ternary_conv.h)
};

// The names build_model accepts.
const std::vector<std::string>& known_models();

// Builds the named model with parameters drawn from `gen`; only the options block of that model
// is read. Throws st::Error naming an unknown model and listing the known ones, and the model's
// own errors for invalid options. With opt.strassen.enabled (and no explicit `conv`), the
// convolutions are Strassen layers, with the rules of each architecture (§5; for "resnet18" the
// out-patch applies to the shortcuts too and the classifier may be a StrassenLinear, see
// models/strassen_conv.h). Parameter count: Module::num_parameters().
std::shared_ptr<Layer> build_model(const ModelOptions& opt, Generator& gen, const ConvFactory& conv = {});

struct SequenceModelOptions {
  std::string name;      // "char_lm" | "word_lm"
  CharLmOptions char_lm;  // default: "large"
  WordLmOptions word_lm;
};

// The names build_sequence_model accepts.
const std::vector<std::string>& known_sequence_models();

// Builds the named language model with parameters drawn from `gen`; only the options block of
// that model is read. "char_lm" spells its words with `spellings` (its vocabulary is the table's
// words); "word_lm" does not read the table, but when the table has words their number must be
// word_lm.vocabulary. Throws st::Error naming an unknown model and listing the known ones, a
// vocabulary mismatch, and the model's own errors for invalid options or spellings.
std::shared_ptr<SequenceModel> build_sequence_model(const SequenceModelOptions& opt, const Spellings& spellings,
                                                    Generator& gen);

}  // namespace st
