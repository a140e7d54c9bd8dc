#include "config/json_reader.h"

#include <limits>
#include <vector>

#include "io/file.h"

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
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return "an integer above 2^63 - 1";
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
// ok(v): v can be read as the type; name(): the type for messages; noun(): the same without
// the article, for arrays ("an array of integers").
template <>
struct Expect<bool> {
  static bool ok(const nlohmann::json& v) { return v.is_boolean(); }
  static const char* name() { return "a boolean"; }
  static const char* noun() { return "boolean"; }
};
template <>
struct Expect<int64_t> {
  // nlohmann keeps integers above 2^63 - 1 as unsigned; reading one as int64 would wrap it.
  static bool ok(const nlohmann::json& v) {
    return v.is_number_integer() &&
           !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  }
  static const char* name() { return "an integer"; }
  static const char* noun() { return "integer"; }
};
template <>
struct Expect<uint64_t> {
  static bool ok(const nlohmann::json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0); }
  static const char* name() { return "a non-negative integer"; }
  static const char* noun() { return "non-negative integer"; }
};
template <>
struct Expect<double> {
  static bool ok(const nlohmann::json& v) { return v.is_number(); }
  static const char* name() { return "a number"; }
  static const char* noun() { return "number"; }
};
template <>
struct Expect<std::string> {
  static bool ok(const nlohmann::json& v) { return v.is_string(); }
  static const char* name() { return "a string"; }
  static const char* noun() { return "string"; }
};
template <class E>
struct Expect<std::vector<E>> {
  static bool ok(const nlohmann::json& v) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!Expect<E>::ok(e)) return false;
    return true;
  }
  static std::string name() { return std::string("an array of ") + Expect<E>::noun() + "s"; }
};
}  // namespace

template <class T>
void JsonReader::check_type(const std::string& key, const nlohmann::json& v) const {
  ST_CHECK(Expect<T>::ok(v), where() << "key '" << dotted(key) << "' must be " << Expect<T>::name() << ", got "
                                     << type_name(v) << " " << abbreviated(v));
}

template void JsonReader::check_type<bool>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<int64_t>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<uint64_t>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<double>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::string>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::vector<int64_t>>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::vector<double>>(const std::string&, const nlohmann::json&) const;
template void JsonReader::check_type<std::vector<std::string>>(const std::string&, const nlohmann::json&) const;

namespace {

// Finds the first '[' or '{' that opens level kMaxJsonDepth + 1, outside strings and comments
// (the syntax nlohmann::json::parse accepts with ignore_comments). On valid JSON it agrees with
// the parser; on invalid JSON the parser stops at the first error, before any depth it would
// disagree on. Returns false when the text nests no deeper than the limit.
bool find_too_deep(const std::string& text, size_t* line, size_t* column) {
  int depth = 0;
  size_t ln = 1, line_start = 0;
  const size_t n = text.size();
  auto newline = [&](size_t at) {
    ++ln;
    line_start = at + 1;
  };
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (c == '\n') {
      newline(i);
    } else if (c == '"') {
      for (++i; i < n && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
        else if (text[i] == '\n') newline(i);
      }
    } else if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      while (i + 1 < n && text[i + 1] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      for (i += 2; i < n && !(text[i] == '*' && i + 1 < n && text[i + 1] == '/'); ++i)
        if (text[i] == '\n') newline(i);
      ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        *line = ln;
        *column = i - line_start + 1;
        return true;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

void check_depth(const std::string& text, const std::string& what) {
  size_t line = 0, column = 0;
  ST_CHECK(!find_too_deep(text, &line, &column), what << " nests arrays and objects deeper than " << kMaxJsonDepth
                                                      << " levels (at line " << line << ", column " << column << ")");
}

bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// A --set path part that indexes an array: digits only, short enough not to overflow.
bool parse_index(const std::string& part, size_t* index) {
  if (part.empty() || part.size() > 18 || part.find_first_not_of("0123456789") != std::string::npos) return false;
  *index = static_cast<size_t>(std::stoull(part));
  return true;
}

}  // namespace

std::string abbreviated(const nlohmann::json& value) {
  return printable(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 60);
}

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const std::string shown = "--set '" + printable(assignment) + "'";
  ST_CHECK(valid_utf8(assignment), shown << " is not valid UTF-8 text");
  const size_t eq = assignment.find('=');
  ST_CHECK(eq != std::string::npos && eq > 0, shown << " must look like key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  ST_CHECK(config.is_object(), shown << ": the config's top level is not an object");
  check_depth(text, shown + ": the value");
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // a bare word: a string
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  nlohmann::json* node = &config;
  std::string walked, where = "the top level";  // the path walked so far, and as messages show it
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    ST_CHECK(!part.empty(), shown << ": empty key in path '" << printable(path) << "'");
    if (node->is_array()) {
      size_t index = 0;
      ST_CHECK(parse_index(part, &index) && index < node->size(),
               shown << ": '" << printable(part) << "' is not an index of " << where << " (it has " << node->size()
                     << " elements)");
      node = &(*node)[index];
    } else {
      if (node->is_null()) *node = nlohmann::json::object();  // a section the file does not have yet
      ST_CHECK(node->is_object(), shown << ": " << where << " is not an object");
      node = &(*node)[part];
    }
    walked += (walked.empty() ? "" : ".") + part;
    where = "'" + printable(walked, 120) + "'";
  }
  *node = value;
}

nlohmann::json parse_json_text(const std::string& text, const std::string& what) {
  check_depth(text, what);
  try {
    return nlohmann::json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 14: ...": keep the part
    // after the id; it quotes the text read last, which may be long.
    const std::string message = e.what();
    const size_t id_end = message.find("] ");
    ST_THROW(what << " is not valid JSON: " << printable(id_end == std::string::npos ? message : message.substr(id_end + 2), 300));
  }
}

nlohmann::json read_json_file(const std::string& path) {
  return parse_json_text(read_file(path, "config"), "config '" + path + "'");
}

}  // namespace st
