#include "common/version_number.h"

#include "common/checked_math.h"

namespace pipeline {

bool ParseVersionNumber(const std::string& digits, int64_t* version) {
  if (digits.empty()) return false;
  int64_t x = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    if (!CheckedMul(x, 10, &x) || !CheckedAdd(x, c - '0', &x)) return false;
  }
  *version = x;
  return true;
}

bool VersionNumberTooLarge(const std::string& text) {
  int64_t v;
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos && !ParseVersionNumber(text, &v);
}

bool ParseExportVersion(const std::string& text, int64_t* version) {
  if (text == "auto" || text.empty()) {
    *version = 0;
    return true;
  }
  int64_t v = 0;
  if (!ParseVersionNumber(text, &v) || v <= 0) return false;
  *version = v;
  return true;
}

bool NextVersion(int64_t largest, int64_t* next) { return CheckedAdd(largest, 1, next); }

}  // namespace pipeline
