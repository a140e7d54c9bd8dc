#include "core/error.h"

#include <cstring>

namespace st {

void throw_error(const char* file, int line, const std::string& message) {
  // Keep only the path below the project root so messages stay short: "core/ops/conv.cpp:42".
  const char* short_file = file;
  for (const char* root : {"/core/", "/layers/", "/optim/", "/data/", "/models/", "/apps/"}) {
    if (const char* p = std::strstr(file, root)) {
      short_file = p + 1;
      break;
    }
  }
  throw Error(message + " [" + short_file + ":" + std::to_string(line) + "]");
}

}  // namespace st
