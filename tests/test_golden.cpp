// Golden tests: our float32 ops against PyTorch 1.13 computed in float64.
//
// The reference files live in tests/golden/ (directory ST_GOLDEN_DIR, set by tests/CMakeLists.txt)
// and are written by tools/make_golden.py, whose docstring describes the cases. Format (version 1):
//
//   # comment lines (the case's settings)
//   st-golden 1
//   <name> <ndim> <d0> ... <d{ndim-1}>
//   <numel whitespace-separated values, row-major, 9 significant digits>
//   ...
//
// Each case stores the inputs and parameters, the forward output(s), a random upstream gradient U
// and the gradients (grad_<input>) of L = sum(out * U). We run our op on the same inputs, call
// backward(U), and compare the output and every gradient. An element passes when
//
//   |ours - golden| <= 1e-4 * |golden| + 1e-6 * max(1, max |golden| over the tensor)
//
// i.e. 1e-4 relative with a tiny absolute floor: elements near zero come from cancellation, and
// there float32 rounding is relative to the scale of the tensor, not to the element.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/ops.h"
#include "layers/strassen.h"

using namespace st;

namespace {

constexpr double kRelTol = 1e-4;
constexpr double kAbsFloor = 1e-6;

struct GoldenTensor {
  Shape shape;
  std::vector<double> values;
};

// One golden file: named tensors of doubles.
class GoldenCase {
 public:
  // Loads ST_GOLDEN_DIR/<name>.txt; a missing or malformed file fails the test, naming the file.
  explicit GoldenCase(const std::string& name) : path_(std::string(ST_GOLDEN_DIR) + "/" + name + ".txt") {
    std::ifstream in(path_);
    if (!in) FAIL("golden file missing: " << path_ << " (regenerate: /usr/bin/python3 tools/make_golden.py tests/golden)");
    std::string line;
    while (std::getline(in, line) && (line.empty() || line[0] == '#')) {
    }
    if (line != "st-golden 1") FAIL(path_ << ": expected header 'st-golden 1', got '" << line << "'");
    std::string tname;
    int64_t ndim;
    while (in >> tname) {
      if (!(in >> ndim) || ndim < 0) FAIL(path_ << ": bad ndim for tensor '" << tname << "'");
      GoldenTensor t;
      t.shape.resize(ndim);
      for (auto& d : t.shape)
        if (!(in >> d) || d < 0) FAIL(path_ << ": bad shape for tensor '" << tname << "'");
      t.values.resize(shape_numel(t.shape));
      for (auto& v : t.values)
        if (!(in >> v)) FAIL(path_ << ": tensor '" << tname << "' " << shape_str(t.shape) << " is truncated");
      if (!tensors_.emplace(tname, std::move(t)).second) FAIL(path_ << ": duplicate tensor '" << tname << "'");
    }
  }

  const GoldenTensor& get(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) FAIL(path_ << ": no tensor '" << name << "'");
    return it->second;
  }

  // A float tensor with the stored values (a leaf that requires grad when asked).
  Tensor tensor(const std::string& name, bool requires_grad = false) const {
    const GoldenTensor& g = get(name);
    std::vector<real> v(g.values.begin(), g.values.end());
    Tensor t = Tensor::from_vector(g.shape, v);
    if (requires_grad) t.set_requires_grad(true);
    return t;
  }

  // Integral data (labels, indices) stored as a tensor.
  std::vector<int64_t> ints(const std::string& name) const {
    std::vector<int64_t> out;
    for (double v : get(name).values) out.push_back(static_cast<int64_t>(std::llround(v)));
    return out;
  }

  // Compares `ours` with the golden tensor `name` (shape and every element, see the header).
  void check(const std::string& name, const Tensor& ours) const {
    INFO(path_ << ": " << name);
    if (!ours.defined()) {
      FAIL_CHECK("ours is undefined (no gradient reached it?)");
      return;
    }
    const GoldenTensor& g = get(name);
    if (ours.shape() != g.shape) {
      FAIL_CHECK("shape " << shape_str(ours.shape()) << " vs golden " << shape_str(g.shape));
      return;
    }
    double max_abs = 1;
    for (double v : g.values) max_abs = std::max(max_abs, std::fabs(v));
    const std::vector<real> o = ours.to_vector();
    int64_t bad = 0, worst = -1;
    double worst_ratio = 0;  // |error| / tolerance
    for (size_t i = 0; i < o.size(); ++i) {
      const double err = std::fabs(double(o[i]) - g.values[i]);
      const double tol = kRelTol * std::fabs(g.values[i]) + kAbsFloor * max_abs;
      if (!(err <= tol)) ++bad;  // also catches NaN
      const double ratio = err / tol;
      if (worst < 0 || !(ratio <= worst_ratio)) worst = int64_t(i), worst_ratio = ratio;
    }
    if (bad > 0) {
      FAIL_CHECK(std::setprecision(9) << bad << " of " << o.size() << " elements differ; worst at flat index "
                                      << worst << ": ours " << double(o[worst]) << " vs golden " << g.values[worst]
                                      << " (error " << std::fabs(double(o[worst]) - g.values[worst]) << ", "
                                      << worst_ratio << "x the tolerance)");
    } else {
      SUCCEED();
    }
  }

  // Checks grad_<name> against t.grad().
  void check_grad(const std::string& name, const Tensor& t) const { check("grad_" + name, t.grad()); }

 private:
  std::string path_;
  std::map<std::string, GoldenTensor> tensors_;
};

}  // namespace

TEST_CASE("golden conv2d stride 2, padding 1, groups 4, bias", "[golden]") {
  GoldenCase g("conv2d_s2_g4_p1");
  Tensor x = g.tensor("x", true), w = g.tensor("weight", true), b = g.tensor("bias", true);
  Tensor out = conv2d(x, w, b, Conv2dOptions::make(2, 1, 4));
  g.check("out", out);
  out.backward(g.tensor("upstream"));
  g.check_grad("x", x);
  g.check_grad("weight", w);
  g.check_grad("bias", b);
}

TEST_CASE("golden conv_transpose2d kernel 2, stride 2, bias", "[golden]") {
  GoldenCase g("conv_transpose2d_k2_s2");
  Tensor x = g.tensor("x", true), w = g.tensor("weight", true), b = g.tensor("bias", true);
  Tensor out = conv_transpose2d(x, w, b, ConvTranspose2dOptions::make(2, 0));
  g.check("out", out);
  out.backward(g.tensor("upstream"));
  g.check_grad("x", x);
  g.check_grad("weight", w);
  g.check_grad("bias", b);
}

TEST_CASE("golden conv_transpose2d kernel 3, stride 2, padding 1, explicit output size", "[golden]") {
  GoldenCase g("conv_transpose2d_k3_s2_p1_outsize");
  Tensor x = g.tensor("x", true), w = g.tensor("weight", true);
  ConvTranspose2dOptions opt = ConvTranspose2dOptions::make(2, 1);
  opt.output_h = 10, opt.output_w = 8;  // derived 9x7: output padding 1 on both axes
  Tensor out = conv_transpose2d(x, w, Tensor(), opt);
  g.check("out", out);
  out.backward(g.tensor("upstream"));
  g.check_grad("x", x);
  g.check_grad("weight", w);
}

TEST_CASE("golden batch_norm training, with running-stat update", "[golden]") {
  GoldenCase g("batch_norm_train");
  Tensor x = g.tensor("x", true), w = g.tensor("weight", true), b = g.tensor("bias", true);
  Tensor rm = g.tensor("running_mean"), rv = g.tensor("running_var");
  Tensor out = batch_norm(x, w, b, rm, rv, /*training=*/true, BatchNormOptions{real(0.1), real(1e-5)});
  g.check("out", out);
  g.check("running_mean_new", rm);
  g.check("running_var_new", rv);
  out.backward(g.tensor("upstream"));
  g.check_grad("x", x);
  g.check_grad("weight", w);
  g.check_grad("bias", b);
}

TEST_CASE("golden batch_norm evaluation", "[golden]") {
  GoldenCase g("batch_norm_eval");
  Tensor x = g.tensor("x", true), w = g.tensor("weight", true), b = g.tensor("bias", true);
  Tensor rm = g.tensor("running_mean"), rv = g.tensor("running_var");
  Tensor out = batch_norm(x, w, b, rm, rv, /*training=*/false, BatchNormOptions{real(0.1), real(1e-5)});
  g.check("out", out);
  g.check("running_mean", rm);  // evaluation leaves the running stats alone
  g.check("running_var", rv);
  out.backward(g.tensor("upstream"));
  g.check_grad("x", x);
  g.check_grad("weight", w);
  g.check_grad("bias", b);
}

TEST_CASE("golden log_softmax over the last axis", "[golden]") {
  GoldenCase g("log_softmax");
  Tensor x = g.tensor("x", true);
  Tensor out = log_softmax(x, -1);
  g.check("out", out);
  out.backward(g.tensor("upstream"));
  g.check_grad("x", x);
}

TEST_CASE("golden cross_entropy with integer labels", "[golden]") {
  GoldenCase g("cross_entropy");
  Tensor logits = g.tensor("logits", true);
  Tensor out = cross_entropy(logits, g.ints("labels"));
  g.check("out", out);
  out.backward(g.tensor("upstream"));
  g.check_grad("logits", logits);
}

TEST_CASE("golden embedding with repeated indices", "[golden]") {
  GoldenCase g("embedding");
  Tensor w = g.tensor("weight", true);
  Tensor out = embedding(w, g.ints("indices"), g.get("indices").shape);
  g.check("out", out);
  out.backward(g.tensor("upstream"));
  g.check_grad("weight", w);
}

TEST_CASE("golden LSTM layer, gradients from output, h_n and c_n", "[golden]") {
  GoldenCase g("lstm");
  const char* names[] = {"x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"};
  std::map<std::string, Tensor> in;
  for (const char* n : names) in[n] = g.tensor(n, true);
  LstmOutput r = lstm(in["x"], in["h0"], in["c0"], in["w_ih"], in["w_hh"], in["b_ih"], in["b_hh"]);
  g.check("output", r.output);
  g.check("h_n", r.h_n);
  g.check("c_n", r.c_n);
  Tensor loss = add(add(sum(mul(r.output, g.tensor("u_output"))), sum(mul(r.h_n, g.tensor("u_h_n")))),
                    sum(mul(r.c_n, g.tensor("u_c_n"))));
  loss.backward();
  for (const char* n : names) g.check_grad(n, in[n]);
}

// StrassenConv2d against an independent PyTorch implementation of strassennets.md §2
// (tools/make_golden.py: strassen_conv_case), in full precision and with TWN-ternary W_b, W_c.
TEST_CASE("golden StrassenConv2d p 2, g 2, stride 2, odd sizes: spn_fp and spn_ternary", "[golden][strassen]") {
  for (const char* mode : {"spn_fp", "spn_ternary"}) {
    INFO("mode " << mode);
    GoldenCase g(std::string("strassen_conv2d_") + mode);
    Conv2dLayerOptions conv;
    conv.in_channels = 4, conv.out_channels = 6, conv.kernel_h = conv.kernel_w = 3, conv.stride = 2, conv.padding = 1;
    conv.bias = true;
    StrassenOptions o;
    o.hidden = 8, o.out_patch = 2, o.groups = 2, o.mode = parse_strassen_mode(mode);
    Generator gen(1);
    StrassenConv2d layer(conv, o, gen);
    std::map<std::string, std::string> golden_name{{"w_b", "w_b"}, {"w_c", "w_c"}, {"a_hat", "a_hat"},
                                                   {"hidden_bn.bias", "hidden_bn_bias"}, {"bias", "bias"}};
    std::map<std::string, Tensor> params;
    for (auto& [name, t] : layer.named_parameters())
      if (golden_name.count(name)) t.copy_(g.tensor(golden_name[name])), params[name] = t;
    for (auto& [name, t] : layer.named_buffers())
      if (name == "hidden_bn.running_mean") t.copy_(g.tensor("running_mean"));
      else if (name == "hidden_bn.running_var") t.copy_(g.tensor("running_var"));
    layer.train();
    Tensor x = g.tensor("x", true);
    Tensor out = layer(x);
    g.check("out", out);
    for (auto& [name, t] : layer.named_buffers())
      if (name == "hidden_bn.running_mean") g.check("running_mean_new", t);
      else if (name == "hidden_bn.running_var") g.check("running_var_new", t);
    out.backward(g.tensor("upstream"));
    g.check_grad("x", x);
    for (auto& [name, t] : params) g.check_grad(golden_name[name], t);
  }
}
