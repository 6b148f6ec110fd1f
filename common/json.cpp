#include "common/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <rapidjson/prettywriter.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/utf8.h"

namespace pipeline::json {

namespace {

using Buffer = rapidjson::StringBuffer;
using Base = rapidjson::Writer<Buffer>;

// RapidJSON's Writer with the pipeline's layout: ", " between values and
// ": " after a key. Like RapidJSON's own PrettyWriter, it replaces the
// prefix and calls the base class's Write* for the values themselves.
class SpacedWriter : public Base {
 public:
  explicit SpacedWriter(Buffer& out) : Base(out) {}

  bool Null() { Spaced(); return EndValue(WriteNull()); }
  bool Bool(bool b) { Spaced(); return EndValue(WriteBool(b)); }
  bool Int64(int64_t i) { Spaced(); return EndValue(WriteInt64(i)); }
  bool String(const char* s, rapidjson::SizeType n) { Spaced(); return EndValue(WriteString(s, n)); }
  bool Key(const char* s, rapidjson::SizeType n) { return String(s, n); }
  bool RawValue(const char* s, size_t n) { Spaced(); return EndValue(WriteRawValue(s, n)); }
  bool StartObject() {
    Spaced();
    new (level_stack_.template Push<Level>()) Level(false);
    return WriteStartObject();
  }
  bool StartArray() {
    Spaced();
    new (level_stack_.template Push<Level>()) Level(true);
    return WriteStartArray();
  }
  // Base::EndObject / EndArray pop the level and need no prefix.

 private:
  void Spaced() {
    if (level_stack_.GetSize() == 0) {
      hasRoot_ = true;
      return;
    }
    Level* level = level_stack_.template Top<Level>();
    if (level->valueCount > 0) {
      if (level->inArray || level->valueCount % 2 == 0) {
        os_->Put(',');
      } else {
        os_->Put(':');
      }
      os_->Put(' ');
    }
    ++level->valueCount;
  }
};

std::string Repaired(std::string_view s) {
  return utf8::FirstInvalid(s) == std::string::npos ? std::string(s) : utf8::ReplaceInvalid(s);
}

}  // namespace

struct Writer::Impl {
  Buffer buffer;
  SpacedWriter writer{buffer};
};

Writer::Writer() : impl_(std::make_unique<Impl>()) {}
Writer::~Writer() = default;

Writer& Writer::StartObject() { impl_->writer.StartObject(); return *this; }
Writer& Writer::EndObject() { impl_->writer.EndObject(); return *this; }
Writer& Writer::StartArray() { impl_->writer.StartArray(); return *this; }
Writer& Writer::EndArray() { impl_->writer.EndArray(); return *this; }
Writer& Writer::Key(std::string_view key) {
  const std::string k = Repaired(key);
  impl_->writer.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  return *this;
}
Writer& Writer::String(std::string_view value) {
  const std::string v = Repaired(value);
  impl_->writer.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  return *this;
}
Writer& Writer::Number(double value) { return Raw(json::Number(value)); }
Writer& Writer::Int(long long value) { impl_->writer.Int64(value); return *this; }
Writer& Writer::Bool(bool value) { impl_->writer.Bool(value); return *this; }
Writer& Writer::Null() { impl_->writer.Null(); return *this; }
Writer& Writer::Raw(std::string_view json_value) {
  impl_->writer.RawValue(json_value.data(), json_value.size());
  return *this;
}
std::string Writer::str() const { return std::string(impl_->buffer.GetString(), impl_->buffer.GetSize()); }

std::string Quote(std::string_view s) {
  Writer w;
  w.String(s);
  return w.str();
}

std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  // The shortest "%.*g" (precision 6 to 17) that reads back as v. to_chars
  // with a precision is specified as printf's %.*g in the "C" locale, so the
  // bytes are snprintf's; to_chars and from_chars are several times faster.
  char buf[32];
  char* end = buf;
  for (int precision = 6; precision <= 17; ++precision) {
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision).ptr;
    double back = 0;
    std::from_chars(buf, end, back);
    if (back == v) break;
  }
  return std::string(buf, end);
}

Object& Object::Raw(const std::string& key, const std::string& json_value) {
  members_.emplace_back(key, json_value);
  return *this;
}

std::string Object::str() const {
  Writer w;
  w.StartObject();
  for (const auto& [key, value] : members_) w.Key(key).Raw(value);
  w.EndObject();
  return w.str();
}

std::string Array(const std::vector<std::string>& json_values) {
  Writer w;
  w.StartArray();
  for (const auto& v : json_values) w.Raw(v);
  w.EndArray();
  return w.str();
}

namespace {

// Numbers are read as their text (kParseNumbersAsStringsFlag) and written back
// as that text, instead of re-printing a double (1e-07 would become 1e-7).
// PrettyWriter's own RawNumber would quote them.
class TextNumberPrettyWriter : public rapidjson::PrettyWriter<rapidjson::StringBuffer> {
 public:
  using PrettyWriter::PrettyWriter;
  bool RawNumber(const char* text, rapidjson::SizeType length, bool) {
    return RawValue(text, length, rapidjson::kNumberType);
  }
};

}  // namespace

std::string StringArray(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const auto& v : values) quoted.push_back(Quote(v));
  return Array(quoted);
}

std::string Indented(std::string_view json_text) {
  rapidjson::StringBuffer out;
  TextNumberPrettyWriter writer(out);
  writer.SetIndent(' ', 2);
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(json_text.data(), json_text.size());
  if (!reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(in, writer))
    return "";
  return std::string(out.GetString(), out.GetSize()) + "\n";
}

}  // namespace pipeline::json
