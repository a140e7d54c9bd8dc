#pragma once
// StrassenLayer: what every StrassenNets layer (strassennets.md §2) offers, whatever its inputs.
// Such a layer replaces one or more products with fixed weights by sum-product networks
// y = W_c (ã ⊙ W_b x), whose ternary W_b and W_c cost additions only. StrassenConv2d and
// StrassenLinear (layers/strassen.h) implement it. A layer built of several SPNs implements it
// once for all of them: an SPN LSTM switches the SPNs of both products of every gate together,
// lists each of their W_b and W_c in ternary_matrices() and counts both products of every gate
// for every step of each call in cost(). Layers with several inputs or outputs report their calls
// with Layer::report_call (layers/layer.h) and read them back from the CallShapes given to cost().
//
// Modes (the reference code's switch):
//   Dense (0)          the original layer, with its own full-precision weights
//   SpnFloat (1)       SPN, W_b and W_c full precision
//   SpnTernary (2)     W_b and W_c ternary (straight-through gradients to the latent weights)
//   TernaryB (3)       only W_b ternary       TernaryC (4)   only W_c ternary
//   TernaryFrozen (5)  W_b and W_c ternary and fixed: only ã, the hidden BN and the bias train
//
// An implementation promises:
//   - every mode takes and returns the same shapes: count_model (analysis/op_count.h) finds the
//     shapes with one pass in dense mode and restores the modes afterwards;
//   - fold_ternary_scales() leaves W_b and W_c exactly {−1, 0, 1} and the evaluation-mode forward
//     unchanged, or throws naming the layer and the reason (mode, rule);
//   - cost() (Countable) counts dense mode as the layer it replaces and every SPN mode as
//     deployed, W_b and W_c ternary (docs/counting.md);
//   - it owns its SPNs: the walks below, like count_model's, do not descend into a StrassenLayer.
#include <string>
#include <vector>

#include "layers/countable.h"
#include "layers/module.h"
#include "layers/ternary_weight.h"

namespace st {

enum class StrassenMode { Dense = 0, SpnFloat = 1, SpnTernary = 2, TernaryB = 3, TernaryC = 4, TernaryFrozen = 5 };

// "dense", "spn_fp", "spn_ternary", "ternary_b", "ternary_c", "ternary_frozen".
const char* strassen_mode_name(StrassenMode mode);
// The inverse of strassen_mode_name; throws naming an unknown name.
StrassenMode parse_strassen_mode(const std::string& name);
// Whether the forward of `mode` uses a ternary W_b (spn_ternary, ternary_b, ternary_frozen) or a
// ternary W_c (spn_ternary, ternary_c, ternary_frozen).
bool uses_ternary_b(StrassenMode mode);
bool uses_ternary_c(StrassenMode mode);

class StrassenLayer : public Countable {
 public:
  virtual StrassenMode mode() const = 0;
  // Switches every SPN of the layer to `mode`; takes effect at the next forward.
  virtual void set_mode(StrassenMode mode) = 0;
  // Export form: W_b and W_c replaced by their {−1, 0, 1} codes, their scales moved into ã (and
  // the hidden batch norm's running statistics) so that the evaluation-mode forward is unchanged.
  // Needs both matrices ternary (spn_ternary or ternary_frozen) and a rule whose quantizer maps
  // codes to themselves (TWN, fixed with step 1); throws naming the layer otherwise.
  virtual void fold_ternary_scales() = 0;
  // Every ternary matrix of the layer (W_b, W_c of each SPN, in registration order) as its current
  // weights quantize under the layer's rule, named as in the layer's named_parameters().
  virtual std::vector<TernaryMatrix> ternary_matrices() const = 0;
};

// Every StrassenLayer in `model` (the model itself included), in module-tree order.
std::vector<StrassenLayer*> find_strassen_layers(Module& model);

// Folds the ternary scales of every Strassen layer in `model` (StrassenLayer::fold_ternary_scales;
// all must be in a mode with both matrices ternary, spn_ternary or ternary_frozen, with the TWN
// rule or the fixed rule with step 1): afterwards every W_b and W_c holds exactly {−1, 0, 1} and
// the model computes the same evaluation-mode outputs. The first layer that cannot be folded
// throws, naming itself and the reason (TTQ's two scales per matrix cannot be folded into ã).
// Returns the layers folded.
int64_t fold_ternary_scales(Module& model);

// Switches every Strassen layer in `model` to `mode`; returns how many it found.
int64_t set_strassen_mode(Module& model, StrassenMode mode);

// A Strassen layer's parameters in `cost` (a helper for StrassenLayer::cost). Names are those of
// layer.named_parameters(). Dense mode uses the `dense` weights and the parameters `shared` by
// both forms (a bias) at 32 bits; SPN modes use every parameter but the `dense` ones, the
// `ternary` ones at 2 bits per entry. The others go to cost->unused_params.
void add_strassen_parameters(const Module& layer, StrassenMode mode, const std::vector<std::string>& dense,
                             const std::vector<std::string>& shared, const std::vector<std::string>& ternary,
                             LayerCost* cost);

}  // namespace st
