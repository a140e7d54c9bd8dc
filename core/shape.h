#pragma once
// Shapes: a list of non-negative extents, outermost first (row-major; NCHW for images).
#include <cstdint>
#include <string>
#include <vector>

namespace st {

using Shape = std::vector<int64_t>;

// "[128, 16, 32, 32]"
std::string shape_str(const Shape& shape);
// Product of the extents (1 for a scalar shape []). Throws st::Error naming the shape for a
// negative extent or a product above kMaxNumel: every element count is then small enough that
// its byte count (numel × sizeof(double)) cannot overflow either.
constexpr int64_t kMaxNumel = int64_t(1) << 60;
int64_t shape_numel(const Shape& shape);
// Row-major strides in elements.
std::vector<int64_t> contiguous_strides(const Shape& shape);
// NumPy broadcasting: align trailing axes; extents must match or be 1. Throws naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Maps a possibly negative axis into [0, ndim); throws naming the axis and the shape.
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op, const Shape& shape);

}  // namespace st
