#include "layers/embedding.h"

#include <algorithm>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/embedding.h"
#include "layers/layer.h"

namespace st {

Embedding::Embedding(const EmbeddingOptions& opt, Generator& gen) : opt_(opt) {
  ST_CHECK(opt.num_embeddings > 0 && opt.dim > 0, "Embedding: num_embeddings " << opt.num_embeddings << " and dim "
                                                                               << opt.dim << " must be positive");
  ST_CHECK(opt.padding_index >= -1 && opt.padding_index < opt.num_embeddings,
           "Embedding: padding_index " << opt.padding_index << " is outside [-1, " << opt.num_embeddings << ")");
  weight_ = &register_parameter("weight", rand_normal({opt.num_embeddings, opt.dim}, gen));
  zero_padding_row();
}

Tensor Embedding::forward(const std::vector<int64_t>& ids, const Shape& index_shape) {
  Tensor y = embedding(*weight_, ids, index_shape);
  const int64_t p = opt_.padding_index;
  if (p >= 0 && std::find(ids.begin(), ids.end(), p) != ids.end()) {
    // Multiplying by a 0/1 mask [index_shape..., 1] zeroes the padding vectors and their gradient.
    Shape mask_shape = index_shape;
    mask_shape.push_back(1);
    Tensor mask = Tensor::empty(mask_shape);
    real* pm = mask.data();
    for (size_t i = 0; i < ids.size(); ++i) pm[i] = ids[i] == p ? real(0) : real(1);
    y = mul(y, mask);
  }
  if (Layer::observed()) Layer::report_call(*this, CallShapes{{index_shape}, {y.shape()}});
  return y;
}

void Embedding::zero_padding_row() {
  if (opt_.padding_index < 0) return;
  real* row = weight_->data() + opt_.padding_index * opt_.dim;
  std::fill(row, row + opt_.dim, real(0));
}

std::string Embedding::describe() const {
  return "Embedding(" + std::to_string(opt_.num_embeddings) + ", " + std::to_string(opt_.dim) +
         (opt_.padding_index >= 0 ? ", padding " + std::to_string(opt_.padding_index) : "") + ")";
}

}  // namespace st
