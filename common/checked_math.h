// Checked integer arithmetic for sizes, counts and versions. Every product or
// sum that comes from user input (layer widths, element counts, versions,
// trial counts) goes through these, so an overflow is an error the caller
// names instead of a wrapped value that is then trusted.
#pragma once

#include <cstdint>

namespace pipeline {

// *out = a * b; false (and *out unchanged) when it does not fit in int64_t.
inline bool CheckedMul(int64_t a, int64_t b, int64_t* out) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return false;
  *out = r;
  return true;
}

// *out = a + b; false (and *out unchanged) when it does not fit in int64_t.
inline bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return false;
  *out = r;
  return true;
}

}  // namespace pipeline
