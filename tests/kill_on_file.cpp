// st_kill_on_file PID PATH [N]: sends SIGKILL to PID the N-th time (default 1) PATH comes into
// existence, polling without sleeping so that it lands inside a write that lasts milliseconds
// (a checkpoint's "<path>.tmp" lives from its creation to its rename). Exit status: 0 once it
// killed, 1 when PID ended first, 2 on a usage error. For tests/cli/kill_during_write.sh.
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PID PATH [N]\n", argv[0]);
    return 2;
  }
  const pid_t pid = static_cast<pid_t>(std::atol(argv[1]));
  const char* path = argv[2];
  const long wanted = argc > 3 ? std::atol(argv[3]) : 1;
  if (pid <= 1 || wanted < 1) {  // kill(0 or -1, ...) would reach whole process groups
    std::fprintf(stderr, "%s: bad PID '%s' or N\n", argv[0], argv[1]);
    return 2;
  }
  long seen = 0;
  bool present = false;
  for (unsigned long polls = 0;; ++polls) {
    struct stat st;
    const bool now = stat(path, &st) == 0;
    if (now && !present && ++seen == wanted) {
      kill(pid, SIGKILL);
      return 0;
    }
    present = now;
    if (polls % 4096 == 0 && kill(pid, 0) != 0 && errno == ESRCH) return 1;
  }
}
