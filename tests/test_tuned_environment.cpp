// core/tuned_environment.h: reading the count of running tasks from /proc/stat's format.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/tuned_environment.h"

using namespace st;

TEST_CASE("procs_running reads /proc/stat's count of running tasks", "[environment]") {
  std::istringstream stat(
      "cpu  8934360 510700 458505 3074492 10266 0 1436 38450 0 0\n"
      "cpu0 4395079 254881 224952 1617269 1482 0 315 19203 0 0\n"
      "intr 9876 1 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
      "ctxt 123456789\n"
      "btime 1763769600\n"
      "processes 41234\n"
      "procs_running 3\n"
      "procs_blocked 0\n");
  CHECK(procs_running(stat) == 3);

  std::istringstream without("cpu  1 2 3 4\nprocesses 12\nprocs_blocked 0\n");
  CHECK(procs_running(without) == -1);
  std::istringstream garbled("procs_running many\n");
  CHECK(procs_running(garbled) == -1);
}

TEST_CASE("other_running_tasks sees a busy process", "[environment]") {
  std::ifstream f("/proc/stat");
  if (!f) {
    SUCCEED("no /proc/stat here");
    return;
  }
  CHECK(procs_running(f) >= 1);  // the test itself
  // A child that spins until killed is a running (or runnable) task besides this one.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0)
    for (volatile unsigned long spin = 0;; ++spin) {
    }
  usleep(50000);
  const int others = other_running_tasks();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  CHECK(others >= 1);
}
