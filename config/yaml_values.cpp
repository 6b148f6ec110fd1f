// Strict YAML values and the wording of their errors (config/yaml_values.h).
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/strings.h"
#include "config/yaml_values.h"

namespace pipeline {
namespace {

bool IsIntegerText(const std::string& t) {
  size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  if (i == t.size()) return false;
  for (; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

bool IsFloatText(const std::string& t) {
  size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  size_t digits = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == t.size();
}

}  // namespace

ParseResult ParseInt(const std::string& text, int64_t* out) {
  if (!IsIntegerText(text)) return ParseResult::kBad;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno == ERANGE) return ParseResult::kOutOfRange;
  *out = v;
  return ParseResult::kOk;
}

ParseResult ParseUint(const std::string& text, uint64_t* out) {
  if (!IsIntegerText(text)) return ParseResult::kBad;
  if (text[0] == '-') {
    int64_t v;
    ParseResult r = ParseInt(text, &v);
    return r == ParseResult::kOk && v == 0 ? (*out = 0, ParseResult::kOk) : ParseResult::kOutOfRange;
  }
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return ParseResult::kOutOfRange;
  *out = v;
  return ParseResult::kOk;
}

ParseResult ParseFloat(const std::string& text, double* out) {
  static const char* kNonFinite[] = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF",
                                     "+.inf", "+.Inf", "+.INF", "nan", "NaN", "inf", "-inf", "+inf", "Infinity",
                                     "-Infinity"};
  for (const char* s : kNonFinite)
    if (text == s) return ParseResult::kNotFinite;
  if (!IsFloatText(text)) return ParseResult::kBad;
  double v = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(v)) return ParseResult::kNotFinite;  // 1e999
  *out = v;
  return ParseResult::kOk;
}

const std::vector<std::string>& YamlBoolSpellings(bool value) {
  static const std::vector<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const std::vector<std::string> kFalse = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  return value ? kTrue : kFalse;
}

bool ParseBool(const std::string& text, bool* out) {
  for (const bool value : {true, false})
    for (const std::string& s : YamlBoolSpellings(value))
      if (text == s) return *out = value, true;
  return false;
}

std::string DescribeYaml(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "an empty value";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "'" + node.Scalar() + "'";
}

std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string>& siblings) {
  const std::string guess = ClosestMatch(key, siblings);
  if (!guess.empty()) return "unknown key '" + key + "' (did you mean '" + guess + "'?)";
  if (siblings.empty()) return "unknown key '" + key + "' (this value has no keys)";
  return "unknown key '" + key + "' (allowed: " + Join(siblings, ", ") + ")";
}

std::string UnknownValueMessage(const std::string& noun, const std::string& value,
                                const std::vector<std::string>& allowed) {
  const std::string guess = ClosestMatch(value, allowed);
  std::string msg = "unknown " + noun + " '" + value + "' (";
  if (!guess.empty()) msg += "did you mean '" + guess + "'? ";
  return msg + "allowed: " + Join(allowed, ", ") + ")";
}

std::string DuplicateKeyMessage(const std::string& key, int first_line) {
  return first_line > 0 ? fmt::format("duplicate key '{}' (first given at line {})", key, first_line)
                        : fmt::format("duplicate key '{}'", key);
}

std::string IntegerOutOfRangeMessage(const std::string& text) {
  return fmt::format("'{}' is out of range for a 64-bit integer", text);
}

std::string NotFiniteMessage(const std::string& text) { return fmt::format("must be a finite number, got '{}'", text); }

}  // namespace pipeline
