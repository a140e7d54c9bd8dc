#include "layers/char_conv_bank.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/shape_ops.h"
#include "core/ops/temporal_conv.h"
#include "layers/init.h"

namespace st {

namespace {
std::string joined(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}
}  // namespace

int64_t CharConvBankOptions::total_filters() const {
  int64_t f = 0;
  for (int64_t n : filters) f += n;
  return f;
}

void CharConvBankOptions::validate() const {
  ST_CHECK(embedding >= 1, "CharConvBank: embedding must be positive, got " << embedding);
  ST_CHECK(!widths.empty(), "CharConvBank: widths is empty");
  ST_CHECK(widths.size() == filters.size(), "CharConvBank: " << widths.size() << " widths (" << joined(widths)
                                                             << ") but " << filters.size() << " filter counts ("
                                                             << joined(filters) << ")");
  std::set<int64_t> seen;
  for (size_t i = 0; i < widths.size(); ++i) {
    ST_CHECK(widths[i] >= 1, "CharConvBank: width " << widths[i] << " must be positive (widths " << joined(widths) << ")");
    ST_CHECK(seen.insert(widths[i]).second, "CharConvBank: width " << widths[i] << " appears twice (widths "
                                                                   << joined(widths) << ")");
    ST_CHECK(filters[i] >= 1, "CharConvBank: filters " << filters[i] << " for width " << widths[i]
                                                       << " must be positive");
  }
}

CharConvBank::CharConvBank(const CharConvBankOptions& opt, Generator& gen) : opt_(opt) {
  opt_.validate();
  for (size_t i = 0; i < opt_.widths.size(); ++i) {
    const int64_t w = opt_.widths[i], f = opt_.filters[i];
    const double bound = 1.0 / std::sqrt(static_cast<double>(w * opt_.embedding));
    Tensor weight = Tensor::empty({f, w, opt_.embedding}), bias = Tensor::empty({f});
    init::uniform(weight, gen, bound);
    init::uniform(bias, gen, bound);
    const std::string name = "width" + std::to_string(w);
    weights_.push_back(&register_parameter(name + ".weight", weight));
    biases_.push_back(&register_parameter(name + ".bias", bias));
  }
}

Tensor CharConvBank::forward(const Tensor& x) {
  ST_CHECK(x.dim() == 3 && x.size(2) == opt_.embedding,
           "CharConvBank: expected [N, L, " << opt_.embedding << "], got " << shape_str(x.shape()));
  std::vector<Tensor> parts;
  for (size_t i = 0; i < weights_.size(); ++i) {
    ST_CHECK(opt_.widths[i] <= x.size(1), "CharConvBank: width " << opt_.widths[i] << " is longer than the words ("
                                                                 << shape_str(x.shape()) << ")");
    parts.push_back(tanh(conv_max_over_time(x, *weights_[i], *biases_[i])));
  }
  return parts.size() == 1 ? parts[0] : concat(parts, 1);
}

std::string CharConvBank::describe() const {
  return "CharConvBank(embedding " + std::to_string(opt_.embedding) + ", widths " + joined(opt_.widths) +
         ", filters " + joined(opt_.filters) + ")";
}

LayerCost CharConvBank::cost(const std::vector<CallShapes>& calls) const {
  LayerCost c;
  c.type = "CharConvBank";
  c.detail = std::to_string(opt_.embedding) + "->" + std::to_string(opt_.total_filters()) + " w" + joined(opt_.widths);
  for (const CallShapes& call : calls) {
    const Shape& in = call.inputs.at(0);  // [N, L, E]
    for (size_t i = 0; i < opt_.widths.size(); ++i)
      c.mults += in[0] * opt_.filters[i] * (in[1] - opt_.widths[i] + 1) * opt_.widths[i] * opt_.embedding;
  }
  c.adds = c.adds_nonzero = c.mults;
  c.add_all_params(*this);
  return c;
}

}  // namespace st
