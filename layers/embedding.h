#pragma once
// Embedding: a table of learned vectors looked up by integer id (core/ops/embedding.h as a layer).
//   ids: numel(index_shape) entries in [0, num_embeddings) -> [index_shape..., dim]
//   weight [num_embeddings, dim], initialised N(0, 1) as PyTorch's nn.Embedding.
// With a padding index p >= 0 the id p looks up a zero vector and its row receives no gradient
// (PyTorch's padding_idx; Kim et al. zero the padding character's row after every update, which
// comes to the same under plain SGD). The row itself is zeroed at construction and by
// zero_padding_row(), but its values are never read.
//
// Not a Layer: its input is ids, not a tensor. It reports its calls to the thread's LayerObserver
// as (index_shape) -> (output shape).
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/module.h"

namespace st {

struct EmbeddingOptions {
  int64_t num_embeddings = 0, dim = 0;
  int64_t padding_index = -1;  // -1: none; else in [0, num_embeddings)
};

class Embedding : public Module {
 public:
  // Throws st::Error for non-positive sizes or a padding index outside [-1, num_embeddings).
  Embedding(const EmbeddingOptions& opt, Generator& gen);
  // Throws st::Error (from the op) for an id out of range or a count that does not match.
  Tensor forward(const std::vector<int64_t>& ids, const Shape& index_shape);
  std::string describe() const override;
  Tensor& weight() { return *weight_; }
  const EmbeddingOptions& options() const { return opt_; }
  // Zeroes the padding row (after the parameters are re-initialised); no-op without padding.
  void zero_padding_row();

 private:
  EmbeddingOptions opt_;
  Tensor* weight_ = nullptr;
};

}  // namespace st
