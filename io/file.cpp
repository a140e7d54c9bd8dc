#include "io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace st {

std::string read_file(const std::string& path, const std::string& what) {
  // POSIX calls rather than std::ifstream: an ifstream opens a directory and then fails its
  // first read with an exception that does not name the file, and it cannot tell a read error
  // from the end of the file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
  ST_CHECK(fd >= 0, "cannot open " << what << " '" << path << "': " << std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    ST_THROW("cannot open " << what << " '" << path << "': " << (dir ? "it is a directory" : "not a regular file"));
  }
  std::string bytes;
  bytes.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ST_THROW("cannot read " << what << " '" << path << "': " << std::strerror(err));
    }
    bytes.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace st
