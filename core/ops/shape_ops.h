#pragma once
// Shape manipulation. reshape/flatten and narrow along the outermost non-unit axis are views
// (shared storage); permute/transpose and other narrows copy into contiguous memory.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace st {

// One extent may be -1 (inferred). Throws naming both shapes when numel differs.
Tensor reshape(const Tensor& a, const Shape& shape);
// Merges axes [start_axis, end) into one: [N,C,H,W] -> [N, C*H*W] for start_axis 1.
Tensor flatten(const Tensor& a, int64_t start_axis = 1);
Tensor unsqueeze(const Tensor& a, int64_t axis);
Tensor squeeze(const Tensor& a, int64_t axis);  // the axis must have extent 1

// out.shape[i] = a.shape[perm[i]].
Tensor permute(const Tensor& a, const std::vector<int64_t>& perm);
Tensor transpose(const Tensor& a, int64_t axis0, int64_t axis1);

// Elements [start, start + length) along `axis`.
Tensor narrow(const Tensor& a, int64_t axis, int64_t start, int64_t length);
// Index `index` along `axis`, removing that axis.
Tensor select(const Tensor& a, int64_t axis, int64_t index);
// Pieces of the given sizes along `axis` (sizes must add up to the extent).
std::vector<Tensor> split(const Tensor& a, const std::vector<int64_t>& sizes, int64_t axis);
// Joins tensors along `axis`; every other extent must match (the error names the shapes).
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis);
// The option-A ResNet shortcut in one pass: x [N, C, H, W] subsampled with `stride` and padded
// with zero channels, y [N, before + C + after, ceil(H / stride), ceil(W / stride)] with
//   y[n, before + c, i, j] = x[n, c, i * stride, j * stride]   and zeros in the added channels.
// The backward gathers the gradient of the middle channels back onto the sampled positions.
Tensor subsample_pad_channels(const Tensor& x, int64_t stride, int64_t before, int64_t after);
// Joins tensors of one shape along a new axis.
Tensor stack(const std::vector<Tensor>& tensors, int64_t axis = 0);

}  // namespace st
