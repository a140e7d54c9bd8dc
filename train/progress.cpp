#include "train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace st {

Progress::Progress(std::string label, int64_t total_steps, int64_t items_per_step, bool enabled)
    : label_(std::move(label)),
      total_(total_steps),
      items_per_step_(items_per_step),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, const std::string& status) {
  if (!enabled_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double t = elapsed_seconds();
  const double rate = t > 0 ? static_cast<double>(done * items_per_step_) / t : 0;
  const double eta = done > 0 ? t * static_cast<double>(total_ - done) / static_cast<double>(done) : 0;
  if (tty_) {
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    const int width = 30, filled = static_cast<int>(width * done / total_);
    std::fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld  %.0f items/s  ETA %02d:%02d  %s\033[K", label_.c_str(), filled,
                 "==============================", width - filled, "", static_cast<long long>(done),
                 static_cast<long long>(total_), rate, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60,
                 status.c_str());
  } else {
    const int64_t decile = done * 10 / total_;
    if (decile == last_decile_ || decile == 0) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %lld/%lld (%lld%%)  %.0f items/s  ETA %ds  %s\n", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), static_cast<long long>(decile * 10),
                 rate, static_cast<int>(eta), status.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish(const std::string& status) {
  if (!enabled_) return;
  if (tty_) std::fprintf(stderr, "\r%s done in %.1fs  %s\033[K\n", label_.c_str(), elapsed_seconds(), status.c_str());
  std::fflush(stderr);
}

}  // namespace st
