#include "models/word_lm.h"

#include "core/error.h"
#include "core/ops/dropout.h"
#include "core/ops/embedding.h"
#include "core/ops/linalg.h"
#include "core/ops/lstm.h"
#include "core/ops/shape_ops.h"

namespace st {

void WordLmOptions::validate() const {
  ST_CHECK(vocabulary > 0, "word_lm: vocabulary must be positive, got " << vocabulary);
  ST_CHECK(embedding > 0, "word_lm: embedding must be positive, got " << embedding);
  ST_CHECK(hidden > 0, "word_lm: hidden must be positive, got " << hidden);
  ST_CHECK(layers > 0, "word_lm: layers must be positive, got " << layers);
  ST_CHECK(dropout >= 0 && dropout < 1, "word_lm: dropout must be in [0, 1), got " << dropout);
  ST_CHECK(init_range > 0, "word_lm: init_range must be positive, got " << init_range);
}

WordLstmLm::WordLstmLm(const WordLmOptions& options, Generator& gen) : options_(options) {
  options_.validate();
  const int64_t V = options_.vocabulary, E = options_.embedding, H = options_.hidden;
  auto uniform = [&](const Shape& shape) { return rand_uniform(shape, gen, -options_.init_range, options_.init_range); };
  embedding_ = &register_parameter("embedding", uniform({V, E}));
  for (int64_t l = 0; l < options_.layers; ++l) {
    const std::string p = "lstm" + std::to_string(l) + ".";
    const int64_t in = l == 0 ? E : H;
    LstmWeights w;
    w.w_ih = &register_parameter(p + "w_ih", uniform({4 * H, in}));
    w.w_hh = &register_parameter(p + "w_hh", uniform({4 * H, H}));
    w.b_ih = &register_parameter(p + "b_ih", uniform({4 * H}));
    w.b_hh = &register_parameter(p + "b_hh", uniform({4 * H}));
    lstm_.push_back(w);
  }
  decoder_w_ = &register_parameter("decoder.weight", uniform({V, H}));
  decoder_b_ = &register_parameter("decoder.bias", uniform({V}));
}

Tensor WordLstmLm::forward(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps,
                           std::vector<Tensor>& state) {
  ST_CHECK(rows > 0 && steps > 0 && static_cast<int64_t>(tokens.size()) == rows * steps,
           "word_lm: " << tokens.size() << " tokens do not form a [" << rows << ", " << steps << "] block");
  const size_t layers = lstm_.size();
  ST_CHECK(state.empty() || state.size() == 2 * layers,
           "word_lm: state has " << state.size() << " tensors, expected " << 2 * layers << " (h and c per layer)");
  // The LSTM runs time-major: token (r, t) goes to row t · rows + r.
  std::vector<int64_t> time_major(tokens.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < steps; ++t) time_major[t * rows + r] = tokens[r * steps + t];
  const real p = static_cast<real>(options_.dropout);
  Tensor x = dropout(embedding(*embedding_, time_major, {steps, rows}), p, is_training(), dropout_gen_);
  std::vector<Tensor> next_state;
  for (size_t l = 0; l < layers; ++l) {
    const LstmWeights& w = lstm_[l];
    const Tensor h0 = state.empty() ? Tensor() : state[2 * l], c0 = state.empty() ? Tensor() : state[2 * l + 1];
    LstmOutput o = lstm(x, h0, c0, *w.w_ih, *w.w_hh, *w.b_ih, *w.b_hh);
    next_state.push_back(o.h_n);
    next_state.push_back(o.c_n);
    x = dropout(o.output, p, is_training(), dropout_gen_);  // [steps, rows, H]
  }
  state = std::move(next_state);
  const Tensor batch_major = reshape(transpose(x, 0, 1), {rows * steps, options_.hidden});
  return linear(batch_major, *decoder_w_, *decoder_b_);
}

std::string WordLstmLm::describe() const {
  return "WordLstmLm(vocabulary " + std::to_string(options_.vocabulary) + ", " + std::to_string(options_.layers) +
         "x" + std::to_string(options_.hidden) + " LSTM)";
}

}  // namespace st
