#include "config/json_reader.h"

#include <fstream>
#include <sstream>
#include <vector>

namespace st {

JsonReader::JsonReader(const nlohmann::json& object, std::string file, std::string prefix)
    : JsonReader(object, std::move(file), std::move(prefix), std::make_shared<nlohmann::json>(nlohmann::json::object()),
                 nullptr) {}

JsonReader::JsonReader(const nlohmann::json& object, std::string file, std::string prefix,
                       std::shared_ptr<nlohmann::json> root, nlohmann::json* out)
    : object_(object), file_(std::move(file)), prefix_(std::move(prefix)), root_(std::move(root)) {
  out_ = out ? out : root_.get();
  resolved_ = root_;
  ST_CHECK(object_.is_object(), where() << (prefix_.empty() ? std::string("the top level") : "key '" + prefix_ + "'")
                                        << " must be an object, got " << type_name(object_));
}

JsonReader JsonReader::child(const std::string& key) {
  static const nlohmann::json empty = nlohmann::json::object();
  used_.insert(key);
  (*out_)[key] = nlohmann::json::object();
  const nlohmann::json& sub = object_.contains(key) ? object_.at(key) : empty;
  return JsonReader(sub, file_, dotted(key), root_, &(*out_)[key]);
}

std::vector<JsonReader> JsonReader::child_array(const std::string& key) {
  ST_CHECK(object_.contains(key), where() << "missing required key '" << dotted(key) << "'");
  used_.insert(key);
  const nlohmann::json& array = object_.at(key);
  ST_CHECK(array.is_array() && !array.empty(), where() << "key '" << dotted(key) << "' must be a non-empty array, got "
                                                       << type_name(array));
  // Fill the resolved array first: the children keep pointers into it.
  (*out_)[key] = nlohmann::json::array();
  for (size_t i = 0; i < array.size(); ++i) (*out_)[key].push_back(nlohmann::json::object());
  std::vector<JsonReader> out;
  for (size_t i = 0; i < array.size(); ++i)
    out.push_back(JsonReader(array[i], file_, dotted(key) + "[" + std::to_string(i) + "]", root_, &(*out_)[key][i]));
  return out;
}

void JsonReader::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it)
    ST_CHECK(used_.count(it.key()), where() << "unknown key '" << dotted(it.key()) << "'");
}

void JsonReader::fail(const std::string& key, const std::string& message) const {
  ST_THROW(where() << "key '" << dotted(key) << "' " << message);
}

const char* JsonReader::type_name(const nlohmann::json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

namespace {
template <class T>
struct Expect;
template <>
struct Expect<bool> {
  static bool ok(const nlohmann::json& v) { return v.is_boolean(); }
  static const char* name() { return "a boolean"; }
};
template <>
struct Expect<int64_t> {
  static bool ok(const nlohmann::json& v) { return v.is_number_integer(); }
  static const char* name() { return "an integer"; }
};
template <>
struct Expect<uint64_t> {
  static bool ok(const nlohmann::json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0); }
  static const char* name() { return "a non-negative integer"; }
};
template <>
struct Expect<double> {
  static bool ok(const nlohmann::json& v) { return v.is_number(); }
  static const char* name() { return "a number"; }
};
template <>
struct Expect<std::string> {
  static bool ok(const nlohmann::json& v) { return v.is_string(); }
  static const char* name() { return "a string"; }
};
template <class E>
struct Expect<std::vector<E>> {
  static bool ok(const nlohmann::json& v) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!Expect<E>::ok(e)) return false;
    return true;
  }
  static std::string name() { return std::string("an array of ") + Expect<E>::name() + "s"; }
};
}  // namespace

template <class T>
void JsonReader::check_type(const std::string& key, const nlohmann::json& v) const {
  ST_CHECK(Expect<T>::ok(v), where() << "key '" << dotted(key) << "' must be " << Expect<T>::name() << ", got "
                                     << type_name(v) << " " << v.dump());
}

template void JsonReader::check_type<bool>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<int64_t>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<uint64_t>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<double>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::string>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::vector<int64_t>>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::vector<double>>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::vector<std::string>>(const std::string&, const nlohmann::json&) const;

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  ST_CHECK(eq != std::string::npos && eq > 0, "--set '" << assignment << "' must look like key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // a bare word: a string
  nlohmann::json* node = &config;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (size_t i = 0; i < parts.size(); ++i) {
    ST_CHECK(!parts[i].empty(), "--set '" << assignment << "': empty key in path '" << path << "'");
    if (node->is_array()) {
      const std::string& part_i = parts[i];
      const bool numeric = part_i.find_first_not_of("0123456789") == std::string::npos;
      ST_CHECK(numeric && std::stoull(part_i) < node->size(),
               "--set '" << assignment << "': '" << part_i << "' is not an index of '" << parts[i - 1] << "' (it has "
                         << node->size() << " elements)");
      node = &(*node)[std::stoull(part_i)];
      continue;
    }
    if (node->is_null()) *node = nlohmann::json::object();  // a section the file does not have yet
    ST_CHECK(node->is_object(), "--set '" << assignment << "': '" << parts[i - 1] << "' is not an object");
    node = &(*node)[parts[i]];
  }
  *node = value;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  ST_CHECK(in, "cannot open config '" << path << "'");
  try {
    return nlohmann::json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    ST_THROW("config '" << path << "' is not valid JSON: " << what.substr(what.find(']') + 2));
  }
}

}  // namespace st
