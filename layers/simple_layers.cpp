#include "layers/simple_layers.h"

#include "core/error.h"
#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/shape_ops.h"

namespace st {

namespace {
std::string pool_text(const char* name, const Pool2dOptions& o) {
  return std::string(name) + "(kernel " + std::to_string(o.kernel_h) + "x" + std::to_string(o.kernel_w) + ", stride " +
         std::to_string(o.stride_h) + (o.pad_h || o.pad_w ? ", padding " + std::to_string(o.pad_h) : "") + ")";
}
}  // namespace

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Flatten::forward(const Tensor& x) { return flatten(x, 1); }

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, opt_); }
std::string MaxPool2d::describe() const { return pool_text("MaxPool2d", opt_); }

Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, opt_); }
std::string AvgPool2d::describe() const { return pool_text("AvgPool2d", opt_); }

Tensor GlobalAvgPool2d::forward(const Tensor& x) { return global_avg_pool2d(x); }

Dropout::Dropout(real p, Generator& gen) : p_(p), gen_(&gen) {
  ST_CHECK(p >= 0 && p < 1, "Dropout: probability " << p << " is outside [0, 1)");
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), *gen_); }

std::string Dropout::describe() const { return "Dropout(" + std::to_string(p_) + ")"; }

}  // namespace st
