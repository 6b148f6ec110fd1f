// The one JSON reader: every JSON text the pipeline reads (predict's
// --json-instances, summary.json, metrics.jsonl, confusion.json, a sweep's
// results.json) goes through ParseJson. The parsing is RapidJSON's SAX Reader
// (rapidjson-dev, the parser TensorFlow Serving uses; see docs/performance.md
// for the measurements behind the choice); a handler builds the JsonValue
// tree and keeps the checks below. It is strict RFC 8259:
//   - the text is UTF-8 (a leading byte-order mark is skipped, as RFC 8259
//     §8.1 allows); invalid UTF-8, raw control characters in strings, lone
//     surrogate escapes and any escape but \" \\ \/ \b \f \n \r \t \uXXXX
//     are errors;
//   - a key that appears twice in one object is an error naming the key and
//     both byte offsets (RFC 8259 leaves duplicates to the implementation; the
//     silent first-or-last-wins of lenient parsers hides the mistake);
//   - nesting deeper than JsonParseOptions::max_depth is an error, so no input
//     can exhaust the stack;
//   - a number outside the range of a double (1e999) is an error, not inf;
//     one too small to represent (1e-999) reads as 0, as strtod rounds it;
//   - NaN and Infinity are not JSON; JsonParseOptions::allow_non_finite
//     accepts exactly what TensorFlow Serving's request parser accepts
//     (RapidJSON's kParseNanAndInfFlag: NaN, Inf, Infinity, each optionally
//     preceded by '-'), for predict's TF-Serving-style request files.
// Errors are Corruption ("invalid JSON at byte offset N: ..."); callers
// prefix the file name. The messages and offsets are those of the reader
// written here before RapidJSON (tests/json_reader_edges_test.cpp), with one
// exception: RapidJSON refuses any exponent past 308 before reading the
// digits' value, so 0e999 (which is 0) is refused as out of range.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/input_limits.h"
#include "common/status.h"

namespace pipeline {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_bool() const { return type_ == Type::kBool; }

  double number(double fallback = 0.0 / 0.0) const { return type_ == Type::kNumber ? number_ : fallback; }
  bool boolean() const { return type_ == Type::kBool && bool_; }
  const std::string& str() const { return string_; }  // "" unless a string
  const std::vector<JsonValue>& items() const { return items_; }
  // Object members in file order (keys are unique).
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  const JsonValue& operator[](const std::string& key) const;  // null when absent
  const JsonValue& operator[](size_t i) const;                // null when out of range
  bool has(const std::string& key) const;
  // The value as text: strings unquoted, numbers shortest, bool, null as "".
  std::string text() const;
  // Byte offset of the value's first character in the parsed text.
  size_t offset() const { return offset_; }

  static JsonValue Number(double v);
  static JsonValue String(std::string s);

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  size_t offset_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

struct JsonParseOptions {
  // Accept NaN / Inf / Infinity (optionally negative) as numbers, as TF
  // Serving's REST API does. Off for the files the pipeline writes itself
  // (its writer emits null for non-finite values).
  bool allow_non_finite = false;
  // Arrays and objects nested deeper than this are refused.
  int max_depth = 128;
};

Status ParseJson(std::string_view text, JsonValue* out, const JsonParseOptions& options = {});
// ReadInputFile (under KIND's size limit) + ParseJson; errors are prefixed
// with the path.
Status ReadJsonFile(const std::string& path, JsonValue* out, const JsonParseOptions& options = {},
                    const InputKind& kind = input::kRunRecord);
// One value per non-empty line (metrics.jsonl). Only the last line may fail
// to parse (a line torn by a crash mid-append) and is then skipped; a bad
// line before it is Corruption naming the path and line number.
Status ReadJsonLines(const std::string& path, std::vector<JsonValue>* out);

}  // namespace pipeline
