#pragma once
// Per-op time profile, switched on by the environment variable ST_PROFILE=1 (or set_enabled).
// Every op's forward and every node's backward is timed under its name; report() prints a table
// sorted by total time. Off by default: a disabled ProfileScope costs one branch.
#include <chrono>
#include <iosfwd>
#include <string>

namespace st::profiler {

bool enabled();
void set_enabled(bool on);
void reset();
void add(const std::string& name, bool backward, double seconds);
// Writes "op  direction  calls  total ms  share" rows, largest first.
void report(std::ostream& os);

}  // namespace st::profiler

namespace st {

class ProfileScope {
 public:
  // `name` must outlive the scope (a string literal or a graph node's name): on this hot path a
  // disabled scope copies nothing.
  ProfileScope(const char* name, bool backward = false) : name_(name), backward_(backward) {
    if (profiler::enabled()) start_ = std::chrono::steady_clock::now(), active_ = true;
  }
  ProfileScope(const std::string& name, bool backward = false) : ProfileScope(name.c_str(), backward) {}
  ~ProfileScope() {
    if (active_)
      profiler::add(name_, backward_,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  const char* name_;
  bool backward_;
  bool active_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace st
