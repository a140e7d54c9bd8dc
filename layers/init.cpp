#include "layers/init.h"

#include <cmath>

#include "core/error.h"

namespace st::init {

namespace {
int64_t receptive(const Tensor& w) {
  int64_t r = 1;
  for (int64_t d = 2; d < w.dim(); ++d) r *= w.size(d);
  return r;
}
}  // namespace

int64_t fan_in(const Tensor& w) {
  ST_CHECK(w.dim() >= 2, "fan_in: weight " << shape_str(w.shape()) << " needs at least 2 axes");
  return w.size(1) * receptive(w);
}

int64_t fan_out(const Tensor& w) {
  ST_CHECK(w.dim() >= 2, "fan_out: weight " << shape_str(w.shape()) << " needs at least 2 axes");
  return w.size(0) * receptive(w);
}

void kaiming_normal(Tensor& w, Generator& gen, bool fan_out_mode, double gain) {
  const double fan = static_cast<double>(fan_out_mode ? fan_out(w) : fan_in(w));
  gen.fill_normal(w, 0.0, gain / std::sqrt(fan));
}

void xavier_uniform(Tensor& w, Generator& gen, double gain) {
  const double a = gain * std::sqrt(6.0 / static_cast<double>(fan_in(w) + fan_out(w)));
  gen.fill_uniform(w, -a, a);
}

void uniform(Tensor& w, Generator& gen, double a) { gen.fill_uniform(w, -a, a); }

void constant(Tensor& w, double value) { w.fill_(static_cast<real>(value)); }

}  // namespace st::init
