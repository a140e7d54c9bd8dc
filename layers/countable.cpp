#include "layers/countable.h"

#include "core/error.h"

namespace st {

void LayerCost::add_params(int64_t numel, bool ternary) {
  params += numel;
  if (ternary) ternary_params += numel;
  bits += numel * (ternary ? 2 : 32);
}

void LayerCost::add_all_params(const Module& module) {
  for (auto& [name, t] : module.named_parameters()) add_params(t.numel(), false);
}

LayerCost& LayerCost::operator+=(const LayerCost& other) {
  mults += other.mults;
  adds += other.adds;
  adds_nonzero += other.adds_nonzero;
  params += other.params;
  ternary_params += other.ternary_params;
  bits += other.bits;
  unused_params += other.unused_params;
  return *this;
}

int64_t output_elements(const std::vector<CallShapes>& calls) {
  int64_t n = 0;
  for (const CallShapes& call : calls) {
    ST_CHECK(!call.outputs.empty(), "count: a layer call reported no output shape");
    n += shape_numel(call.outputs[0]);
  }
  return n;
}

}  // namespace st
