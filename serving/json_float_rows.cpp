#include "serving/json_float_rows.h"

#include <rapidjson/internal/strtod.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace pipeline::serving {
namespace {

// A cursor over the body; every method returns false at anything the fast
// path does not take.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  static bool Digit(char c) { return c >= '0' && c <= '9'; }

  // The eight characters at p as a number, if all of them are digits: the
  // fraction of a float that json.dumps writes has 16 or 17 digits, and eight
  // at a time is the same integer as one at a time, in fewer steps.
  static bool EightDigits(const char* p, uint32_t* value) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    std::memcpy(&v, p, 8);  // p[0] in the low byte
    const uint64_t ones = 0x0101010101010101;
    const uint64_t digits = v - 0x30 * ones;  // each byte c - '0', a borrow sets a high bit
    // The lowest byte that is not a digit gets a high bit in one of the two
    // (no borrow or carry reaches it from the digits below): below '0' it
    // borrows in `digits`; from ':' to 0xb9, c + 0x46 is 0x80 or more ('9' +
    // 0x46 = 0x7f); from 0xba on, c - '0' is.
    if (((digits | (v + 0x46 * ones)) & (0x80 * ones)) != 0) return false;
    // Pairs, then quads, then all eight: each step multiplies the lower-
    // addressed (more significant) half by the power of ten of its partner.
    uint64_t x = digits * 10 + (digits >> 8);   // 16-bit lanes: 10 d0 + d1 in their low byte
    x = ((x & 0x000000FF000000FF) * (100 + (uint64_t{1000000} << 32)) +
         ((x >> 16) & 0x000000FF000000FF) * (1 + (uint64_t{10000} << 32))) >> 32;
    *value = static_cast<uint32_t>(x);
    return true;
#else
    (void)p;
    (void)value;
    return false;
#endif
  }

  // How many digits `v` (below 10^8) has written without leading zeros, 0
  // for 0: eight independent compares, not a chain of divisions.
  static int DecimalLength(uint32_t v) {
    return (v >= 1) + (v >= 10) + (v >= 100) + (v >= 1000) + (v >= 10000) + (v >= 100000) + (v >= 1000000) +
           (v >= 10000000);
  }
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool Peek(char c) {
    SkipSpace();
    return p_ < end_ && *p_ == c;
  }
  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }
  // A string of printable ASCII without escapes (what signature names are).
  bool PlainString(std::string_view* out) {
    if (!Eat('"')) return false;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"') {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = std::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;
    return true;
  }
  // A JSON number (RFC 8259's grammar) as float, computed digit for digit as
  // RapidJSON's default (not full-precision) ParseNumber computes it -- the
  // DOM codec's parser, so both routes give the same bits: the significand
  // in an integer while it is exact (2^53), then in a double for up to 17
  // significant digits, scaled once by a power of ten
  // (internal::StrtodNormalPrecision). Integers of more than 9 digits and
  // exponents RapidJSON refuses are left to the DOM codec.
  bool Number(float* out) {
    SkipSpace();
    bool minus = false;
    if (p_ < end_ && *p_ == '-') {
      minus = true;
      ++p_;
    }
    if (p_ == end_ || !Digit(*p_)) return false;
    unsigned i = 0;
    int significant = 0;  // RapidJSON's significandDigit (the first digit uncounted)
    if (*p_ == '0') {
      ++p_;
    } else {
      i = static_cast<unsigned>(*p_++ - '0');
      for (int digits = 1; p_ < end_ && Digit(*p_); ++digits) {
        if (digits == 9) return false;  // RapidJSON would switch to 64 bits
        i = i * 10 + static_cast<unsigned>(*p_++ - '0');
        ++significant;
      }
    }
    bool use_double = false;
    double d = 0;
    int exp_frac = 0;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !Digit(*p_)) return false;
      uint64_t i64 = i;
      // Eight digits at once while RapidJSON's per-digit check (i64 below
      // 2^53 before each one) would pass for all eight: 90071991 * 10^8 +
      // 99999999 < 2^53. Its significandDigit counts the digits from the first
      // nonzero one on.
      uint32_t eight = 0;
      while (end_ - p_ >= 8 && i64 <= 90071991 && EightDigits(p_, &eight)) {
        significant += i64 != 0 ? 8 : DecimalLength(eight);
        i64 = i64 * 100000000 + eight;
        exp_frac -= 8;
        p_ += 8;
      }
      while (p_ < end_ && Digit(*p_)) {
        if (i64 > (uint64_t{1} << 53) - 1) break;
        i64 = i64 * 10 + static_cast<unsigned>(*p_++ - '0');
        --exp_frac;
        if (i64 != 0) ++significant;
      }
      d = static_cast<double>(i64);
      use_double = true;
      while (p_ < end_ && Digit(*p_)) {
        if (significant < 17) {
          d = d * 10.0 + (*p_++ - '0');
          --exp_frac;
          if (d > 0.0) ++significant;
        } else {
          ++p_;
        }
      }
    }
    int exp = 0;
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (!use_double) d = static_cast<double>(i);
      use_double = true;
      bool exp_minus = false;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) exp_minus = *p_++ == '-';
      if (p_ == end_ || !Digit(*p_)) return false;
      while (p_ < end_ && Digit(*p_)) {
        exp = exp * 10 + (*p_++ - '0');
        if (exp > 308 - exp_frac) return false;  // RapidJSON: "Number too big" (or, negative, its own clamp)
      }
      if (exp_minus) exp = -exp;
    }
    if (!use_double) {
      // An integer: TF Serving wants it exact in a float (|i| < 2^24).
      if (i > (1u << std::numeric_limits<float>::digits) - 1) return false;
      *out = static_cast<float>(minus ? -static_cast<int64_t>(i) : static_cast<int64_t>(i));  // "-0" is the integer 0
      return true;
    }
    // Zero scaled by any power of ten RapidJSON accepts is zero: skip the
    // division (about half of an image's pixels are 0.0).
    if (d != 0.0) d = rapidjson::internal::StrtodNormalPrecision(d, exp + exp_frac);
    if (minus) d = -d;
    // Beyond float's range is TF Serving's "without loss of precision" error,
    // for the DOM codec to word.
    if (!std::isfinite(d) || d > static_cast<double>(std::numeric_limits<float>::max()) ||
        d < static_cast<double>(std::numeric_limits<float>::lowest())) {
      return false;
    }
    *out = static_cast<float>(d);
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// "instances": [[n, ...], ...] into `values`, `width` numbers per row.
bool ScanRows(Scanner* s, std::vector<float>* values, int64_t* rows, int64_t* width) {
  if (!s->Eat('[')) return false;
  *rows = 0;
  *width = -1;
  do {
    if (!s->Eat('[')) return false;
    int64_t n = 0;
    do {
      float v = 0;
      if (!s->Number(&v)) return false;
      values->push_back(v);
      ++n;
    } while (s->Eat(','));
    if (!s->Eat(']')) return false;
    if (*width >= 0 && n != *width) return false;  // ragged: the full codec's error
    *width = n;
    ++*rows;
    if (*rows == 1) values->reserve(static_cast<size_t>(n) * 8);
  } while (s->Eat(','));
  return s->Eat(']');
}

}  // namespace

bool FillFloatRowsFromJson(std::string_view json, const InputDtypesFn& input_dtypes_of, PredictRequest* request,
                           JsonFormat* format) {
  Scanner s(json);
  if (!s.Eat('{')) return false;
  bool have_signature = false, have_instances = false;
  std::string_view signature;
  std::vector<float> values;
  int64_t rows = 0, width = 0;
  if (s.Peek('}')) return false;
  do {
    std::string_view key;
    if (!s.PlainString(&key) || !s.Eat(':')) return false;
    if (key == "signature_name" && !have_signature) {
      if (!s.PlainString(&signature)) return false;
      have_signature = true;
    } else if (key == "instances" && !have_instances) {
      if (!ScanRows(&s, &values, &rows, &width)) return false;
      have_instances = true;
    } else {
      return false;
    }
  } while (s.Eat(','));
  if (!s.Eat('}') || !s.AtEnd() || !have_instances) return false;

  std::map<std::string, tensorflow::DataType> dtypes;
  const std::string signature_name(signature);
  if (!input_dtypes_of(signature_name, &dtypes).ok() || dtypes.size() != 1 ||
      dtypes.begin()->second != tensorflow::DT_FLOAT) {
    return false;
  }
  request->signature_name = signature_name;
  request->inputs.clear();
  request->inputs.emplace(dtypes.begin()->first, TensorValue::From<float>({rows, width}, values));
  *format = JsonFormat::kRow;
  return true;
}

}  // namespace pipeline::serving
