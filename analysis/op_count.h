#pragma once
// Operation and model-size accounting (strassennets.md §6; docs/counting.md): per layer, the
// multiplications and additions of one inference, the parameters the layer's current mode uses
// and their storage in bits.
//
// Counted layers (N = batch, 1 in practice; every spatial size is the layer's real one):
//   Conv2d          mults = adds = N·H_out·W_out·c_out·(c_in/groups)·k²   (multiply-accumulates:
//                   the batch norm that follows and the bias fold into the weights)
//   Linear          mults = adds = N·in·out
//   StrassenConv2d  mults = N·H_hid·W_hid·r + N·H_out·W_out·c_out
//                   adds  = N·H_hid·W_hid·r·(c_in/g)·K² + N·H_out·W_out·c_out·r
//                   H_hid×W_hid: output of the W_b convolution (StrassenConv2d::geometry),
//                   K = (p−1)s + k. One multiplication per hidden unit (ã, the hidden batch norm
//                   and the W_b scale folded into one factor), one per output (the output scale or
//                   the batch norm that follows: a ternary W_c cannot absorb it); W_b and W_c are
//                   dense ternary matrices, each entry one addition (zeros included).
//   StrassenLinear  mults = N·(r + out), adds = N·(r·in + out·r)
//   BatchNorm       no operations (folded into the layer before it); γ, β are parameters
//   A Strassen layer in dense mode counts as the layer it replaces. Every SPN mode is counted
//   as the deployed network, W_b and W_c ternary (spn_fp is the first training phase;
//   ternary_b / ternary_c, the one-sided ablations, are counted as fully ternary too).
// adds_nonzero: the same additions when the zero entries of the ternary W_b, W_c (the pattern
// the layer's ternary rule gives its current weights) are skipped; equal to adds elsewhere.
// Meaningful for trained weights (strassen count --checkpoint).
// Not counted, as in the paper: residual additions, ReLU, pooling, the zero-padding shortcut,
// the hidden batch norm's shift (folded into the output's constant term).
//
// Model size: W_b and W_c at 2 bits per entry, every other parameter the mode uses at 32 bits
// (ã, the hidden batch norm's β, the network's batch-norm γ/β, biases, uncompressed layers).
// Parameters the mode does not use are left out (reported separately): a Strassen layer's dense
// `weight` in SPN modes, its W_b, W_c, ã and hidden batch norm in dense mode. Running batch-norm
// statistics are buffers, not parameters. The paper's size axis ("MB") is bits / 2^20.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace st {

struct LayerCount {
  std::string name;    // dotted module name, "stage2.0.conv1" ("" for the root module)
  std::string type;    // "Conv2d", "Linear", "StrassenConv2d", "StrassenLinear", "BatchNorm", or the
                       // describe() of another module with parameters (its operations not counted)
  std::string detail;  // geometry, e.g. "3x3 s2 64->128" or "3x3 s1 64->64, r 128 p 2 g 1 K 4, hidden 28x28"
  Shape output;        // output shape of the (last) call; empty if never called
  int64_t calls = 0;
  int64_t mults = 0, adds = 0;  // summed over calls
  int64_t adds_nonzero = 0;     // adds without the zero ternary entries
  int64_t params = 0;           // parameter elements the current mode uses
  int64_t ternary_params = 0;   // of which stored as ternary entries (W_b, W_c)
  int64_t bits = 0;             // 2·ternary_params + 32·(params − ternary_params)
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
// zeros in evaluation mode without gradients, recording every layer call's shapes through a
// LayerObserver (layers/layer.h). The Strassen layers run that pass in dense mode (the shapes are
// the same, the pass as cheap as the original network); their modes and the model's training
// flag are restored afterwards. Throws st::Error when a Conv2d, Linear or Strassen layer of the
// model was never called through Layer::operator() (it could not be counted).
ModelCount count_model(Layer& model, const Shape& input);

}  // namespace st
