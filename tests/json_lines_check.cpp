// Checks that standard input is one or more lines, each a JSON object, for the command-line tests:
//   ... | st_json_lines_check [KEY | KEY=STRING] ...
// Every line must have each KEY (a number unless given as KEY=STRING, which must be that string).
// Prints the first problem and exits 1; exits 0 when every line passes.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  std::string line;
  int lines = 0;
  while (std::getline(std::cin, line)) {
    ++lines;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      std::fprintf(stderr, "line %d is not JSON (%s): %s\n", lines, e.what(), line.c_str());
      return 1;
    }
    if (!j.is_object()) {
      std::fprintf(stderr, "line %d is not a JSON object: %s\n", lines, line.c_str());
      return 1;
    }
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      const size_t eq = arg.find('=');
      const std::string key = arg.substr(0, eq);
      const bool ok = eq == std::string::npos ? j.contains(key) && j[key].is_number()
                                              : j.contains(key) && j[key] == arg.substr(eq + 1);
      if (!ok) {
        std::fprintf(stderr, "line %d: %s %s: %s\n", lines, key.c_str(),
                     eq == std::string::npos ? "is not a number" : ("is not \"" + arg.substr(eq + 1) + "\"").c_str(),
                     line.c_str());
        return 1;
      }
    }
  }
  if (lines == 0) {
    std::fprintf(stderr, "no input\n");
    return 1;
  }
  return 0;
}
