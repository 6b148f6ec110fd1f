// Minimal JSON writing for metrics and summaries: objects are built as text
// with correct string escaping and non-finite numbers written as null. The
// output is always valid JSON: ill-formed UTF-8 in a string becomes U+FFFD.
#pragma once

#include <string>
#include <vector>

namespace pipeline::json {

std::string Quote(const std::string& s);  // "..." with escapes; bad UTF-8 -> U+FFFD
std::string Number(double v);  // shortest round-trip form; NaN/inf -> null

// Builds {"k": v, ...} in insertion order.
class Object {
 public:
  Object& Raw(const std::string& key, const std::string& json_value);
  Object& Str(const std::string& key, const std::string& value) { return Raw(key, Quote(value)); }
  Object& Num(const std::string& key, double value) { return Raw(key, Number(value)); }
  Object& Int(const std::string& key, long long value) { return Raw(key, std::to_string(value)); }
  Object& Null(const std::string& key) { return Raw(key, "null"); }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

std::string Array(const std::vector<std::string>& json_values);

}  // namespace pipeline::json
