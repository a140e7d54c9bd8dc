#include "layers/lstm.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/ops/dropout.h"
#include "core/ops/lstm.h"
#include "layers/init.h"
#include "layers/layer.h"

namespace st {

void LstmOptions::validate() const {
  ST_CHECK(input > 0, "Lstm: input must be positive, got " << input);
  ST_CHECK(hidden > 0, "Lstm: hidden must be positive, got " << hidden);
  ST_CHECK(layers > 0, "Lstm: layers must be positive, got " << layers);
  ST_CHECK(dropout >= 0 && dropout < 1, "Lstm: dropout must be in [0, 1), got " << dropout);
}

Lstm::Lstm(const LstmOptions& opt, Generator& init_gen, Generator& dropout_gen)
    : opt_(opt), dropout_gen_(&dropout_gen) {
  opt_.validate();
  const int64_t H = opt_.hidden;
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  auto uniform = [&](const Shape& shape) {
    Tensor t = Tensor::empty(shape);
    init::uniform(t, init_gen, bound);
    return t;
  };
  for (int64_t l = 0; l < opt_.layers; ++l) {
    const std::string s = "_l" + std::to_string(l);
    const int64_t in = l == 0 ? opt_.input : H;
    Weights w;
    w.w_ih = &register_parameter("weight_ih" + s, uniform({4 * H, in}));
    w.w_hh = &register_parameter("weight_hh" + s, uniform({4 * H, H}));
    w.b_ih = &register_parameter("bias_ih" + s, uniform({4 * H}));
    w.b_hh = &register_parameter("bias_hh" + s, uniform({4 * H}));
    layers_.push_back(w);
  }
}

void Lstm::check_state(const Tensor& x, const std::vector<Tensor>& state) const {
  ST_CHECK(x.dim() == 3 && x.size(2) == opt_.input,
           "Lstm: expected x [T, B, " << opt_.input << "], got " << shape_str(x.shape()));
  if (state.empty()) return;
  ST_CHECK(state.size() == 2 * layers_.size(),
           "Lstm: state has " << state.size() << " tensors, expected " << 2 * layers_.size() << " (h and c per layer)");
  const Shape want{x.size(1), opt_.hidden};
  for (size_t i = 0; i < state.size(); ++i)
    ST_CHECK(state[i].defined() && state[i].shape() == want,
             "Lstm: state tensor " << i << " is " << (state[i].defined() ? shape_str(state[i].shape()) : "undefined")
                                   << ", expected " << shape_str(want));
}

Tensor Lstm::forward(const Tensor& x_in, std::vector<Tensor>& state) {
  check_state(x_in, state);
  const real p = static_cast<real>(opt_.dropout);
  const bool observed = Layer::observed();
  CallShapes call;
  if (observed) {
    call.inputs.push_back(x_in.shape());
    for (const Tensor& s : state) call.inputs.push_back(s.shape());
  }
  Tensor x = x_in;
  std::vector<Tensor> next;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Weights& w = layers_[l];
    const Tensor h0 = state.empty() ? Tensor() : state[2 * l], c0 = state.empty() ? Tensor() : state[2 * l + 1];
    LstmOutput o = lstm(x, h0, c0, *w.w_ih, *w.w_hh, *w.b_ih, *w.b_hh);
    next.push_back(o.h_n);
    next.push_back(o.c_n);
    const bool last = l + 1 == layers_.size();
    x = last && !opt_.dropout_output ? o.output : dropout(o.output, p, is_training(), *dropout_gen_);
  }
  state = std::move(next);
  if (observed) {
    call.outputs.push_back(x.shape());
    for (const Tensor& s : state) call.outputs.push_back(s.shape());
    Layer::report_call(*this, call);
  }
  return x;
}

std::string Lstm::describe() const {
  std::ostringstream os;
  os << "Lstm(" << opt_.input << ", " << opt_.layers << "x" << opt_.hidden << ", dropout " << opt_.dropout << ")";
  return os.str();
}

}  // namespace st
