#pragma once
// Learning-rate schedules as pure functions of training progress, so that a resumed run gets
// exactly the learning rate an uninterrupted one would (only ReduceOnPlateau keeps state).
#include <cstdint>
#include <string>
#include <vector>

namespace st {

struct LrScheduleOptions {
  enum class Kind { Constant, MultiStep, Step, Cosine } kind = Kind::Constant;
  double base_lr = 0.1;
  std::vector<int64_t> milestones;  // MultiStep: multiply by gamma after each of these epochs
  int64_t step_size = 0;            // Step: multiply by gamma every step_size epochs
  double gamma = 0.1;
  int64_t total_epochs = 0;         // Cosine: from base_lr down to min_lr over total_epochs
  double min_lr = 0.0;
  double warmup_epochs = 0;         // linear warm-up from warmup_start_factor * lr, per step
  double warmup_start_factor = 0.1;
};

class LrSchedule {
 public:
  explicit LrSchedule(const LrScheduleOptions& opt);
  // Learning rate at `epoch` (0-based, fractional: epoch 2.5 is half-way through the third).
  double lr(double epoch) const;

 private:
  LrScheduleOptions opt_;
};

// Multiplies the learning rate by `factor` whenever the monitored metric improves by less than
// `threshold` (relative, or absolute with absolute_threshold) over the best value seen, after
// `patience` such epochs in a row. mode "min" (perplexity, loss) or "max" (accuracy).
struct PlateauOptions {
  std::string mode = "min";
  double factor = 0.5;
  double threshold = 1e-4;
  bool absolute_threshold = false;
  int64_t patience = 0;
  double min_lr = 0.0;
};

class ReduceOnPlateau {
 public:
  explicit ReduceOnPlateau(const PlateauOptions& opt);
  // Reports the epoch's metric; returns the learning rate to use from now on.
  double observe(double metric, double current_lr);

  // State for checkpoints.
  double best() const { return best_; }
  int64_t bad_epochs() const { return bad_epochs_; }
  bool has_best() const { return has_best_; }
  void set_state(bool has_best, double best, int64_t bad_epochs);

 private:
  PlateauOptions opt_;
  bool has_best_ = false;
  double best_ = 0;
  int64_t bad_epochs_ = 0;
};

}  // namespace st
