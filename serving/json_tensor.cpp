#include "serving/json_tensor.h"

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <set>
#include <vector>

#include "common/strings.h"
#include "common/utf8.h"
#include "serving/json_float_rows.h"

namespace pipeline::serving {
namespace {

using tensorflow::DataType;
using Value = rapidjson::Value;
using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// TF Serving's flags plus the iterative parser: its own heap stack instead of
// one C++ frame per nesting level.
constexpr unsigned kParseFlags = rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag;

ServingStatus Invalid(std::string message) { return ServingStatus::Error(ErrorCode::kInvalidArgument, std::move(message)); }

// A status as TensorFlow's Status::ToString writes it (absl's form), which TF
// Serving embeds when it wraps an element's error.
std::string StatusText(const ServingStatus& st) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const auto code = static_cast<size_t>(st.code);
  if (code == 0) return "OK";
  return std::string(code < std::size(kNames) ? kNames[code] : "UNKNOWN") + ": " + st.message;
}

const char* JsonTypeName(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "Null";
    case rapidjson::kFalseType: return "False";
    case rapidjson::kTrueType: return "True";
    case rapidjson::kObjectType: return "Object";
    case rapidjson::kArrayType: return "Array";
    case rapidjson::kStringType: return "String";
    case rapidjson::kNumberType: break;
  }
  return "Number";
}

// A member name as TF Serving reads it: a C string, so a "\u0000" ends it.
std::string MemberName(const Value& name) { return std::string(name.GetString()); }

bool WriteScalar(const Value& v, Writer* w) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return w->Null();
    case rapidjson::kFalseType: return w->Bool(false);
    case rapidjson::kTrueType: return w->Bool(true);
    case rapidjson::kStringType: return w->String(v.GetString(), v.GetStringLength());
    default: break;
  }
  if (v.IsDouble()) return w->Double(v.GetDouble());  // NaN and infinities fail, as in Accept
  if (v.IsInt()) return w->Int(v.GetInt());
  if (v.IsUint()) return w->Uint(v.GetUint());
  if (v.IsInt64()) return w->Int64(v.GetInt64());
  return w->Uint64(v.GetUint64());
}

// TF Serving echoes values whole in its messages (its TODO b/67042542 is to
// truncate them); a PrettyWriter's indentation grows with the depth, so a
// 100,000-deep value would print as gigabytes. Past this many bytes the
// text is cut and ends in "...".
constexpr size_t kMaxValueText = 64 << 10;

// Value::Accept(PrettyWriter) with an explicit stack. Like Accept it stops at
// the first value the writer refuses (a NaN inside a list), leaving the text
// written so far: what TF Serving's messages then hold. False when the text
// was cut at kMaxValueText.
bool WriteValue(const Value& root, const rapidjson::StringBuffer& buffer, Writer* w) {
  struct Frame {
    const Value* v;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  auto open = [&](const Value& v) {
    if (v.IsArray()) {
      w->StartArray();
    } else if (v.IsObject()) {
      w->StartObject();
    } else {
      return WriteScalar(v, w);
    }
    stack.push_back({&v, 0});
    return true;
  };
  if (!open(root)) return true;
  while (!stack.empty()) {
    if (buffer.GetSize() > kMaxValueText) return false;
    const Value* v = stack.back().v;
    const rapidjson::SizeType i = stack.back().next++;
    if (v->IsArray()) {
      if (i == v->Size()) {
        w->EndArray();
        stack.pop_back();
      } else if (!open((*v)[i])) {
        return true;
      }
    } else if (i == v->MemberCount()) {
      w->EndObject();
      stack.pop_back();
    } else {
      const auto& m = v->MemberBegin()[i];
      w->Key(m.name.GetString(), m.name.GetStringLength());
      if (!open(m.value)) return true;
    }
  }
  return true;
}

// TF Serving's JsonValueToString: a float-range decimal as a float, any
// other decimal as a double (both as json_response.h writes them), the rest
// as RapidJSON's PrettyWriter writes it.
std::string JsonText(const Value& v) {
  if (v.IsFloat()) return TfServingDecimal(v.GetFloat(), true);
  if (v.IsDouble()) return TfServingDecimal(v.GetDouble(), false);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  const bool whole = WriteValue(v, buffer, &w);
  std::string text(buffer.GetString(), buffer.GetSize());
  if (!whole) text += "...";
  return text;
}

ServingStatus FormatError(const Value& v, const std::string& what) { return Invalid("JSON Value: " + JsonText(v) + " " + what); }

ServingStatus TypeError(const Value& v, DataType dtype) {
  return Invalid("JSON Value: " + JsonText(v) + " Type: " + JsonTypeName(v) + " is not of expected type: " +
                 DataTypeName(dtype));
}

ServingStatus LossyDecimalError(const Value& v, const char* target) {
  return Invalid("Cannot convert JSON value: " + JsonText(v) + " to " + target + " without loss of precision.");
}

// TF Serving's IsLosslessDecimal: an integer must be exact in T (|i| < 2^digits),
// a decimal within T's range; NaN and infinities pass.
template <class T>
bool IsLosslessDecimal(const Value& v) {
  if (!std::isfinite(v.GetDouble())) return true;
  constexpr int64_t kMaxInt = (int64_t{1} << std::numeric_limits<T>::digits) - 1;
  if (v.IsUint64()) return v.GetUint64() <= static_cast<uint64_t>(kMaxInt);
  if (v.IsInt64()) {
    // TF Serving's std::abs leaves INT64_MIN negative, so it passes (and
    // -2^63 is exact in both types anyway).
    const int64_t i = v.GetInt64();
    return i == std::numeric_limits<int64_t>::min() || (i < 0 ? -i : i) <= kMaxInt;
  }
  return v.GetDouble() <= static_cast<double>(std::numeric_limits<T>::max()) &&
         v.GetDouble() >= static_cast<double>(std::numeric_limits<T>::lowest());
}

bool IsBase64Object(const Value& v) {
  if (!v.IsObject() || v.MemberCount() != 1) return false;
  const auto it = v.FindMember("b64");
  return it != v.MemberEnd() && it->value.IsString();
}

int Base64Digit(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsAsciiSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// absl::Base64Unescape (what TF Serving decodes {"b64": ...} with): the
// standard alphabet; whitespace anywhere is skipped; the padding ('=', or
// '.') may be left out but if present must be complete; the unused low bits
// of the last digit are ignored.
bool Base64Decode(const char* s, size_t n, std::string* out) {
  out->clear();
  out->reserve(n / 4 * 3 + 2);
  uint32_t acc = 0;
  int state = 0;  // digits in `acc`
  size_t i = 0;
  for (; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int d = Base64Digit(c);
    if (d >= 0) {
      acc = (acc << 6) | static_cast<uint32_t>(d);
      if (++state == 4) {
        out->push_back(static_cast<char>(acc >> 16));
        out->push_back(static_cast<char>(acc >> 8));
        out->push_back(static_cast<char>(acc));
        acc = 0;
        state = 0;
      }
    } else if (c == '=' || c == '.') {
      break;
    } else if (!IsAsciiSpace(c)) {
      return false;
    }
  }
  int expected_pads = 0;
  if (state == 1) return false;
  if (state == 2) {
    out->push_back(static_cast<char>(acc >> 4));
    expected_pads = 2;
  } else if (state == 3) {
    out->push_back(static_cast<char>(acc >> 10));
    out->push_back(static_cast<char>(acc >> 2));
    expected_pads = 1;
  }
  int pads = 0;
  for (; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '=' || c == '.') {
      ++pads;
    } else if (!IsAsciiSpace(c)) {
      return false;
    }
  }
  return pads == 0 || pads == expected_pads;
}

ServingStatus DecodeBase64Object(const Value& v, std::string* out) {
  if (!IsBase64Object(v)) return Invalid("JSON Value: " + JsonText(v) + " not formatted correctly for base64 data");
  const Value& text = v.FindMember("b64")->value;
  if (!Base64Decode(text.GetString(), text.GetStringLength(), out)) return Invalid("Unable to base64 decode");
  return ServingStatus::Ok();
}

// TF Serving's GetDenseTensorShape: the list sizes along the first elements.
TensorShape DenseShape(const Value& v) {
  TensorShape shape;
  for (const Value* p = &v; p->IsArray(); p = &(*p)[0]) {
    shape.push_back(static_cast<int64_t>(p->Size()));
    if (p->Empty()) break;
  }
  return shape;
}

// The dtypes a JSON value converts to (TF Serving's AddValueToTensor).
bool Convertible(DataType dtype) {
  switch (dtype) {
    case tensorflow::DT_FLOAT:
    case tensorflow::DT_DOUBLE:
    case tensorflow::DT_INT32:
    case tensorflow::DT_INT16:
    case tensorflow::DT_INT8:
    case tensorflow::DT_UINT8:
    case tensorflow::DT_STRING:
    case tensorflow::DT_INT64:
    case tensorflow::DT_BOOL:
    case tensorflow::DT_UINT32:
    case tensorflow::DT_UINT64: return true;
    default: return false;
  }
}

// Where one input's values go: element `next` on of a tensor allocated once,
// at most `capacity` of them. TF Serving appends to a TensorProto and later
// reads the first NumElements values back (Tensor::FromProto), so a value
// past the end (an input named twice in one instance, an instance of another
// size about to be refused) is counted and dropped.
struct Sink {
  DataType dtype = tensorflow::DT_INVALID;
  TensorValue tensor;
  char* raw = nullptr;
  std::string* strings = nullptr;
  int64_t capacity = 0;
  int64_t next = 0;
};

template <class T>
void Put(Sink* s, T value) {
  if (s->next < s->capacity) std::memcpy(s->raw + s->next * static_cast<int64_t>(sizeof(T)), &value, sizeof(T));
  ++s->next;
}

// Allocates `shape` of the sink's dtype when the JSON could hold that many
// values (one byte at least each): a claimed shape beyond it is a request
// about to be refused, so nothing is allocated for it (a 1 MB body can
// claim [1e6, 1e6] along its first elements).
void Allocate(const TensorShape& shape, size_t json_size, Sink* s) {
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d != 0 && elements > static_cast<int64_t>(json_size) / d) {
      elements = -1;
      break;
    }
    elements *= d;
  }
  if (elements < 0 || !Convertible(s->dtype)) return;  // the values will be refused before the end
  s->tensor = TensorValue(s->dtype, shape);
  s->capacity = elements;
  if (s->dtype == tensorflow::DT_STRING) {
    s->strings = s->tensor.mutable_strings().data();
  } else {
    s->raw = s->tensor.mutable_raw();
  }
}

// The tensor a finished sink holds (one not allocated above has no elements).
TensorValue Finish(const TensorShape& shape, Sink* s) {
  if (!s->tensor.valid()) return TensorValue(s->dtype, shape);
  return std::move(s->tensor);
}

// TF Serving's AddValueToTensor (and the {"b64": ...} case of FillTensorProto)
// for one value at the last level.
bool AddValue(const Value& v, Sink* s, ServingStatus* error) {
  const DataType dtype = s->dtype;
  if (v.IsObject()) {
    if (dtype != tensorflow::DT_STRING) {
      *error = TypeError(v, dtype);
      return false;
    }
    std::string scratch;
    std::string* out = s->next < s->capacity ? &s->strings[s->next] : &scratch;
    *error = DecodeBase64Object(v, out);
    if (!error->ok()) return false;
    ++s->next;
    return true;
  }
  switch (dtype) {
    case tensorflow::DT_FLOAT:
      if (!v.IsNumber()) break;
      if (!IsLosslessDecimal<float>(v)) {
        *error = LossyDecimalError(v, "float");
        return false;
      }
      Put<float>(s, v.GetFloat());
      return true;
    case tensorflow::DT_DOUBLE:
      if (!v.IsNumber()) break;
      if (!IsLosslessDecimal<double>(v)) {
        *error = LossyDecimalError(v, "double");
        return false;
      }
      Put<double>(s, v.GetDouble());
      return true;
    // A JSON int32 into TensorProto.int_val, which TensorFlow casts to the
    // narrower type (300 as uint8 is 44).
    case tensorflow::DT_INT32:
      if (!v.IsInt()) break;
      Put<int32_t>(s, v.GetInt());
      return true;
    case tensorflow::DT_INT16:
      if (!v.IsInt()) break;
      Put<int16_t>(s, static_cast<int16_t>(v.GetInt()));
      return true;
    case tensorflow::DT_INT8:
      if (!v.IsInt()) break;
      Put<int8_t>(s, static_cast<int8_t>(v.GetInt()));
      return true;
    case tensorflow::DT_UINT8:
      if (!v.IsInt()) break;
      Put<uint8_t>(s, static_cast<uint8_t>(v.GetInt()));
      return true;
    case tensorflow::DT_STRING:
      if (!v.IsString()) break;
      if (s->next < s->capacity) s->strings[s->next].assign(v.GetString(), v.GetStringLength());
      ++s->next;
      return true;
    case tensorflow::DT_INT64:
      if (!v.IsInt64()) break;
      Put<int64_t>(s, v.GetInt64());
      return true;
    case tensorflow::DT_BOOL:
      if (!v.IsBool()) break;
      Put<bool>(s, v.GetBool());
      return true;
    case tensorflow::DT_UINT32:
      if (!v.IsUint()) break;
      Put<uint32_t>(s, v.GetUint());
      return true;
    case tensorflow::DT_UINT64:
      if (!v.IsUint64()) break;
      Put<uint64_t>(s, v.GetUint64());
      return true;
    default:
      *error = ServingStatus::Error(ErrorCode::kUnimplemented,
                                    "Conversion of JSON Value: " + JsonText(v) + " to type: " + DataTypeName(dtype));
      return false;
  }
  *error = TypeError(v, dtype);
  return false;
}

bool AddLeaf(const Value& v, size_t level, size_t rank, Sink* s, ServingStatus* error) {
  if (level != rank) {
    *error = Invalid("JSON Value: " + JsonText(v) + " found at incorrect level: " + std::to_string(level + 1) +
                     " in the JSON DOM. Expected at level: " + std::to_string(rank));
    return false;
  }
  return AddValue(v, s, error);
}

bool CheckList(const Value& list, size_t level, const TensorShape& shape, ServingStatus* error) {
  if (level >= shape.size()) {
    *error = Invalid("Encountered list at unexpected level: " + std::to_string(level) + " expected < " +
                     std::to_string(shape.size()));
    return false;
  }
  if (static_cast<int64_t>(list.Size()) != shape[level]) {
    *error = Invalid("Encountered list at unexpected size: " + std::to_string(list.Size()) + " at level: " +
                     std::to_string(level) + " expected size: " + std::to_string(shape[level]));
    return false;
  }
  return true;
}

// TF Serving's FillTensorProto over an explicit stack: the values of `v`, in
// row-major order, checking that every list at level d has shape[d] items
// and that every value sits at the last level.
bool FillValues(const Value& v, const TensorShape& shape, Sink* s, ServingStatus* error) {
  const size_t rank = shape.size();
  if (!v.IsArray()) return AddLeaf(v, 0, rank, s, error);
  if (!CheckList(v, 0, shape, error)) return false;
  struct Frame {
    const Value* list;
    rapidjson::SizeType next;
  };
  std::vector<Frame> stack;
  stack.reserve(rank);
  stack.push_back({&v, 0});
  while (!stack.empty()) {
    Frame& top = stack.back();
    const size_t level = stack.size();  // of the top list's items
    const rapidjson::SizeType size = top.list->Size();
    if (level == rank) {  // the last level: a run of values (the common case, in one loop)
      for (; top.next < size; ++top.next) {
        const Value& item = (*top.list)[top.next];
        if (item.IsArray()) {
          CheckList(item, level, shape, error);
          return false;
        }
        if (!AddValue(item, s, error)) return false;
      }
      stack.pop_back();
      continue;
    }
    if (top.next == size) {
      stack.pop_back();
      continue;
    }
    const Value& item = (*top.list)[top.next++];
    if (!item.IsArray()) return AddLeaf(item, level, rank, s, error);  // above the last level: refused
    if (!CheckList(item, level, shape, error)) return false;
    stack.push_back({&item, 0});
  }
  return true;
}

// TF Serving's ParseJson: a JSON object, or InvalidArgument.
ServingStatus ParseJson(std::string_view json, rapidjson::Document* doc) {
  if (json.empty()) return Invalid("JSON Parse error: The document is empty");
  rapidjson::MemoryStream bytes(json.data(), json.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(bytes);
  if (doc->ParseStream<kParseFlags>(stream).HasParseError()) {
    return Invalid(std::string("JSON Parse error: ") + rapidjson::GetParseError_En(doc->GetParseError()) +
                   " at offset: " + std::to_string(doc->GetErrorOffset()));
  }
  if (!doc->IsObject()) return FormatError(*doc, "Is not object");
  return ServingStatus::Ok();
}

// The optional "signature_name"; `set` is called only when it is present.
template <class Set>
ServingStatus FillSignature(const rapidjson::Document& doc, Set&& set) {
  const auto it = doc.FindMember("signature_name");
  if (it == doc.MemberEnd()) return ServingStatus::Ok();
  if (!it->value.IsString()) {
    return Invalid("JSON Value: " + JsonText(doc) + " not formatted correctly. 'signature_name' key must be a string value.");
  }
  set(std::string(it->value.GetString(), it->value.GetStringLength()));
  return ServingStatus::Ok();
}

using DtypeMap = std::map<std::string, DataType>;

// One input of a row-format request: its tensor ([instances] + the first
// instance's shape) and what the first instance gave, which the others must match.
struct RowInput {
  Sink sink;
  TensorShape shape;
  int64_t size = 0;
};

std::string ShapeText(const TensorShape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// TF Serving's AddInstanceItem.
ServingStatus AddInstanceItem(const Value& item, const std::string& name, const DtypeMap& dtypes, int64_t batch,
                              size_t json_size, std::map<std::string, RowInput>* rows) {
  const auto dtype = dtypes.find(name);
  if (dtype == dtypes.end()) return Invalid("JSON object: does not have named input: " + name);
  const TensorShape shape = DenseShape(item);
  auto it = rows->find(name);
  const bool first = it == rows->end();
  if (first) {
    it = rows->emplace(name, RowInput{}).first;
    it->second.sink.dtype = dtype->second;
    TensorShape batched = shape;
    batched.insert(batched.begin(), batch);
    Allocate(batched, json_size, &it->second.sink);
  }
  RowInput& in = it->second;
  const int64_t before = in.sink.next;
  ServingStatus error;
  if (!FillValues(item, shape, &in.sink, &error)) return error;
  const int64_t size = in.sink.next - before;
  if (first) {
    in.shape = shape;
    in.size = size;
  } else if (size != in.size) {
    return Invalid("Expecting tensor size: " + std::to_string(in.size) + " but got: " + std::to_string(size));
  } else if (shape != in.shape) {
    return Invalid("Expecting shape " + ShapeText(in.shape) + " but got: " + ShapeText(shape));
  }
  return ServingStatus::Ok();
}

// An instance that names inputs (not a {"b64": ...} value).
bool IsElementObject(const Value& v) { return v.IsObject() && !IsBase64Object(v); }

// TF Serving's FillTensorMapFromInstancesList.
ServingStatus FillFromInstances(const Value& list, const DtypeMap& dtypes, size_t json_size,
                                std::map<std::string, TensorValue>* inputs) {
  if (!list[0].IsObject() && dtypes.size() > 1) {
    return Invalid(
        "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
        "tensorinfo_map");
  }
  const bool objects = IsElementObject(list[0]);
  std::set<std::string> names;
  for (const auto& [name, dtype] : dtypes) names.insert(name);
  const int64_t batch = static_cast<int64_t>(list.Size());
  std::map<std::string, RowInput> rows;
  int64_t index = 0;
  for (const Value& elem : list.GetArray()) {
    const std::string element = std::to_string(index);
    if (objects) {
      if (!IsElementObject(elem)) return Invalid("Expecting object but got list at item " + element + " of input list");
      std::set<std::string> keys;
      for (const auto& member : elem.GetObject()) {
        const std::string name = MemberName(member.name);
        keys.insert(name);
        const ServingStatus st = AddInstanceItem(member.value, name, dtypes, batch, json_size, &rows);
        if (!st.ok()) {
          return Invalid("Failed to process element: " + element + " key: " + name + " of 'instances' list. Error: " +
                         StatusText(st));
        }
      }
      if (keys != names) {
        return Invalid("Failed to process element: " + element + " of 'instances' list. JSON object: " + JsonText(elem) +
                       " keys must be equal to: " + Join(std::vector<std::string>(names.begin(), names.end()), ","));
      }
    } else {
      if (IsElementObject(elem)) return Invalid("Expecting value/list but got object at item " + element + " of input list");
      const ServingStatus st = AddInstanceItem(elem, dtypes.begin()->first, dtypes, batch, json_size, &rows);
      if (!st.ok()) return Invalid("Failed to process element: " + element + " of 'instances' list. Error: " + StatusText(st));
    }
    ++index;
  }
  for (auto& [name, row] : rows) {
    TensorShape batched = row.shape;
    batched.insert(batched.begin(), batch);
    (*inputs)[name] = Finish(batched, &row.sink);
  }
  return ServingStatus::Ok();
}

// One columnar tensor: the whole value, its shape read along its first elements.
ServingStatus FillTensor(const Value& v, DataType dtype, size_t json_size, TensorValue* out) {
  const TensorShape shape = DenseShape(v);
  Sink sink;
  sink.dtype = dtype;
  Allocate(shape, json_size, &sink);
  ServingStatus error;
  if (!FillValues(v, shape, &sink, &error)) return error;
  *out = Finish(shape, &sink);
  return ServingStatus::Ok();
}

// TF Serving's FillTensorMapFromInputsMap.
ServingStatus FillFromInputs(const Value& v, const DtypeMap& dtypes, size_t json_size,
                             std::map<std::string, TensorValue>* inputs) {
  if (!v.IsObject() || IsBase64Object(v)) {
    if (dtypes.size() > 1) {
      return Invalid(
          "inputs is a plain value/list, but expecting an object as multiple input tensors required as per "
          "tensorinfo_map");
    }
    return FillTensor(v, dtypes.begin()->second, json_size, &(*inputs)[dtypes.begin()->first]);
  }
  for (const auto& [name, dtype] : dtypes) {
    const auto it = v.FindMember(name.c_str());
    if (it == v.MemberEnd()) return Invalid("Missing named input: " + name + " in 'inputs' object.");
    const ServingStatus st = FillTensor(it->value, dtype, json_size, &(*inputs)[name]);
    if (!st.ok()) return st;
  }
  return ServingStatus::Ok();
}

// --- classify / regress: examples ---

ServingStatus IncompatibleFeatureKind(const std::string& name, const tensorflow::Feature& feature) {
  const char* kind = "UNKNOWN";
  switch (feature.kind_case()) {
    case tensorflow::Feature::kBytesList: kind = "bytes"; break;
    case tensorflow::Feature::kFloatList: kind = "float"; break;
    case tensorflow::Feature::kInt64List: kind = "int64"; break;
    case tensorflow::Feature::KIND_NOT_SET: break;
  }
  return Invalid("Unexpected element type in feature: " + name + " expecting type: " + kind);
}

bool OfKind(const tensorflow::Feature& f, tensorflow::Feature::KindCase kind) {
  return f.kind_case() == tensorflow::Feature::KIND_NOT_SET || f.kind_case() == kind;
}

ServingStatus UnexpectedType(const std::string& name, const Value& v) {
  return Invalid("Feature: " + name + " has element with unexpected JSON type: " + JsonTypeName(v));
}

// TF Serving's AddValueToFeature.
ServingStatus AddValueToFeature(const Value& v, const std::string& name, tensorflow::Feature* f) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kArrayType: return UnexpectedType(name, v);
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      if (!OfKind(*f, tensorflow::Feature::kInt64List)) return IncompatibleFeatureKind(name, *f);
      f->mutable_int64_list()->add_value(v.GetBool() ? 1 : 0);
      return ServingStatus::Ok();
    case rapidjson::kObjectType:
      if (!IsBase64Object(v)) return UnexpectedType(name, v);
      if (!OfKind(*f, tensorflow::Feature::kBytesList)) return IncompatibleFeatureKind(name, *f);
      return DecodeBase64Object(v, f->mutable_bytes_list()->add_value());
    case rapidjson::kStringType:
      if (!OfKind(*f, tensorflow::Feature::kBytesList)) return IncompatibleFeatureKind(name, *f);
      f->mutable_bytes_list()->add_value(std::string(v.GetString(), v.GetStringLength()));
      return ServingStatus::Ok();
    case rapidjson::kNumberType: break;
  }
  if (v.IsDouble()) {  // a fraction, an exponent, NaN or an infinity
    if (!OfKind(*f, tensorflow::Feature::kFloatList)) return IncompatibleFeatureKind(name, *f);
    if (!IsLosslessDecimal<float>(v)) return LossyDecimalError(v, "float");
    f->mutable_float_list()->add_value(v.GetFloat());
    return ServingStatus::Ok();
  }
  if (!OfKind(*f, tensorflow::Feature::kInt64List)) return IncompatibleFeatureKind(name, *f);
  if (!v.IsInt64()) return Invalid("Feature: " + name + " has uint64 element. Only int64 is supported.");
  f->mutable_int64_list()->add_value(v.GetInt64());
  return ServingStatus::Ok();
}

// TF Serving's MakeExampleFromJsonObject: {"feature": value or [values], ...}.
ServingStatus MakeExample(const Value& v, tensorflow::Example* example) {
  if (!v.IsObject()) return Invalid(std::string("Example must be JSON object but got JSON ") + JsonTypeName(v));
  auto& features = *example->mutable_features()->mutable_feature();
  for (const auto& member : v.GetObject()) {
    const std::string name = MemberName(member.name);
    tensorflow::Feature feature;
    if (member.value.IsArray()) {
      for (const Value& item : member.value.GetArray()) {
        const ServingStatus st = AddValueToFeature(item, name, &feature);
        if (!st.ok()) return st;
      }
    } else {
      const ServingStatus st = AddValueToFeature(member.value, name, &feature);
      if (!st.ok()) return st;
    }
    features[name] = std::move(feature);
  }
  return ServingStatus::Ok();
}

// TF Serving's FillClassifyRegressRequestFromJson (its texts say "classify"
// for regress requests too).
template <class Request>
ServingStatus FillExamples(std::string_view json, Request* request) {
  rapidjson::Document doc;
  ServingStatus st = ParseJson(json, &doc);
  if (!st.ok()) return st;
  st = FillSignature(doc, [&](std::string name) { request->mutable_model_spec()->set_signature_name(std::move(name)); });
  if (!st.ok()) return st;
  auto* input = request->mutable_input();
  bool has_context = false;
  auto it = doc.FindMember("context");
  if (it != doc.MemberEnd()) {
    st = MakeExample(it->value, input->mutable_example_list_with_context()->mutable_context());
    if (!st.ok()) return st;
    has_context = true;
  }
  it = doc.FindMember("examples");
  if (it == doc.MemberEnd()) return FormatError(doc, "When method is classify, key 'examples' is expected and was not found");
  if (!it->value.IsArray()) return FormatError(doc, "Expecting 'examples' value to be an list/array");
  if (it->value.Empty()) return FormatError(doc, "'examples' value is an empty array");
  for (const Value& v : it->value.GetArray()) {
    st = MakeExample(v, has_context ? input->mutable_example_list_with_context()->add_examples()
                                    : input->mutable_example_list()->add_examples());
    if (!st.ok()) return st;
  }
  return ServingStatus::Ok();
}

void WriteScore(float score, Writer* w) {
  const std::string d = TfServingDecimal(score, true);
  w->RawValue(d.c_str(), d.size(), rapidjson::kNumberType);
}

}  // namespace

ServingStatus FillPredictRequestFromJson(std::string_view json, const InputDtypesFn& input_dtypes_of,
                                         PredictRequest* request, JsonFormat* format) {
  if (FillFloatRowsFromJson(json, input_dtypes_of, request, format)) return ServingStatus::Ok();
  return FillPredictRequestFromJsonDom(json, input_dtypes_of, request, format);
}

ServingStatus FillPredictRequestFromJsonDom(std::string_view json, const InputDtypesFn& input_dtypes_of,
                                            PredictRequest* request, JsonFormat* format) {
  rapidjson::Document doc;
  ServingStatus st = ParseJson(json, &doc);
  if (!st.ok()) return st;
  st = FillSignature(doc, [&](std::string name) { request->signature_name = std::move(name); });
  if (!st.ok()) return st;
  DtypeMap dtypes;
  st = input_dtypes_of(request->signature_name, &dtypes);
  if (!st.ok()) return st;
  if (dtypes.empty()) {
    return Invalid("Failed to get input map for signature: " +
                   (request->signature_name.empty() ? std::string("DEFAULT") : request->signature_name));
  }
  request->inputs.clear();
  const auto instances = doc.FindMember("instances");
  const auto inputs = doc.FindMember("inputs");
  if (instances != doc.MemberEnd()) {
    if (inputs != doc.MemberEnd()) {
      return FormatError(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
    }
    if (!instances->value.IsArray()) return FormatError(doc, "Excepting 'instances' to be an list/array");
    if (instances->value.Empty()) return FormatError(doc, "No values in 'instances' array");
    *format = JsonFormat::kRow;
    return FillFromInstances(instances->value, dtypes, json.size(), &request->inputs);
  }
  if (inputs != doc.MemberEnd()) {
    *format = JsonFormat::kColumnar;
    return FillFromInputs(inputs->value, dtypes, json.size(), &request->inputs);
  }
  return Invalid("Missing 'inputs' or 'instances' key");
}

ServingStatus FillClassificationRequestFromJson(std::string_view json, tensorflow::serving::ClassificationRequest* request) {
  return FillExamples(json, request);
}

ServingStatus FillRegressionRequestFromJson(std::string_view json, tensorflow::serving::RegressionRequest* request) {
  return FillExamples(json, request);
}

ServingStatus MakeJsonFromClassificationResult(const tensorflow::serving::ClassificationResult& result, std::string* json) {
  if (result.classifications_size() == 0) return Invalid("Cannot convert empty ClassificationResults to JSON");
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("results");
  w.StartArray();
  for (const auto& classifications : result.classifications()) {
    w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    w.StartArray();
    for (const auto& c : classifications.classes()) {
      w.StartArray();
      const std::string label = utf8::ReplaceInvalid(c.label());  // JSON text is UTF-8, as json_response.h writes strings
      w.String(label.c_str(), static_cast<rapidjson::SizeType>(label.size()));
      WriteScore(c.score(), &w);
      w.EndArray();
    }
    w.EndArray();
    w.SetFormatOptions(rapidjson::kFormatDefault);
  }
  w.EndArray();
  w.EndObject();
  json->assign(buffer.GetString(), buffer.GetSize());
  return ServingStatus::Ok();
}

ServingStatus MakeJsonFromRegressionResult(const tensorflow::serving::RegressionResult& result, std::string* json) {
  if (result.regressions_size() == 0) return Invalid("Cannot convert empty RegressionResults to JSON");
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("results");
  w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
  w.StartArray();
  for (const auto& r : result.regressions()) WriteScore(r.value(), &w);
  w.EndArray();
  w.EndObject();
  json->assign(buffer.GetString(), buffer.GetSize());
  return ServingStatus::Ok();
}

}  // namespace pipeline::serving
