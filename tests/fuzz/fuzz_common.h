#pragma once
// Shared by the fuzz targets: the properties every reader must keep on any input, and a scratch
// file for the readers that take a path.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace st::fuzz {

// A finding: print it and abort, which libFuzzer reports as a crash with the input saved.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

// An input's rejection must be one line of readable length (docs/robustness.md): values from
// the input go into messages through printable().
inline void check_message(const Error& e) {
  const std::string m = e.what();
  if (m.find('\n') != std::string::npos) fail("a multi-line error message: " + m);
  if (m.size() > 1500) fail("an error message of " + std::to_string(m.size()) + " bytes: " + m.substr(0, 300));
}

// A file of this process in /dev/shm (memory) or $TMPDIR, rewritten for each input.
inline const std::string& scratch_path(const char* name) {
  static const std::string path = [name] {
    struct stat st {};
    const char* tmp = std::getenv("TMPDIR");
    const std::string dir = tmp && *tmp ? tmp : (::stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp");
    return dir + "/st_fuzz_" + name + "_" + std::to_string(::getpid());
  }();
  return path;
}

inline void write_file(const std::string& path, const void* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) fail("cannot write " + path);
}

}  // namespace st::fuzz
