#include "core/error.h"

namespace st {

void throw_error(const char* file, int line, const std::string& message) {
  // `file` is relative to the project root (-fmacro-prefix-map in CMakeLists.txt).
  throw Error(message + " [" + file + ":" + std::to_string(line) + "]");
}

}  // namespace st
