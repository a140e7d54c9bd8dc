#include "core/ops/embedding.h"

#include <algorithm>
#include <cstring>

#include "core/autograd.h"
#include "core/error.h"
#include "core/kernels/parallel.h"
#include "core/ops/profiler.h"

namespace st {

namespace {

// out[i, :] = weight[idx[i], :] for i < n; weight [V, D], out [n, D].
void embedding_forward(const real* weight, const int64_t* idx, int64_t n, int64_t D, real* out) {
  parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, D)), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) std::memcpy(out + i * D, weight + idx[i] * D, sizeof(real) * D);
  });
}

// dweight[idx[i], :] += dout[i, :]. Repeated indices hit the same row, so threads split the D
// columns (each owns a column range of every row) rather than the indices: no two threads ever
// write the same element, and the summation order per element is fixed.
void embedding_backward(const real* dout, const int64_t* idx, int64_t n, int64_t D, real* dweight) {
  // Grain D + 1 keeps small scatters on one thread.
  parallel_for(D, n * D > 32768 ? 1 : D + 1, [&](int64_t s, int64_t e) {
    for (int64_t i = 0; i < n; ++i) {
      const real* src = dout + i * D;
      real* dst = dweight + idx[i] * D;
      for (int64_t j = s; j < e; ++j) dst[j] += src[j];
    }
  });
}

}  // namespace

Tensor embedding(const Tensor& weight, const std::vector<int64_t>& indices, const Shape& index_shape) {
  ProfileScope prof("embedding");
  ST_CHECK(weight.defined() && weight.dim() == 2,
           "embedding: expected weight [V, D], got " << (weight.defined() ? shape_str(weight.shape()) : "undefined"));
  const int64_t V = weight.size(0), D = weight.size(1);
  const int64_t n = static_cast<int64_t>(indices.size());
  ST_CHECK(n == shape_numel(index_shape), "embedding: " << n << " indices for index shape " << shape_str(index_shape));
  for (int64_t i = 0; i < n; ++i)
    ST_CHECK(indices[i] >= 0 && indices[i] < V, "embedding: index " << indices[i] << " at position " << i
                                                                    << " is out of range for V = " << V
                                                                    << " (weight " << shape_str(weight.shape()) << ")");
  Shape out_shape = index_shape;
  out_shape.push_back(D);
  Tensor out = Tensor::empty(out_shape);
  embedding_forward(weight.data(), indices.data(), n, D, out.data());
  if (!needs_graph({&weight})) return out;
  record_node("embedding", {weight}, {out}, [weight, indices, n, D](const std::vector<Tensor>& g) {
    embedding_backward(g[0].data(), indices.data(), n, D, grad_buffer(weight).data());
  });
  return out;
}

}  // namespace st
