#include "common/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/utf8.h"

namespace pipeline::json {

std::string Quote(const std::string& raw) {
  // Strings come from paths, names and error messages that may hold any
  // bytes; JSON text must be UTF-8 (RFC 8259 §8.1), so ill-formed bytes are
  // replaced by U+FFFD here rather than written raw.
  const std::string s = utf8::FirstInvalid(raw) == std::string::npos ? raw : utf8::ReplaceInvalid(raw);
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

Object& Object::Raw(const std::string& key, const std::string& json_value) {
  if (!body_.empty()) body_ += ", ";
  body_ += Quote(key) + ": " + json_value;
  return *this;
}

std::string Array(const std::vector<std::string>& json_values) {
  std::string out = "[";
  for (size_t i = 0; i < json_values.size(); ++i) out += (i ? ", " : "") + json_values[i];
  return out + "]";
}

}  // namespace pipeline::json
