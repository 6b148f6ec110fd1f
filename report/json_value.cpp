#include "report/json_value.h"

#include <cmath>
#include <cstdlib>

#include "common/files.h"
#include "common/json.h"

namespace pipeline::report {

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
  explicit JsonParser(const std::string& s) : s_(s) {}

  Status Parse(JsonValue* out) {
    PIPELINE_RETURN_IF_ERROR(Value(out, 0));
    Space();
    if (pos_ != s_.size()) return Error("trailing characters");
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Corruption("json: " + what + " at offset " + std::to_string(pos_));
  }
  void Space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }

  Status String(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) break;
      c = s_[pos_++];
      switch (c) {
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return Error("bad \\u escape");
          uint32_t cp = static_cast<uint32_t>(std::strtoul(s_.substr(pos_, 4).c_str(), nullptr, 16));
          pos_ += 4;
          if (cp >= 0xd800 && cp < 0xdc00 && s_.compare(pos_, 2, "\\u") == 0 && pos_ + 6 <= s_.size()) {
            const uint32_t lo = static_cast<uint32_t>(std::strtoul(s_.substr(pos_ + 2, 4).c_str(), nullptr, 16));
            if (lo >= 0xdc00 && lo < 0xe000) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              pos_ += 6;
            }
          }
          PutUtf8(cp, out);
          break;
        }
        default: out->push_back(c);  // \" \\ \/
      }
    }
    if (pos_ >= s_.size()) return Error("unterminated string");
    ++pos_;
    return Status::Ok();
  }

  Status Value(JsonValue* out, int depth) {
    if (depth > 200) return Error("nesting too deep");
    Space();
    if (pos_ >= s_.size()) return Error("unexpected end");
    const char c = s_[pos_];
    if (c == '{') {
      out->type_ = JsonValue::Type::kObject;
      ++pos_;
      Space();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      while (true) {
        Space();
        if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a key");
        std::string key;
        PIPELINE_RETURN_IF_ERROR(String(&key));
        Space();
        if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
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
    if (c == '[') {
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
    // Numbers; also NaN / Infinity, which some writers emit.
    if (Literal("NaN")) {
      *out = JsonValue::Number(NAN);
      return Status::Ok();
    }
    const char* begin = s_.c_str() + pos_;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin) return Error("unexpected character");
    pos_ += static_cast<size_t>(end - begin);
    *out = JsonValue::Number(v);
    return Status::Ok();
  }

  const std::string& s_;
  size_t pos_ = 0;
};

Status ParseJson(const std::string& text, JsonValue* out) {
  *out = JsonValue();
  return JsonParser(text).Parse(out);
}

Status ReadJsonFile(const std::string& path, JsonValue* out) {
  std::string text;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kRunRecord, &text));
  Status st = ParseJson(text, out);
  if (!st.ok()) return Status::Corruption(path + ": " + st.message());
  return Status::Ok();
}

Status ReadJsonLines(const std::string& path, std::vector<JsonValue>* out) {
  out->clear();
  std::string text;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kRunRecord, &text));
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    JsonValue v;
    if (ParseJson(line, &v).ok()) out->push_back(std::move(v));
  }
  return Status::Ok();
}

}  // namespace pipeline::report
