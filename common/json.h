// JSON writing for run records, reports and predict's output, on RapidJSON's
// Writer (rapidjson-dev). The output keeps the pipeline's long-standing layout,
// which tests and scripts/artifact-digests.sh compare byte for byte:
//   - one line, ", " between members and elements and ": " after keys
//     (RapidJSON's Writer is compact and its PrettyWriter breaks lines, so
//     Writer below adds the spaces in its own prefix);
//   - numbers in the shortest "%.*g" form that reads back to the same double
//     (Number), written through RapidJSON's RawValue: RapidJSON's own dtoa
//     would write 100 as 100.0 and 1e-07 as 1e-7; NaN and infinities as null;
//   - strings escaped by RapidJSON after ill-formed UTF-8 is replaced by U+FFFD
//     (strings come from paths, names and error messages that may hold any
//     bytes; JSON text must be UTF-8, RFC 8259 §8.1).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipeline::json {

std::string Quote(std::string_view s);  // "..." with escapes; bad UTF-8 -> U+FFFD
std::string Number(double v);           // shortest round-trip form; NaN/inf -> null

// A streaming writer: values in document order, the caller pairs Start/End.
// Key() before each member's value. Raw() writes text that is already JSON.
class Writer {
 public:
  Writer();
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& StartObject();
  Writer& EndObject();
  Writer& StartArray();
  Writer& EndArray();
  Writer& Key(std::string_view key);
  Writer& String(std::string_view value);
  Writer& Number(double value);  // json::Number's form
  Writer& Int(long long value);
  Writer& Bool(bool value);
  Writer& Null();
  Writer& Raw(std::string_view json_value);
  // The text so far (complete once every Start has its End).
  std::string str() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds {"k": v, ...} in insertion order.
class Object {
 public:
  Object& Raw(const std::string& key, const std::string& json_value);
  Object& Str(const std::string& key, const std::string& value) { return Raw(key, Quote(value)); }
  Object& Num(const std::string& key, double value) { return Raw(key, Number(value)); }
  Object& Int(const std::string& key, long long value) { return Raw(key, std::to_string(value)); }
  Object& Null(const std::string& key) { return Raw(key, "null"); }
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

std::string Array(const std::vector<std::string>& json_values);
// ["a", "b"]: each string quoted.
std::string StringArray(const std::vector<std::string>& values);

// `json_text` laid out over lines, two spaces per level, numbers and strings
// exactly as given: for files people read and diff (schemas/*.json).
// Returns "" if `json_text` is not JSON.
std::string Indented(std::string_view json_text);

}  // namespace pipeline::json
