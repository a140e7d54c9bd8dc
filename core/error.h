#pragma once
// The project's one error type, and the check macro that throws it with file:line.
//
//   ST_CHECK(a.dim() == 2, "matmul: expected 2-D inputs, got " << shape_str(a.shape()));
//
// The message part is a stream expression so that shapes and values go into the message.
// Errors are one line: values that come from input go in through printable().
#include <sstream>
#include <stdexcept>
#include <string>

namespace st {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

// A value taken from a file or a command line, made safe for a one-line message: control bytes
// (newlines, tabs, ...) and DEL become \xNN, and past max_bytes it is cut and ends with
// "... (N bytes)". Messages quote names and values from input through it, so that an error
// stays one readable line whatever the input holds.
std::string printable(const std::string& value, size_t max_bytes = 80);

}  // namespace st

#define ST_THROW(msg_expr)                                   \
  do {                                                       \
    std::ostringstream st_check_os_;                         \
    st_check_os_ << msg_expr;                                \
    ::st::throw_error(__FILE__, __LINE__, st_check_os_.str()); \
  } while (0)

#define ST_CHECK(cond, msg_expr) \
  do {                           \
    if (!(cond)) ST_THROW(msg_expr); \
  } while (0)
