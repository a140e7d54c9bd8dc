#pragma once
// TrainState: everything besides the model's weights that a run needs to continue exactly where
// it stopped — written into every checkpoint of `strassen train` and read back by --resume.
//
// Text entries (a checkpoint's `texts`): epoch, step, phase, phase_name, strassen_mode, lr,
// plateau_has_best, plateau_best, plateau_bad, best_metric, seed, threads, world_size, and the
// last evaluation as test_<metric> (test_loss, test_top1, ...). Tensors: the optimiser state
// as "optim.momentum.<parameter name>". read_train_state checks every entry: a missing key, a
// value that is not a number of the right kind, or one out of range (a negative epoch) is a
// one-line st::Error naming the file, the key and the value.
//
// Randomness needs no state beyond the seed: initialisation, shuffling, augmentation and dropout
// are pure functions of (seed, epoch, position).
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"

namespace st {

struct TrainState {
  int64_t epoch = 0;  // epochs completed, counted over all phases
  int64_t step = 0;   // steps completed within epoch `epoch` (0: at its start)
  int64_t phase = 0;  // index of the phase the state belongs to
  std::string phase_name;
  std::string strassen_mode;  // the phase's Strassen mode; empty without Strassen layers
  double lr = 0;              // the plateau schedule's current rate
  bool plateau_has_best = false;
  double plateau_best = 0;
  int64_t plateau_bad = 0;
  double best_metric = -std::numeric_limits<double>::infinity();  // best monitored value of the phase
  std::vector<std::pair<std::string, double>> last_eval;  // test metrics after `epoch`, e.g. {"top1", 0.9}
  uint64_t seed = 0;
  int64_t threads = 1, world_size = 1;
  std::vector<std::pair<std::string, Tensor>> momentum;  // by parameter name; undefined: none yet
};

void write_train_state(const TrainState& state, Checkpoint* ckpt);
TrainState read_train_state(const Checkpoint& ckpt);

// Checked conversions of a checkpoint's text entry (the messages name ckpt.source and the key).
int64_t text_int(const Checkpoint& ckpt, const std::string& key, int64_t min, int64_t max);
uint64_t text_uint64(const Checkpoint& ckpt, const std::string& key);
double text_double(const Checkpoint& ckpt, const std::string& key);

}  // namespace st
