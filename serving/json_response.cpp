#include "serving/json_response.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/utf8.h"

namespace pipeline::serving {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

std::string Base64(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool Writable(tensorflow::DataType dtype) {
  switch (dtype) {
    case tensorflow::DT_FLOAT:
    case tensorflow::DT_DOUBLE:
    case tensorflow::DT_INT32:
    case tensorflow::DT_INT16:
    case tensorflow::DT_INT8:
    case tensorflow::DT_UINT8:
    case tensorflow::DT_INT64:
    case tensorflow::DT_BOOL:
    case tensorflow::DT_STRING: return true;
    default: return false;
  }
}

void WriteElement(const TensorValue& t, int64_t i, bool bytes, Writer* w) {
  switch (t.dtype()) {
    case tensorflow::DT_FLOAT:
    case tensorflow::DT_DOUBLE: {
      const std::string d = TfServingDecimal(t.AsDouble(i), t.dtype() == tensorflow::DT_FLOAT);
      w->RawValue(d.c_str(), static_cast<rapidjson::SizeType>(d.size()), rapidjson::kNumberType);
      break;
    }
    case tensorflow::DT_INT64: w->Int64(t.data<int64_t>()[i]); break;
    case tensorflow::DT_BOOL: w->Bool(t.data<bool>()[i]); break;
    case tensorflow::DT_STRING: {
      const std::string& s = t.strings()[static_cast<size_t>(i)];
      if (bytes) {
        const std::string b = Base64(s);
        w->StartObject();
        w->Key("b64");
        w->String(b.c_str(), static_cast<rapidjson::SizeType>(b.size()));
        w->EndObject();
      } else {
        const std::string u = utf8::ReplaceInvalid(s);  // JSON text is UTF-8 (RFC 8259 8.1)
        w->String(u.c_str(), static_cast<rapidjson::SizeType>(u.size()));
      }
      break;
    }
    default: w->Int(static_cast<int>(t.AsDouble(i))); break;  // int32, int16, int8, uint8
  }
}

// TF Serving's AddTensorValues: the elements from *offset on, nested from `dim`.
void WriteValues(const TensorValue& t, bool bytes, int dim, Writer* w, int64_t* offset) {
  if (dim > t.rank() - 1) {
    WriteElement(t, (*offset)++, bytes, w);
    return;
  }
  w->StartArray();
  for (int64_t i = 0; i < t.dim(dim); ++i) {
    if (dim == t.rank() - 1) {
      WriteElement(t, (*offset)++, bytes, w);
    } else {
      WriteValues(t, bytes, dim + 1, w, offset);
    }
  }
  w->EndArray();
}

}  // namespace

std::string TfServingDecimal(double value, bool is_float) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return std::signbit(value) ? "-Infinity" : "Infinity";
  // to_chars with a precision is specified as printf's "%.*g" in the "C"
  // locale (the same bytes), and it and from_chars are several times faster
  // than snprintf and strtof: a batch-100 reply writes 1,000 of these.
  char buf[40];
  char* end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 6).ptr;
  bool same = false;
  if (is_float) {
    float back = 0;
    same = std::from_chars(buf, end, back).ec == std::errc() && back == static_cast<float>(value);
  } else {
    double back = 0;
    same = std::from_chars(buf, end, back).ec == std::errc() && back == value;
  }
  if (!same) end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, is_float ? 9 : 17).ptr;
  std::string s(buf, end);
  if (s.find('.') == std::string::npos && s.find('e') == std::string::npos) s += ".0";
  return s;
}

ServingStatus MakeJsonFromTensors(const std::map<std::string, TensorValue>& outputs, JsonFormat format,
                                  std::string* json) {
  if (outputs.empty()) return ServingStatus::Error(ErrorCode::kInvalidArgument, "Cannot convert empty tensor map to JSON");
  for (const auto& [name, t] : outputs) {
    if (!Writable(t.dtype())) {
      return ServingStatus::Error(ErrorCode::kInvalidArgument,
                                  "Failed to write JSON value for tensor type: " + DataTypeName(t.dtype()));
    }
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  const bool objects = outputs.size() > 1;
  w.StartObject();
  if (format == JsonFormat::kRow) {
    int64_t batch = -1;
    for (const auto& [name, t] : outputs) {
      if (t.rank() == 0) {
        return ServingStatus::Error(ErrorCode::kInvalidArgument, "Tensor name: " + name + " has no shape information ");
      }
      if (batch >= 0 && batch != t.dim(0)) {
        return ServingStatus::Error(ErrorCode::kInvalidArgument,
                                    "Tensor name: " + name + " has inconsistent batch size: " + std::to_string(t.dim(0)) +
                                        " expecting: " + std::to_string(batch));
      }
      batch = t.dim(0);
    }
    std::map<std::string, int64_t> offsets;
    w.Key("predictions");
    w.StartArray();
    for (int64_t item = 0; item < batch; ++item) {
      if (objects) w.StartObject();
      w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
      for (const auto& [name, t] : outputs) {
        if (objects) w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
        WriteValues(t, t.dtype() == tensorflow::DT_STRING && EndsWith(name, "_bytes"), 1, &w, &offsets[name]);
      }
      w.SetFormatOptions(rapidjson::kFormatDefault);
      if (objects) w.EndObject();
    }
    w.EndArray();
  } else {
    w.Key("outputs");
    if (objects) w.StartObject();
    for (const auto& [name, t] : outputs) {
      if (objects) w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      int64_t offset = 0;
      WriteValues(t, t.dtype() == tensorflow::DT_STRING && EndsWith(name, "_bytes"), 0, &w, &offset);
    }
    if (objects) w.EndObject();
  }
  w.EndObject();
  json->assign(buffer.GetString(), buffer.GetSize());
  return ServingStatus::Ok();
}

std::string MakeJsonFromStatus(const ServingStatus& status) {
  if (status.ok()) return "";
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  const std::string msg = utf8::ReplaceInvalid(status.message);
  w.StartObject();
  w.Key("error");
  w.String(msg.c_str(), static_cast<rapidjson::SizeType>(msg.size()));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace pipeline::serving
