#include "models/char_lm.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/ops/shape_ops.h"
#include "layers/init.h"

namespace st {

void Spellings::validate() const {
  ST_CHECK(words > 0 && length > 0 && characters > 0, "spellings: words " << words << ", length " << length
                                                                          << " and characters " << characters
                                                                          << " must be positive");
  ST_CHECK(static_cast<int64_t>(ids.size()) == words * length,
           "spellings: " << ids.size() << " ids do not form a [" << words << ", " << length << "] table");
  ST_CHECK(padding >= -1 && padding < characters,
           "spellings: padding character " << padding << " is outside [-1, " << characters << ")");
  for (size_t i = 0; i < ids.size(); ++i)
    ST_CHECK(ids[i] >= 0 && ids[i] < characters, "spellings: character id " << ids[i] << " of word " << i / length
                                                                            << " at position " << i % length
                                                                            << " is outside [0, " << characters << ")");
}

CharLmOptions CharLmOptions::small() {
  CharLmOptions o;
  o.widths = {1, 2, 3, 4, 5, 6};
  o.filters = {25, 50, 75, 100, 125, 150};
  o.highway_layers = 1;
  o.hidden = 300;
  return o;
}

CharLmOptions CharLmOptions::preset(const std::string& name) {
  if (name == "large") return large();
  if (name == "small") return small();
  ST_THROW("char_lm: unknown preset '" << name << "' (known: large, small)");
}

void CharLmOptions::validate() const {
  CharConvBankOptions{char_embedding, widths, filters}.validate();
  ST_CHECK(highway_layers >= 0, "char_lm: highway_layers must be >= 0, got " << highway_layers);
  ST_CHECK(hidden > 0, "char_lm: hidden must be positive, got " << hidden);
  ST_CHECK(layers > 0, "char_lm: layers must be positive, got " << layers);
  ST_CHECK(dropout >= 0 && dropout < 1, "char_lm: dropout must be in [0, 1), got " << dropout);
  ST_CHECK(init_range > 0, "char_lm: init_range must be positive, got " << init_range);
}

CharLm::CharLm(const CharLmOptions& options, const Spellings& spellings, Generator& gen)
    : options_(options), spellings_(spellings) {
  options_.validate();
  spellings_.validate();
  const int64_t widest = *std::max_element(options_.widths.begin(), options_.widths.end());
  ST_CHECK(widest <= spellings_.length, "char_lm: convolution width " << widest << " is longer than the spellings ("
                                                                     << spellings_.length << " characters)");
  char_embedding_ = register_module(
      "char_embedding", std::make_shared<Embedding>(
                            EmbeddingOptions{spellings_.characters, options_.char_embedding, spellings_.padding}, gen));
  const CharConvBankOptions cnn{options_.char_embedding, options_.widths, options_.filters};
  cnn_ = register_module("cnn", std::make_shared<CharConvBank>(cnn, gen));
  const int64_t F = cnn.total_filters();
  highway_ = register_module("highway", std::make_shared<Sequential>());
  for (int64_t i = 0; i < options_.highway_layers; ++i)
    highways_.push_back(highway_->add(std::make_shared<Highway>(HighwayOptions{F, options_.transform_bias}, gen)));
  LstmOptions lstm{F, options_.hidden, options_.layers, options_.dropout, true};
  lstm_ = register_module("lstm", std::make_shared<Lstm>(lstm, gen, dropout_gen_));
  decoder_ = register_module("decoder",
                             std::make_shared<Linear>(LinearOptions{options_.hidden, spellings_.words, true}, gen));
  init_parameters(gen);
}

void CharLm::init_parameters(Generator& gen) {
  // Kim's main.lua draws the whole flattened parameter vector uniform, then keeps the padding
  // character's row at zero; the highway gates add their constant −2 in the graph.
  for (auto& [name, t] : named_parameters()) init::uniform(t, gen, options_.init_range);
  for (auto& h : highways_) h->shift_gate_bias();
  char_embedding_->zero_padding_row();
}

std::vector<int64_t> CharLm::spell_time_major(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps) const {
  const int64_t L = spellings_.length, V = spellings_.words;
  std::vector<int64_t> chars(tokens.size() * L);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t id = tokens[r * steps + t];
      ST_CHECK(id >= 0 && id < V, "char_lm: token " << id << " at row " << r << ", step " << t
                                                    << " is outside the vocabulary [0, " << V << ")");
      std::copy_n(spellings_.ids.begin() + id * L, L, chars.begin() + (t * rows + r) * L);
    }
  return chars;
}

Tensor CharLm::forward(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps, std::vector<Tensor>& state) {
  ST_CHECK(rows > 0 && steps > 0 && static_cast<int64_t>(tokens.size()) == rows * steps,
           "char_lm: " << tokens.size() << " tokens do not form a [" << rows << ", " << steps << "] block");
  // The LSTM runs time-major, so the words are embedded in that order: token (r, t) is row t·rows + r.
  const int64_t n = rows * steps;
  const Tensor chars = char_embedding_->forward(spell_time_major(tokens, rows, steps), {n, spellings_.length});
  const Tensor words = (*highway_)((*cnn_)(chars));  // [n, F]
  const Tensor h = lstm_->forward(reshape(words, {steps, rows, words.size(1)}), state);  // [steps, rows, H]
  return (*decoder_)(reshape(transpose(h, 0, 1), {n, options_.hidden}));
}

std::string CharLm::describe() const {
  std::ostringstream os;
  os << "CharLm(vocabulary " << spellings_.words << ", characters " << spellings_.characters << ", filters "
     << CharConvBankOptions{options_.char_embedding, options_.widths, options_.filters}.total_filters() << ", "
     << options_.highway_layers << " highway, " << options_.layers << "x" << options_.hidden << " LSTM)";
  return os.str();
}

}  // namespace st
