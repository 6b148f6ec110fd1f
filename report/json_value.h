// A small JSON reader for the files the pipeline writes (summary.json,
// metrics.jsonl, confusion.json, a sweep's results.json). Numbers are
// doubles; a value that is absent or of another type reads as null.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace pipeline::report {

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
  // Object members in file order.
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  const JsonValue& operator[](const std::string& key) const;  // null when absent
  const JsonValue& operator[](size_t i) const;                // null when out of range
  bool has(const std::string& key) const;
  // The value as text: strings unquoted, numbers shortest, bool, null as "".
  std::string text() const;

  static JsonValue Number(double v);
  static JsonValue String(std::string s);

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

Status ParseJson(const std::string& text, JsonValue* out);
Status ReadJsonFile(const std::string& path, JsonValue* out);
// One value per non-empty line (metrics.jsonl); a torn last line is skipped.
Status ReadJsonLines(const std::string& path, std::vector<JsonValue>* out);

}  // namespace pipeline::report
