// Explains how two JSON files differ, for the golden-output tests:
//   st_json_diff EXPECTED ACTUAL
// Prints one line per difference, "<JSON pointer>: <expected> -> <actual>" ("(none)" for a
// missing value), or that the two are the same JSON written differently. Exits 0 when the files
// hold equal JSON, 1 when they differ, 2 when one cannot be read.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

bool read(const char* path, nlohmann::json* j) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "st_json_diff: cannot open '%s'\n", path);
    return false;
  }
  try {
    in >> *j;
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "st_json_diff: '%s' is not JSON (%s)\n", path, e.what());
    return false;
  }
  return true;
}

std::string value_at(const nlohmann::json& j, const std::string& pointer) {
  const nlohmann::json::json_pointer p(pointer);
  return j.contains(p) ? j.at(p).dump() : "(none)";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: st_json_diff EXPECTED ACTUAL\n");
    return 2;
  }
  nlohmann::json expected, actual;
  if (!read(argv[1], &expected) || !read(argv[2], &actual)) return 2;
  if (expected == actual) {
    std::printf("the same JSON, written differently\n");
    return 0;
  }
  // The patch turning expected into actual: one operation per differing value.
  for (const nlohmann::json& op : nlohmann::json::diff(expected, actual)) {
    const std::string path = op.at("path").get<std::string>();
    std::printf("%s: %s -> %s\n", path.c_str(), value_at(expected, path).c_str(), value_at(actual, path).c_str());
  }
  return 1;
}
