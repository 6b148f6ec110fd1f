#include "common/json_value.h"

#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "common/files.h"
#include "common/json.h"
#include "common/utf8.h"

namespace pipeline {

namespace {

const JsonValue& Null() {
  static const JsonValue null;
  return null;
}

void PutUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
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

class JsonParser {
 public:
  JsonParser(std::string_view s, const JsonParseOptions& options) : s_(s), options_(options) {}

  Status Parse(JsonValue* out) {
    if (s_.substr(0, 3) == "\xef\xbb\xbf") pos_ = 3;  // a UTF-8 byte-order mark (RFC 8259 §8.1)
    Space();
    if (pos_ >= s_.size()) return Error("the document is empty");
    PIPELINE_RETURN_IF_ERROR(Value(out, 0));
    Space();
    if (pos_ != s_.size()) return Error("unexpected " + Shown(s_[pos_]) + " after the JSON value");
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }
  static Status ErrorAt(size_t offset, const std::string& what) {
    return Status::Corruption("invalid JSON at byte offset " + std::to_string(offset) + ": " + what);
  }
  // RFC 8259 whitespace: space, tab, line feed, carriage return; nothing else.
  void Space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status Hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return Error("\\u needs 4 hex digits");
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int d = HexDigit(s_[pos_ + k]);
      if (d < 0) return ErrorAt(pos_ + k, "\\u needs 4 hex digits, got " + Shown(s_[pos_ + k]));
      v = v * 16 + static_cast<uint32_t>(d);
    }
    pos_ += 4;
    *out = v;
    return Status::Ok();
  }

  Status String(std::string* out) {
    const size_t open = pos_++;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return ErrorAt(open, "unterminated string");
      const char c = s_[pos_];
      if (c == '"') break;
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20) return Error("raw control character " + Shown(c) + " in a string (escape it)");
      if (u >= 0x80) {
        size_t bad = 0;
        const size_t n = utf8::SequenceLength(s_, pos_, &bad);
        if (n == 0) return Error("invalid UTF-8 byte " + Shown(c) + " in a string");
        out->append(s_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return ErrorAt(open, "unterminated string");
      const size_t escape = pos_ - 1;
      const char e = s_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          PIPELINE_RETURN_IF_ERROR(Hex4(&cp));
          if (cp >= 0xdc00 && cp < 0xe000) return ErrorAt(escape, "lone low surrogate in a \\u escape");
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t lo = 0;
            if (s_.substr(pos_, 2) != "\\u") return ErrorAt(escape, "high surrogate not followed by a \\u low surrogate");
            pos_ += 2;
            PIPELINE_RETURN_IF_ERROR(Hex4(&lo));
            if (lo < 0xdc00 || lo >= 0xe000) return ErrorAt(escape, "high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          PutUtf8(cp, out);
          break;
        }
        default: return ErrorAt(escape, "invalid escape \\" + std::string(1, e));
      }
    }
    ++pos_;  // closing quote
    return Status::Ok();
  }

  // NaN / Inf / Infinity with an optional '-', as RapidJSON's
  // kParseNanAndInfFlag (TF Serving) reads them; false if none is here.
  bool NonFinite(double* v) {
    const size_t start = pos_;
    const bool minus = pos_ < s_.size() && s_[pos_] == '-';
    if (minus) ++pos_;
    if (Literal("NaN")) {
      *v = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    if (Literal("Infinity") || Literal("Inf")) {
      *v = minus ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      return true;
    }
    pos_ = start;
    return false;
  }

  // number = [ minus ] int [ frac ] [ exp ] (RFC 8259 §6).
  Status Number(JsonValue* out) {
    const size_t start = pos_;
    if (options_.allow_non_finite) {
      double v;
      if (NonFinite(&v)) {
        *out = JsonValue::Number(v);
        return Status::Ok();
      }
    }
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
      if (s_.substr(start, 3) == "NaN" || s_.substr(start, 3) == "Inf" || s_.substr(start, 4) == "-Inf") {
        return ErrorAt(start, "NaN and Infinity are not JSON numbers (write null, or a string)");
      }
      return ErrorAt(start, pos_ < s_.size() ? "unexpected " + Shown(s_[pos_]) : "unexpected end of the text");
    }
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && IsDigit(s_[pos_ + 1])) {
      return Error("a number cannot have a leading zero");
    }
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Error("a digit must follow the decimal point");
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return Error("a digit must follow the exponent");
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    // The grammar is checked; strtod reads exactly this slice (a copy: the
    // text need not be NUL-terminated). The "C" locale is never changed.
    const std::string literal(s_.substr(start, pos_ - start));
    errno = 0;
    const double v = std::strtod(literal.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(v)) {
      return ErrorAt(start, "number " + literal + " is out of the range of a double (max ~1.8e308)");
    }
    *out = JsonValue::Number(v);  // underflow: strtod's nearest value (0 or a subnormal)
    return Status::Ok();
  }

  Status Value(JsonValue* out, int depth) {
    Space();
    if (pos_ >= s_.size()) return Error("unexpected end of the text");
    out->offset_ = pos_;
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      if (depth >= options_.max_depth) {
        return Error("nested deeper than " + std::to_string(options_.max_depth) + " arrays/objects");
      }
      return c == '{' ? Object(out, depth) : Array(out, depth);
    }
    if (c == '"') {
      out->type_ = JsonValue::Type::kString;
      return String(&out->string_);
    }
    if (Literal("null")) return Status::Ok();
    if (Literal("true") || Literal("false")) {
      out->type_ = JsonValue::Type::kBool;
      out->bool_ = s_[pos_ - 1] == 'e' && s_[pos_ - 2] == 'u';
      return Status::Ok();
    }
    const size_t offset = pos_;
    PIPELINE_RETURN_IF_ERROR(Number(out));
    out->offset_ = offset;
    return Status::Ok();
  }

  Status Object(JsonValue* out, int depth) {
    out->type_ = JsonValue::Type::kObject;
    ++pos_;
    Space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Status::Ok();
    }
    std::unordered_map<std::string, size_t> seen;  // key -> offset of its first occurrence
    while (true) {
      Space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a \"key\"");
      const size_t key_offset = pos_;
      std::string key;
      PIPELINE_RETURN_IF_ERROR(String(&key));
      auto [it, fresh] = seen.emplace(key, key_offset);
      if (!fresh) {
        return ErrorAt(key_offset, "duplicate key " + json::Quote(key) + " (first at byte offset " +
                                       std::to_string(it->second) + ")");
      }
      Space();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':' after the key");
      ++pos_;
      JsonValue v;
      PIPELINE_RETURN_IF_ERROR(Value(&v, depth + 1));
      out->members_.emplace_back(std::move(key), std::move(v));
      Space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      return Error("expected ',' or '}'");
    }
  }

  Status Array(JsonValue* out, int depth) {
    out->type_ = JsonValue::Type::kArray;
    ++pos_;
    Space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Status::Ok();
    }
    while (true) {
      JsonValue v;
      PIPELINE_RETURN_IF_ERROR(Value(&v, depth + 1));
      out->items_.push_back(std::move(v));
      Space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Status::Ok();
      }
      return Error("expected ',' or ']'");
    }
  }

  std::string_view s_;
  const JsonParseOptions& options_;
  size_t pos_ = 0;
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
