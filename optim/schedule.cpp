#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace st {

LrSchedule::LrSchedule(const LrScheduleOptions& opt) : opt_(opt) {
  ST_CHECK(opt.base_lr >= 0, "schedule: base learning rate " << opt.base_lr << " is negative");
  ST_CHECK(opt.kind != LrScheduleOptions::Kind::Step || opt.step_size > 0,
           "schedule: step_size " << opt.step_size << " must be positive for a step schedule");
  ST_CHECK(opt.kind != LrScheduleOptions::Kind::Cosine || opt.total_epochs > 0,
           "schedule: total_epochs " << opt.total_epochs << " must be positive for a cosine schedule");
  ST_CHECK(std::is_sorted(opt.milestones.begin(), opt.milestones.end()), "schedule: milestones must be increasing");
  ST_CHECK(opt.warmup_epochs >= 0, "schedule: warmup_epochs " << opt.warmup_epochs << " is negative");
}

double LrSchedule::lr(double epoch) const {
  using Kind = LrScheduleOptions::Kind;
  double lr = opt_.base_lr;
  const int64_t whole = static_cast<int64_t>(std::floor(epoch));
  switch (opt_.kind) {
    case Kind::Constant: break;
    case Kind::MultiStep:
      for (int64_t m : opt_.milestones)
        if (whole >= m) lr *= opt_.gamma;
      break;
    case Kind::Step: lr *= std::pow(opt_.gamma, static_cast<double>(whole / opt_.step_size)); break;
    case Kind::Cosine: {
      const double t = std::min(1.0, epoch / static_cast<double>(opt_.total_epochs));
      lr = opt_.min_lr + 0.5 * (opt_.base_lr - opt_.min_lr) * (1 + std::cos(M_PI * t));
      break;
    }
  }
  if (opt_.warmup_epochs > 0 && epoch < opt_.warmup_epochs) {
    const double f = opt_.warmup_start_factor + (1 - opt_.warmup_start_factor) * (epoch / opt_.warmup_epochs);
    lr *= f;
  }
  return lr;
}

ReduceOnPlateau::ReduceOnPlateau(const PlateauOptions& opt) : opt_(opt) {
  ST_CHECK(opt.mode == "min" || opt.mode == "max", "plateau: mode '" << opt.mode << "' must be \"min\" or \"max\"");
  ST_CHECK(opt.factor > 0 && opt.factor < 1, "plateau: factor " << opt.factor << " must be in (0, 1)");
  ST_CHECK(opt.threshold >= 0, "plateau: threshold " << opt.threshold << " is negative");
  ST_CHECK(opt.patience >= 0, "plateau: patience " << opt.patience << " is negative");
}

double ReduceOnPlateau::observe(double metric, double current_lr) {
  if (!has_best_) {
    has_best_ = true;
    best_ = metric;
    return current_lr;
  }
  const double margin = opt_.absolute_threshold ? opt_.threshold : opt_.threshold * std::fabs(best_);
  const bool improved = opt_.mode == "min" ? metric < best_ - margin : metric > best_ + margin;
  if (opt_.mode == "min" ? metric < best_ : metric > best_) best_ = metric;
  if (improved) {
    bad_epochs_ = 0;
    return current_lr;
  }
  if (++bad_epochs_ > opt_.patience) {
    bad_epochs_ = 0;
    return std::max(opt_.min_lr, current_lr * opt_.factor);
  }
  return current_lr;
}

void ReduceOnPlateau::set_state(bool has_best, double best, int64_t bad_epochs) {
  has_best_ = has_best;
  best_ = best;
  bad_epochs_ = bad_epochs;
}

}  // namespace st
