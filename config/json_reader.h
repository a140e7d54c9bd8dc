#pragma once
// JsonReader: strict, typed reading of one JSON object of a config file.
//
//   JsonReader r(json, "configs/x.json");
//   double lr = r.get<double>("lr", 0.1);          // optional, with default
//   auto data = r.child("data");                   // nested object (required unless optional_child)
//   r.finish();                                     // any key never read is an error
//
// Every error is an st::Error naming the file and the dotted key: a wrong type, a missing
// required key, an unknown key (a typo must not be silently ignored). Every value read, given or
// defaulted, is recorded into resolved(), the fully resolved config written into a run directory.
// Messages are one line: keys and values from the file go in through printable() and
// abbreviated(), so a long or multi-line value shows only its start.
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace st {

class JsonReader {
 public:
  JsonReader(const nlohmann::json& object, std::string file, std::string prefix = "");

  bool has(const std::string& key) const { return object_.contains(key); }
  // The object's keys, in the file's order (nlohmann::json sorts them: alphabetical).
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (auto it = object_.begin(); it != object_.end(); ++it) out.push_back(it.key());
    return out;
  }

  template <class T>
  T get(const std::string& key, const T& default_value) {
    if (!object_.contains(key)) {
      record(key, nlohmann::json(default_value));
      return default_value;
    }
    return take<T>(key);
  }

  template <class T>
  T require(const std::string& key) {
    ST_CHECK(object_.contains(key), where() << "missing required key '" << dotted(key) << "'");
    return take<T>(key);
  }

  // A nested object; a missing one reads as {} (all defaults).
  JsonReader child(const std::string& key);

  // A required non-empty array of objects; element i reads as key "key[i]".
  std::vector<JsonReader> child_array(const std::string& key);

  // Throws for the first key that was never read.
  void finish() const;

  // Errors about a value that was read correctly but is out of range.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  // Records a value computed from what was read (e.g. an environment override) in resolved().
  void set_resolved(const std::string& key, const nlohmann::json& value) { record(key, value); }

  const nlohmann::json& resolved() const { return *resolved_; }
  const std::string& file() const { return file_; }

 private:
  JsonReader(const nlohmann::json& object, std::string file, std::string prefix, std::shared_ptr<nlohmann::json> root,
             nlohmann::json* out);
  // The key as messages show it (printable: a key may hold any character).
  std::string dotted(const std::string& key) const { return printable(prefix_.empty() ? key : prefix_ + "." + key, 120); }
  std::string where() const { return "config '" + file_ + "': "; }
  void record(const std::string& key, const nlohmann::json& value) { (*out_)[key] = value; }
  static const char* type_name(const nlohmann::json& v);

  template <class T>
  T take(const std::string& key) {
    used_.insert(key);
    const nlohmann::json& v = object_.at(key);
    check_type<T>(key, v);
    T value = v.get<T>();
    record(key, v);
    return value;
  }

  template <class T>
  void check_type(const std::string& key, const nlohmann::json& v) const;

  const nlohmann::json& object_;
  std::string file_, prefix_;
  std::set<std::string> used_;
  std::shared_ptr<nlohmann::json> root_;  // the resolved config, shared by all child readers
  nlohmann::json* out_;                   // this object's place in root_
  std::shared_ptr<nlohmann::json> resolved_;
};

// Applies "--set a.b.c=value" overrides: value is parsed as JSON when it is valid JSON
// (numbers, true/false, arrays, quoted strings) and taken as a plain string otherwise (it must
// then be valid UTF-8, as every JSON string is). A path part that is a number indexes an existing
// array ("phases.1.epochs=3"). The config's top level must be an object.
void apply_override(nlohmann::json& config, const std::string& assignment);

// Arrays and objects may nest at most this deep, in a file and in a --set value: deeper input is
// refused before it is parsed (printing, copying and comparing a JSON value recurse once per
// level, and 100,000 levels overflow the stack). Real configs nest 4 levels.
constexpr int kMaxJsonDepth = 64;

// Parses JSON text (comments allowed). `what` names the text in messages ("config 'x.json'").
// A syntax error or nesting deeper than kMaxJsonDepth names the line and column.
nlohmann::json parse_json_text(const std::string& text, const std::string& what);

// Reads and parses a JSON file (parse_json_text); a missing file or a directory names the path.
nlohmann::json read_json_file(const std::string& path);

// A JSON value for a message: compact, invalid UTF-8 replaced, cut after about 60 bytes.
std::string abbreviated(const nlohmann::json& value);

}  // namespace st
