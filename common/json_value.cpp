#include "common/json_value.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "common/files.h"
#include "common/json.h"
#include "common/utf8.h"

namespace pipeline {

namespace {

const JsonValue& Null() {
  static const JsonValue null;
  return null;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A byte as the user would want to see it in a message: 'x' or 0xNN.
std::string Shown(char c) {
  const auto u = static_cast<unsigned char>(c);
  char buf[8];
  if (u >= 0x20 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "0x%02x", u);
  }
  return buf;
}

}  // namespace

const JsonValue& JsonValue::operator[](const std::string& key) const {
  for (const auto& [k, v] : members_)
    if (k == key) return v;
  return Null();
}

const JsonValue& JsonValue::operator[](size_t i) const { return i < items_.size() ? items_[i] : Null(); }

bool JsonValue::has(const std::string& key) const {
  for (const auto& [k, v] : members_)
    if (k == key) return true;
  return false;
}

std::string JsonValue::text() const {
  switch (type_) {
    case Type::kString: return string_;
    case Type::kNumber: return json::Number(number_);
    case Type::kBool: return bool_ ? "true" : "false";
    default: return "";
  }
}

JsonValue JsonValue::Number(double v) {
  JsonValue j;
  j.type_ = Type::kNumber;
  j.number_ = v;
  return j;
}

JsonValue JsonValue::String(std::string s) {
  JsonValue j;
  j.type_ = Type::kString;
  j.string_ = std::move(s);
  return j;
}

// The grammar, UTF-8 validation and string decoding are RapidJSON's SAX
// Reader (rapidjson-dev); this handler builds the JsonValue tree and adds what
// RapidJSON leaves out or does differently: byte offsets of values, duplicate
// keys, the depth limit, lone low surrogates (RapidJSON decodes \udc00 into
// ill-formed UTF-8), numbers read with strtod's rounding and range check, and
// no stop at a NUL byte (the stream below is bounded by the text's length).
// RapidJSON's error codes are then told in the words and at the offsets this
// reader has always used (tests/json_value_test.cpp pins them).
namespace {

// RapidJSON's input-stream concept over a string_view: Peek() is '\0' at the
// end (how RapidJSON sees the end of the text) and Tell() counts bytes from
// the start of the text. No copy optimisation: the handler reads Tell() live.
struct BoundedStream {
  using Ch = char;
  const char* begin;
  const char* cur;
  const char* end;
  Ch Peek() const { return cur < end ? *cur : '\0'; }
  Ch Take() { return cur < end ? *cur++ : '\0'; }
  size_t Tell() const { return static_cast<size_t>(cur - begin); }
  Ch* PutBegin() { return nullptr; }  // never called: the parse is not in situ
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }
};

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool IsHex(char c) { return HexDigit(c) >= 0; }

}  // namespace

class JsonParser {
 public:
  JsonParser(std::string_view s, const JsonParseOptions& options) : s_(s), options_(options) {}

  Status Parse(JsonValue* out) {
    size_t start = s_.substr(0, 3) == "\xef\xbb\xbf" ? 3 : 0;  // a UTF-8 byte-order mark (RFC 8259 §8.1)
    stream_ = BoundedStream{s_.data(), s_.data() + start, s_.data() + s_.size()};
    last_end_ = start;
    root_ = out;
    // Numbers as strings: strtod reads them (correct rounding, range check).
    // Stop when done: what follows the value is checked here, past any NUL.
    constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag |
                                rapidjson::kParseStopWhenDoneFlag;
    rapidjson::Reader reader;
    const rapidjson::ParseResult r = options_.allow_non_finite
                                         ? reader.Parse<kFlags | rapidjson::kParseNanAndInfFlag>(stream_, *this)
                                         : reader.Parse<kFlags>(stream_, *this);
    if (r.IsError()) return Translate(r.Code(), r.Offset());
    size_t pos = stream_.Tell();
    while (pos < s_.size() && IsSpace(s_[pos])) ++pos;
    if (pos != s_.size()) return AfterValue(pos);
    return Status::Ok();
  }

  // RapidJSON's SAX handler. Numbers arrive as RawNumber (kParseNumbersAsStringsFlag).
  bool Null() { return Add() != nullptr && Done(); }
  bool Bool(bool b) {
    JsonValue* v = Add();
    v->type_ = JsonValue::Type::kBool;
    v->bool_ = b;
    return Done();
  }
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* str, rapidjson::SizeType length, bool) {
    JsonValue* v = Add();
    v->type_ = JsonValue::Type::kNumber;
    if (!ReadNumber(std::string_view(str, length), v->offset_, &v->number_)) return false;
    return Done();
  }
  bool String(const char* str, rapidjson::SizeType length, bool) {
    const size_t open = ValueStart();
    if (!CheckSurrogates(std::string_view(str, length), open)) return false;
    JsonValue* v = Add();
    v->type_ = JsonValue::Type::kString;
    v->string_.assign(str, length);
    return Done();
  }
  bool StartObject() { return Open(JsonValue::Type::kObject); }
  bool StartArray() { return Open(JsonValue::Type::kArray); }
  bool Key(const char* str, rapidjson::SizeType length, bool) {
    const size_t offset = ValueStart();
    const std::string_view key(str, length);
    if (!CheckSurrogates(key, offset)) return false;
    Frame& f = stack_.back();
    const auto& members = f.node->members_;
    size_t first = std::string::npos;
    if (!f.index.empty() || members.size() >= 16) {
      if (f.index.empty()) {
        for (size_t i = 0; i < members.size(); ++i) f.index.emplace(members[i].first, f.key_offsets[i]);
      }
      auto [it, fresh] = f.index.emplace(std::string(key), offset);
      if (!fresh) first = it->second;
    } else {
      for (size_t i = 0; i < members.size(); ++i)
        if (members[i].first == key) first = f.key_offsets[i];
    }
    if (first != std::string::npos) {
      return Fail(offset, "duplicate key " + json::Quote(key) + " (first at byte offset " + std::to_string(first) + ")");
    }
    f.key.assign(key);
    f.key_offsets.push_back(offset);
    return Done(true);
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

 private:
  struct Frame {
    JsonValue* node;
    std::string key;                   // objects: the key of the value that comes next
    std::vector<size_t> key_offsets;   // objects: each member's key offset
    std::unordered_map<std::string, size_t> index;  // large objects: key -> offset
  };

  static Status ErrorAt(size_t offset, const std::string& what) {
    return Status::Corruption("invalid JSON at byte offset " + std::to_string(offset) + ": " + what);
  }
  bool Fail(size_t offset, const std::string& what) { return Fail(ErrorAt(offset, what)); }
  bool Fail(Status st) {
    fail_ = std::move(st);
    return false;
  }
  // After each event: where it ended, and whether a ',' or ':' comes before
  // the next token (after a key, or after a value inside a container).
  bool Done(bool separator) {
    last_end_ = stream_.Tell();
    separator_ = separator;
    return true;
  }
  bool Done() { return Done(!stack_.empty()); }
  char At(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }

  // The offset of the token after the last event: whitespace, then, where
  // one belongs, a ',' or ':' and whitespace (RapidJSON checks which).
  size_t ValueStart() const {
    size_t p = last_end_;
    while (p < s_.size() && IsSpace(s_[p])) ++p;
    if (separator_ && p < s_.size() && (s_[p] == ',' || s_[p] == ':')) {
      ++p;
      while (p < s_.size() && IsSpace(s_[p])) ++p;
    }
    return p;
  }

  JsonValue* Add() {
    const size_t offset = ValueStart();
    JsonValue* v;
    if (stack_.empty()) {
      v = root_;
    } else if (Frame& f = stack_.back(); f.node->type_ == JsonValue::Type::kArray) {
      v = &f.node->items_.emplace_back();
    } else {
      v = &f.node->members_.emplace_back(std::move(f.key), JsonValue()).second;
    }
    v->offset_ = offset;
    return v;
  }

  bool Open(JsonValue::Type type) {
    if (static_cast<int>(stack_.size()) >= options_.max_depth) {
      return Fail(stream_.Tell() - 1, "nested deeper than " + std::to_string(options_.max_depth) + " arrays/objects");
    }
    JsonValue* v = Add();
    v->type_ = type;
    stack_.push_back(Frame{v, {}, {}, {}});
    return Done(false);
  }
  bool Close() {
    stack_.pop_back();
    return Done();
  }

  // With allow_non_finite: the end of NaN, Inf or Infinity (after an
  // optional '-') at `start`, else npos.
  size_t NonFiniteEnd(size_t start) const {
    if (!options_.allow_non_finite) return std::string::npos;
    const size_t p = start + (At(start) == '-' ? 1 : 0);
    if (s_.substr(p, 3) == "NaN") return p + 3;
    if (s_.substr(p, 8) == "Infinity") return p + 8;
    if (s_.substr(p, 3) == "Inf") return p + 3;
    return std::string::npos;
  }

  bool ReadNumber(std::string_view literal, size_t offset, double* v) {
    if (const size_t end = NonFiniteEnd(offset); end != std::string::npos) {
      // RapidJSON reads a fraction or exponent after NaN or Inf ("NaN.5");
      // this reader always took the word alone and then wanted ',' or a bracket.
      if (end != offset + literal.size()) return Fail(AfterValue(end));
      if (s_[end - 1] == 'N') {
        *v = std::numeric_limits<double>::quiet_NaN();
      } else {
        *v = literal[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      }
      return true;
    }
    // RapidJSON 1.1's NaN/Inf branch also takes "NInf" and "NaInf".
    const char first = literal[literal[0] == '-' ? 1 : 0];
    if (first == 'N' || first == 'I') return Fail(BadValue());
    // from_chars and strtod both round correctly, so they agree; from_chars
    // is several times faster. Out of range (overflow, or an underflow that
    // from_chars does not round), strtod decides: its nearest value for an
    // underflow, an error for an overflow. The "C" locale is never changed.
    const auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), *v);
    if (ec == std::errc() && ptr == literal.data() + literal.size()) return true;
    const std::string text(literal);  // strtod needs a NUL
    errno = 0;
    *v = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(*v)) {
      return Fail(offset, "number " + text + " is out of the range of a double (max ~1.8e308)");
    }
    return true;  // underflow: strtod's nearest value (0 or a subnormal)
  }

  // The offset of the first \uDC00-\uDFFF escape in s_[from, to) that does not
  // follow a high surrogate, or npos. RapidJSON refuses a lone high surrogate
  // but decodes a lone low one.
  size_t LoneLowSurrogate(size_t from, size_t to) const {
    for (size_t i = from; i + 1 < to; ++i) {
      if (s_[i] != '\\') continue;
      if (s_[i + 1] != 'u' || i + 6 > s_.size()) {
        ++i;
        continue;
      }
      uint32_t cp = 0;
      for (size_t k = 2; k < 6; ++k) {
        const int d = HexDigit(s_[i + k]);
        if (d < 0) return std::string::npos;  // RapidJSON's error comes first
        cp = cp * 16 + static_cast<uint32_t>(d);
      }
      if (cp >= 0xdc00 && cp < 0xe000) return i;
      i += (cp >= 0xd800 && cp < 0xdc00) ? 11 : 5;  // a pair is two escapes
    }
    return std::string::npos;
  }
  bool CheckSurrogates(std::string_view decoded, size_t open) {
    // A decoded low surrogate is ED B0..BF; raw text cannot hold one, as
    // RapidJSON validates the UTF-8.
    for (size_t i = 0; i + 1 < decoded.size(); ++i) {
      if (static_cast<unsigned char>(decoded[i]) == 0xed && (static_cast<unsigned char>(decoded[i + 1]) & 0xf0) == 0xb0) {
        return Fail(LoneLowSurrogate(open + 1, stream_.Tell()), "lone low surrogate in a \\u escape");
      }
    }
    return true;
  }

  // Text after a complete value where ',' and a closing bracket, or the end,
  // belong. "01" parses as 0 followed by 1: that is a leading zero.
  Status AfterValue(size_t pos) const {
    if (pos > 0 && IsDigit(At(pos)) && s_[pos - 1] == '0') return ErrorAt(pos - 1, "a number cannot have a leading zero");
    if (stack_.empty()) return ErrorAt(pos, "unexpected " + Shown(s_[pos]) + " after the JSON value");
    return ErrorAt(pos, stack_.back().node->type_ == JsonValue::Type::kArray ? "expected ',' or ']'" : "expected ',' or '}'");
  }

  // The end of the number that starts at `start`: [-] int [frac] [exp].
  size_t NumberEnd(size_t p) const {
    auto digits = [&] { while (IsDigit(At(p))) ++p; };
    if (At(p) == '-') ++p;
    digits();
    if (At(p) == '.') {
      ++p;
      digits();
    }
    if (At(p) == 'e' || At(p) == 'E') {
      ++p;
      if (At(p) == '+' || At(p) == '-') ++p;
      digits();
    }
    return p;
  }

  // A value that is neither a container, a string, a literal nor a number.
  Status BadValue() const {
    const size_t start = ValueStart();
    if (options_.allow_non_finite) {
      // RapidJSON refuses "Infi": read as this reader always has, Inf and then text.
      const size_t sign = At(start) == '-' ? 1 : 0;
      if (s_.substr(start + sign, 3) == "Inf") {
        size_t pos = start + sign + 3;
        while (pos < s_.size() && IsSpace(s_[pos])) ++pos;
        return AfterValue(pos);
      }
    }
    if (!options_.allow_non_finite &&
        (s_.substr(start, 3) == "NaN" || s_.substr(start, 3) == "Inf" || s_.substr(start, 4) == "-Inf")) {
      return ErrorAt(start, "NaN and Infinity are not JSON numbers (write null, or a string)");
    }
    const size_t shown = At(start) == '-' ? start + 1 : start;
    return ErrorAt(start, shown < s_.size() ? "unexpected " + Shown(s_[shown]) : "unexpected end of the text");
  }

  // A \u escape at `escape` whose hex digits RapidJSON refused (its offset is
  // the backslash; this reader names the digit, in the low half of a pair too).
  static Status BadHex(std::string_view s, size_t escape) {
    size_t h = escape + 2;
    for (int half = 0; half < 2; ++half, h += 6) {
      if (h + 4 > s.size()) return ErrorAt(h, "\\u needs 4 hex digits");
      for (size_t k = 0; k < 4; ++k)
        if (!IsHex(s[h + k])) return ErrorAt(h + k, "\\u needs 4 hex digits, got " + Shown(s[h + k]));
    }
    return ErrorAt(escape, "\\u needs 4 hex digits");
  }

  Status Translate(rapidjson::ParseErrorCode code, size_t offset) const {
    using rapidjson::ParseErrorCode;
    if (code == rapidjson::kParseErrorTermination) return fail_;
    if (code == rapidjson::kParseErrorNumberMissFraction || code == rapidjson::kParseErrorNumberMissExponent ||
        code == rapidjson::kParseErrorNumberTooBig) {
      const size_t start = ValueStart();
      if (const size_t end = NonFiniteEnd(start); end != std::string::npos) return AfterValue(end);
      const char first = At(start + (At(start) == '-' ? 1 : 0));
      if (first == 'N' || first == 'I') return BadValue();  // "NInf.": see ReadNumber
    }
    switch (code) {
      case rapidjson::kParseErrorStringMissQuotationMark:
      case rapidjson::kParseErrorStringEscapeInvalid:
      case rapidjson::kParseErrorStringInvalidEncoding:
      case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex:
      case rapidjson::kParseErrorStringUnicodeSurrogateInvalid: {
        // A lone low surrogate earlier in the same string is the first error.
        const size_t open = ValueStart();
        if (const size_t lone = LoneLowSurrogate(open + 1, offset); lone != std::string::npos) {
          return ErrorAt(lone, "lone low surrogate in a \\u escape");
        }
        break;
      }
      default: break;
    }
    switch (code) {
      case rapidjson::kParseErrorDocumentEmpty:  // or a NUL byte, which RapidJSON takes for the end
        if (offset < s_.size()) return ErrorAt(offset, "unexpected " + Shown(s_[offset]));
        return ErrorAt(offset, "the document is empty");
      case rapidjson::kParseErrorValueInvalid: return BadValue();
      case rapidjson::kParseErrorObjectMissName: return ErrorAt(offset, "expected a \"key\"");
      case rapidjson::kParseErrorObjectMissColon: return ErrorAt(offset, "expected ':' after the key");
      case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
      case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      case rapidjson::kParseErrorDocumentRootNotSingular: return AfterValue(offset);
      case rapidjson::kParseErrorStringMissQuotationMark:
        // RapidJSON stops at a NUL byte as at the end of the text.
        if (offset < s_.size()) return ErrorAt(offset, "raw control character 0x00 in a string (escape it)");
        return ErrorAt(ValueStart(), "unterminated string");
      case rapidjson::kParseErrorStringEscapeInvalid:
        if (At(offset) != '\\') return ErrorAt(offset, "raw control character " + Shown(s_[offset]) + " in a string (escape it)");
        if (offset + 1 >= s_.size()) return ErrorAt(ValueStart(), "unterminated string");
        return ErrorAt(offset, "invalid escape \\" + std::string(1, s_[offset + 1]));
      case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex: return BadHex(s_, offset);
      case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
        if (s_.substr(offset + 6, 2) != "\\u") return ErrorAt(offset, "high surrogate not followed by a \\u low surrogate");
        return ErrorAt(offset, "high surrogate not followed by a low surrogate");
      case rapidjson::kParseErrorStringInvalidEncoding:
        return ErrorAt(offset, "invalid UTF-8 byte " + Shown(At(offset)) + " in a string");
      case rapidjson::kParseErrorNumberMissFraction: return ErrorAt(offset, "a digit must follow the decimal point");
      case rapidjson::kParseErrorNumberMissExponent: return ErrorAt(offset, "a digit must follow the exponent");
      case rapidjson::kParseErrorNumberTooBig: {
        // RapidJSON refuses an exponent past 308 whatever the digits before it.
        const size_t end = NumberEnd(offset);
        return ErrorAt(offset, "number " + std::string(s_.substr(offset, end - offset)) +
                                   " is out of the range of a double (max ~1.8e308)");
      }
      default: return ErrorAt(offset, rapidjson::GetParseError_En(code));
    }
  }

  std::string_view s_;
  const JsonParseOptions& options_;
  BoundedStream stream_{};
  JsonValue* root_ = nullptr;
  std::vector<Frame> stack_;
  size_t last_end_ = 0;
  bool separator_ = false;
  Status fail_;
};

Status ParseJson(std::string_view text, JsonValue* out, const JsonParseOptions& options) {
  *out = JsonValue();
  JsonValue v;
  PIPELINE_RETURN_IF_ERROR(JsonParser(text, options).Parse(&v));
  *out = std::move(v);
  return Status::Ok();
}

Status ReadJsonFile(const std::string& path, JsonValue* out, const JsonParseOptions& options,
                    const InputKind& kind) {
  std::string text;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, kind, &text));
  Status st = ParseJson(text, out, options);
  if (!st.ok()) return Status::Corruption(path + ": " + st.message());
  return Status::Ok();
}

Status ReadJsonLines(const std::string& path, std::vector<JsonValue>* out) {
  out->clear();
  std::string text;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kRunRecord, &text));
  size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    const bool last = end == std::string::npos || end + 1 >= text.size();
    if (end == std::string::npos) end = text.size();
    const std::string_view row = std::string_view(text).substr(start, end - start);
    start = end + 1;
    if (row.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    JsonValue v;
    Status st = ParseJson(row, &v);
    if (st.ok()) {
      out->push_back(std::move(v));
    } else if (!last) {
      return Status::Corruption(path + ": line " + std::to_string(line) + ": " + st.message());
    }
  }
  return Status::Ok();
}

}  // namespace pipeline
