#pragma once
// Operation and model-size accounting (strassennets.md §6; docs/counting.md): per layer, the
// multiplications and additions of one inference, the parameters the layer's current mode uses
// and their storage in bits, and their sums over the model.
//
// Every countable layer reports its own cost (Countable, layers/countable.h; the formulas are in
// the layers' headers: Conv2d, Linear, TernaryConv2d, TernaryLinear, BatchNorm, the Strassen
// layers). This file finds the calls each layer makes, walks the module tree, asks each
// Countable for its cost and sums the rows. A module with parameters that is not Countable gets
// a row with its own parameters at 32 bits and no operations (its submodules are walked).
//
// Conventions shared by the layers: a Strassen layer in dense mode counts as the layer it
// replaces; every SPN mode is counted as the deployed network, W_b and W_c ternary (spn_fp is the
// first training phase; ternary_b / ternary_c, the one-sided ablations, are counted as fully
// ternary too). adds_nonzero skips the zero entries of the ternary W_b, W_c (meaningful for
// trained weights, strassen count --checkpoint). Not counted, as in the paper: residual
// additions, ReLU, pooling, the zero-padding shortcut, the hidden batch norm's shift (folded into
// the output's constant term). Model size: ternary entries at 2 bits, every other used parameter
// at 32 bits; running batch-norm statistics are buffers, not parameters; the paper's size axis
// ("MB") is bits / 2^20.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/countable.h"
#include "layers/layer.h"

namespace st {

// One row: a layer's cost (type, detail, counts; unused_params: its parameters left out) and
// where it sits.
struct LayerCount : LayerCost {
  std::string name;  // dotted module name, "stage2.0.conv1" ("" for the root module)
  Shape output;      // first output shape of the (last) call; empty if never called
  int64_t calls = 0;
};

struct ModelCount {
  Shape input;
  std::vector<LayerCount> layers;  // module-tree order
  LayerCount total;                // sums over layers (name "total")
  int64_t unused_params = 0;       // registered parameter elements the current modes do not use
  int64_t strassen_layers = 0, dense_strassen_layers = 0;  // Strassen layers, and those in dense mode
  double size_mbits() const { return static_cast<double>(total.bits) / 1048576.0; }  // bits / 2^20
  int64_t size_bytes() const { return (total.bits + 7) / 8; }
};

// Counts `model` for one input of shape `input` (e.g. [1, 3, 224, 224]): runs one forward pass on
// zeros in evaluation mode without gradients, recording every reported call's shapes through a
// LayerObserver (layers/layer.h). The Strassen layers run that pass in dense mode (the shapes are
// the same, the pass as cheap as the original network); their modes and the model's training
// flag are restored afterwards. Throws st::Error when a Countable layer that needs calls (all
// but BatchNorm) was never called through Layer::operator() (it could not be counted).
ModelCount count_model(Layer& model, const Shape& input);

}  // namespace st
