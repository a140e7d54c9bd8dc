#include "core/error.h"

namespace st {

void throw_error(const char* file, int line, const std::string& message) {
  // `file` is relative to the project root (-fmacro-prefix-map in CMakeLists.txt).
  throw Error(message + " [" + file + ":" + std::to_string(line) + "]");
}

std::string printable(const std::string& value, size_t max_bytes) {
  std::string out;
  size_t shown = value.size() > max_bytes ? max_bytes : value.size();
  // Cut at a character boundary, not inside a UTF-8 sequence.
  while (shown > 0 && shown < value.size() && (static_cast<unsigned char>(value[shown]) & 0xc0) == 0x80) --shown;
  for (size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < value.size()) out += "... (" + std::to_string(value.size()) + " bytes)";
  return out;
}

}  // namespace st
