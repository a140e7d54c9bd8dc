#pragma once
// Countable: a layer that reports its own inference cost (strassennets.md §6, docs/counting.md):
// multiplications, additions and model size for the calls it saw in one forward pass.
//
// count_model (analysis/op_count.h) records every call's shapes with a LayerObserver
// (layers/layer.h), walks the module tree, gives each Countable its calls and sums the costs. It
// does not descend into a Countable: the cost covers the layer's submodules too (a Strassen
// layer's hidden batch norm, an LSTM's gate products). A module with parameters that is not
// Countable is counted by its own parameters at 32 bits and no operations.
//
// Implemented by Conv2d, Linear, TernaryConv2d, TernaryLinear, BatchNorm and every Strassen layer
// (layers/strassen_layer.h); the formulas are in each layer's header and in docs/counting.md.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace st {

// One layer's cost, summed over its calls (at the batch of each call).
struct LayerCost {
  std::string type;             // "Conv2d", "StrassenConv2d", "StrassenConv2d (dense)", "BatchNorm", ...
  std::string detail;           // geometry, e.g. "3x3 s2 64->128" or "folded"
  int64_t mults = 0, adds = 0;  // of one inference
  int64_t adds_nonzero = 0;     // adds without the zero entries of the ternary matrices (= adds without any)
  int64_t params = 0;           // parameter elements the layer's current mode uses
  int64_t ternary_params = 0;   // of which stored as ternary entries, 2 bits each
  int64_t bits = 0;             // 2·ternary_params + 32·(params − ternary_params)
  int64_t unused_params = 0;    // registered parameter elements the current mode does not use

  // Adds `numel` used parameter elements, ternary (2 bits each) or full precision (32 bits).
  void add_params(int64_t numel, bool ternary);
  // Adds every parameter of `module`, its submodules' included, at 32 bits.
  void add_all_params(const Module& module);
  // Adds the counts of `other` (type and detail stay).
  LayerCost& operator+=(const LayerCost& other);
};

class Countable {
 public:
  virtual ~Countable() = default;
  // The cost of `calls`: every call of the layer in one forward pass, in order. Each call holds
  // the shapes the layer's entry point reports (Layer::operator(): one input, one output). Empty
  // only when needs_calls() is false and the layer was not called.
  virtual LayerCost cost(const std::vector<CallShapes>& calls) const = 0;
  // Whether counting needs at least one call: count_model throws for a layer that needs calls
  // and was not seen, rather than count it as zero. BatchNorm (folded into the layer before it,
  // parameters only) does not.
  virtual bool needs_calls() const { return true; }
};

// Elements of the first output, summed over the calls (the outputs computed).
int64_t output_elements(const std::vector<CallShapes>& calls);

}  // namespace st
