#pragma once
// Progress display on stderr: a bar redrawn in place with items/s and ETA when stderr is a
// terminal; otherwise plain lines at most every 10 % of the work (logs stay readable).
#include <chrono>
#include <cstdint>
#include <string>

namespace st {

class Progress {
 public:
  Progress(std::string label, int64_t total_steps, int64_t items_per_step, bool enabled = true);
  // Steps done so far and a short status such as "loss 1.234".
  void update(int64_t done, const std::string& status);
  // Ends the display (newline on a terminal).
  void finish(const std::string& status);
  double elapsed_seconds() const;

 private:
  std::string label_;
  int64_t total_, items_per_step_;
  bool enabled_, tty_;
  int64_t last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace st
