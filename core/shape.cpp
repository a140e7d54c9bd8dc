#include "core/shape.h"

#include <algorithm>

#include "core/error.h"

namespace st {

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t shape_numel(const Shape& shape) {
  // The product is checked before each multiplication: extents come from files and configs.
  bool empty = false;
  for (int64_t d : shape) {
    ST_CHECK(d >= 0, "shape " << shape_str(shape) << " has a negative extent");
    empty = empty || d == 0;
  }
  if (empty) return 0;
  int64_t n = 1;
  for (int64_t d : shape) {
    ST_CHECK(n <= kMaxNumel / d, "shape " << shape_str(shape) << " has more than 2^60 elements");
    n *= d;
  }
  return n;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    // Unsigned: an empty tensor ([0, 2^40, 2^40]) may have a stride product past int64; its
    // strides are never used to address an element, so wrapping is harmless where overflow is UB.
    s = static_cast<int64_t>(static_cast<uint64_t>(s) * static_cast<uint64_t>(shape[i]));
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    ST_CHECK(da == db || da == 1 || db == 1,
             "shapes " << shape_str(a) << " and " << shape_str(b) << " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op, const Shape& shape) {
  const int64_t a = axis < 0 ? axis + ndim : axis;
  ST_CHECK(a >= 0 && a < ndim, op << ": axis " << axis << " is out of range for shape " << shape_str(shape));
  return a;
}

}  // namespace st
