#include "core/ops/profiler.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <ostream>
#include <vector>

namespace st::profiler {

namespace {
struct Entry {
  long calls = 0;
  double seconds = 0;
};
std::mutex g_mutex;
std::map<std::pair<std::string, bool>, Entry> g_table;
bool g_enabled = [] {
  const char* v = std::getenv("ST_PROFILE");
  return v && std::strcmp(v, "0") != 0 && *v;
}();
}  // namespace

bool enabled() { return g_enabled; }
void set_enabled(bool on) { g_enabled = on; }

void reset() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_table.clear();
}

void add(const std::string& name, bool backward, double seconds) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Entry& e = g_table[{name, backward}];
  ++e.calls;
  e.seconds += seconds;
}

void report(std::ostream& os) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<std::pair<std::pair<std::string, bool>, Entry>> rows(g_table.begin(), g_table.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0;
  for (auto& r : rows) total += r.second.seconds;
  char line[160];
  std::snprintf(line, sizeof line, "%-24s %-9s %8s %12s %7s\n", "op", "pass", "calls", "total ms", "share");
  os << line;
  for (auto& r : rows) {
    std::snprintf(line, sizeof line, "%-24s %-9s %8ld %12.2f %6.1f%%\n", r.first.first.c_str(),
                  r.first.second ? "backward" : "forward", r.second.calls, r.second.seconds * 1e3,
                  total > 0 ? 100.0 * r.second.seconds / total : 0.0);
    os << line;
  }
}

}  // namespace st::profiler
