#include "tfformat/tensor_value.h"

#include <cctype>
#include <cstdio>

#include "common/checked_math.h"

namespace pipeline {

using namespace tensorflow;

std::string DataTypeName(DataType dtype) {
  // Reference types are the base type plus 100 (DT_FLOAT_REF = 101); a graph's
  // dtype is untrusted, so only that one step is taken (anything past 200 would
  // recurse once per 100: a stack overflow for 2^31 - 1, found by fuzz_savedmodel).
  if (dtype > 100 && dtype < 200) return DataTypeName(static_cast<DataType>(dtype - 100)) + "_ref";
  switch (dtype) {
    case DT_INVALID: return "invalid";
    case DT_FLOAT: return "float";
    case DT_DOUBLE: return "double";
    case DT_INT32: return "int32";
    case DT_UINT8: return "uint8";
    case DT_INT16: return "int16";
    case DT_INT8: return "int8";
    case DT_STRING: return "string";
    case DT_COMPLEX64: return "complex64";
    case DT_INT64: return "int64";
    case DT_BOOL: return "bool";
    case DT_BFLOAT16: return "bfloat16";
    case DT_UINT16: return "uint16";
    case DT_HALF: return "half";
    case DT_RESOURCE: return "resource";
    case DT_VARIANT: return "variant";
    case DT_UINT32: return "uint32";
    case DT_UINT64: return "uint64";
    default: {
      // TensorFlow's DataTypeString is the enum name without DT_, lowercased.
      std::string name = DataType_IsValid(dtype) ? DataType_Name(dtype) : "";
      if (name.rfind("DT_", 0) != 0) return "dtype(" + std::to_string(static_cast<int>(dtype)) + ")";
      name = name.substr(3);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return name;
    }
  }
}

std::string ShapeProtoString(const TensorShapeProto& shape) {
  if (shape.unknown_rank()) return "unknown_rank";
  std::string s = "(";
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape.dim(i).size());
  }
  if (shape.dim_size() == 1) s += ",";
  return s + ")";
}

std::string ShapeString(const TensorShape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t NumElementsOf(const TensorShape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool ShapeCompatible(const TensorShapeProto& spec, const TensorShape& shape) {
  if (spec.unknown_rank()) return true;
  if (spec.dim_size() != static_cast<int>(shape.size())) return false;
  for (int i = 0; i < spec.dim_size(); ++i)
    if (spec.dim(i).size() >= 0 && spec.dim(i).size() != shape[static_cast<size_t>(i)]) return false;
  return true;
}

TensorValue::TensorValue(DataType dtype, TensorShape shape)
    : dtype_(dtype), shape_(std::move(shape)), buf_(std::make_shared<Buffer>()) {
  const int64_t n = NumElementsOf(shape_);
  if (dtype_ == DT_STRING) {
    buf_->strings.resize(static_cast<size_t>(n));
  } else if (dtype_ != DT_RESOURCE) {
    buf_->bytes.assign(static_cast<size_t>(n) * DataTypeSize(dtype_), '\0');
  }
}

TensorValue TensorValue::Strings(TensorShape shape, std::vector<std::string> values) {
  TensorValue t;
  t.dtype_ = DT_STRING;
  t.shape_ = std::move(shape);
  t.buf_ = std::make_shared<Buffer>();
  t.buf_->strings = std::move(values);
  return t;
}

TensorValue TensorValue::FromBytes(DataType dtype, TensorShape shape, std::string bytes) {
  TensorValue t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.buf_ = std::make_shared<Buffer>();
  t.buf_->bytes = std::move(bytes);
  return t;
}

TensorValue TensorValue::Handle(std::string name) {
  TensorValue t;
  t.dtype_ = DT_RESOURCE;
  t.buf_ = std::make_shared<Buffer>();
  t.buf_->strings = {std::move(name)};
  return t;
}

namespace {

template <class T, class L>
void FillFromList(const L& list, int64_t n, T* out) {
  const int64_t m = list.size();
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(list.Get(static_cast<int>(i < m ? i : m - 1)));
}

}  // namespace

Status CheckedTensorSize(DataType dtype, const TensorShape& shape, int64_t* elements, int64_t* bytes) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return Status::Corruption("shape " + ShapeString(shape) + " has a negative dimension");
    if (!CheckedMul(n, d, &n)) {
      return Status::Corruption("shape " + ShapeString(shape) + " has more elements than an int64 counts");
    }
  }
  // A string element costs at least its std::string, whatever its bytes.
  const int64_t esize = dtype == DT_STRING ? static_cast<int64_t>(sizeof(std::string))
                                           : static_cast<int64_t>(DataTypeSize(dtype));
  int64_t b = 0;
  if (!CheckedMul(n, esize, &b)) {
    return Status::Corruption("shape " + ShapeString(shape) + " of " + DataTypeName(dtype) + " (" +
                              std::to_string(n) + " elements) needs more bytes than an int64 counts");
  }
  *elements = n;
  *bytes = b;
  return Status::Ok();
}

Status CheckAllocation(DataType dtype, const TensorShape& shape) {
  int64_t n, bytes;
  PIPELINE_RETURN_IF_ERROR(CheckedTensorSize(dtype, shape, &n, &bytes));
  if (bytes > kMaxTensorBytes) {
    return Status::Corruption("shape " + ShapeString(shape) + " of " + DataTypeName(dtype) + " is " +
                              std::to_string(n) + " elements (" + std::to_string(bytes) +
                              " bytes), more than the 2 GiB a tensor may take");
  }
  return Status::Ok();
}

Status CheckTensorProto(const TensorProto& proto, TensorShape* shape_out) {
  const TensorShapeProto& sp = proto.tensor_shape();
  if (sp.unknown_rank()) return Status::Corruption("TensorProto with unknown rank");
  TensorShape shape;
  for (const auto& d : sp.dim()) {
    if (d.size() < 0) return Status::Corruption("TensorProto with a negative dimension");
    shape.push_back(d.size());
  }
  const DataType dtype = proto.dtype();
  if (dtype != DT_STRING && DataTypeSize(dtype) == 0) {
    return Status::Unimplemented("TensorProto of dtype " + DataTypeName(dtype) + " is not supported");
  }
  int64_t n, bytes;
  PIPELINE_RETURN_IF_ERROR(CheckedTensorSize(dtype, shape, &n, &bytes));
  const std::string declared = "shape " + ShapeString(shape) + " of " + DataTypeName(dtype) + " = " +
                               std::to_string(n) + " elements (" + std::to_string(bytes) + " bytes)";
  if (dtype != DT_STRING && !proto.tensor_content().empty()) {
    // Raw bytes: exactly the declared size, nothing filled in.
    if (static_cast<int64_t>(proto.tensor_content().size()) != bytes) {
      return Status::Corruption("declares " + declared + " but its tensor_content holds " +
                                std::to_string(proto.tensor_content().size()) + " bytes");
    }
    *shape_out = std::move(shape);
    return Status::Ok();
  }
  int64_t m = 0;
  size_t value_size = DataTypeSize(dtype);
  switch (dtype) {
    case DT_STRING: m = proto.string_val_size(); value_size = sizeof(std::string); break;
    case DT_FLOAT: m = proto.float_val_size(); break;
    case DT_DOUBLE: m = proto.double_val_size(); break;
    case DT_INT64: m = proto.int64_val_size(); break;
    case DT_BOOL: m = proto.bool_val_size(); break;
    default: m = proto.int_val_size(); break;
  }
  if (m > n) return Status::Corruption("declares " + declared + " but holds " + std::to_string(m) + " values");
  // Fewer values than elements is TensorFlow's fill rule (the last value, or
  // zero, repeats): legitimate, but the declared size then comes from the
  // shape alone, so it is bounded before anything is allocated.
  if (m < n && bytes > kMaxTensorBytes) {
    return Status::Corruption("declares " + declared + " but holds " + std::to_string(m) + " values (" +
                              std::to_string(m * static_cast<int64_t>(value_size)) +
                              " bytes); filling more than 2 GiB from them is refused");
  }
  *shape_out = std::move(shape);
  return Status::Ok();
}

Status TensorValue::FromProto(const TensorProto& proto, TensorValue* out) {
  TensorShape shape;
  PIPELINE_RETURN_IF_ERROR(CheckTensorProto(proto, &shape));  // before anything is allocated
  const DataType dtype = proto.dtype();
  const int64_t n = NumElementsOf(shape);
  if (dtype == DT_STRING) {
    const int64_t m = proto.string_val_size();
    std::vector<std::string> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n && m > 0; ++i) v[static_cast<size_t>(i)] = proto.string_val(static_cast<int>(i < m ? i : m - 1));
    *out = Strings(shape, std::move(v));
    return Status::Ok();
  }
  if (!proto.tensor_content().empty()) {  // its size was checked against the shape
    *out = FromBytes(dtype, std::move(shape), proto.tensor_content());
    return Status::Ok();
  }
  TensorValue t(dtype, shape);
  int64_t m = 0;
  Status st = DispatchNumeric(dtype, [&](auto tag) -> Status {
    using T = decltype(tag);
    T* p = t.mutable_data<T>();
    if constexpr (std::is_same_v<T, float>) {
      m = proto.float_val_size();
      if (m) FillFromList(proto.float_val(), n, p);
    } else if constexpr (std::is_same_v<T, double>) {
      m = proto.double_val_size();
      if (m) FillFromList(proto.double_val(), n, p);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      m = proto.int64_val_size();
      if (m) FillFromList(proto.int64_val(), n, p);
    } else if constexpr (std::is_same_v<T, bool>) {
      m = proto.bool_val_size();
      if (m) FillFromList(proto.bool_val(), n, p);
    } else {
      m = proto.int_val_size();
      if (m) FillFromList(proto.int_val(), n, p);
    }
    return Status::Ok();
  });
  PIPELINE_RETURN_IF_ERROR(st);
  *out = std::move(t);
  return Status::Ok();
}

Status TensorValue::FromBundle(const BundleTensor& b, TensorValue* out) {
  if (b.dtype == DT_STRING) {
    *out = Strings(b.shape, b.strings);
    return Status::Ok();
  }
  const size_t esize = DataTypeSize(b.dtype);
  if (esize == 0) return Status::Unimplemented("checkpoint dtype " + DataTypeName(b.dtype) + " is not supported");
  TensorValue t(b.dtype, b.shape);
  if (b.bytes.size() != t.raw_size()) {
    return Status::Corruption("checkpoint tensor holds " + std::to_string(b.bytes.size()) + " bytes, shape " +
                              ShapeString(b.shape) + " needs " + std::to_string(t.raw_size()));
  }
  if (!b.bytes.empty()) std::memcpy(t.mutable_raw(), b.bytes.data(), b.bytes.size());
  *out = std::move(t);
  return Status::Ok();
}

void TensorValue::ToProto(TensorProto* proto) const {
  proto->Clear();
  proto->set_dtype(dtype_);
  for (int64_t d : shape_) proto->mutable_tensor_shape()->add_dim()->set_size(d);
  if (dtype_ == DT_STRING) {
    for (const auto& s : strings()) proto->add_string_val(s);
  } else if (buf_) {
    proto->set_tensor_content(buf_->bytes);
  }
}

double TensorValue::AsDouble(int64_t i) const {
  double v = 0;
  (void)DispatchNumeric(dtype_, [&](auto tag) -> Status {
    using T = decltype(tag);
    v = static_cast<double>(data<T>()[i]);
    return Status::Ok();
  });
  return v;
}

std::string TensorValue::DebugString(int max_elements) const {
  if (!valid()) return "<no value>";
  std::string s = DataTypeName(dtype_) + ShapeString(shape_);
  if (dtype_ == DT_RESOURCE) return s + " handle " + handle();
  s += " {";
  const int64_t n = NumElements();
  for (int64_t i = 0; i < n && i < max_elements; ++i) {
    if (i) s += ", ";
    if (dtype_ == DT_STRING) {
      s += "\"" + strings()[static_cast<size_t>(i)] + "\"";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", AsDouble(i));
      s += buf;
    }
  }
  if (n > max_elements) s += ", ...";
  return s + "}";
}

bool TensorValue::SameAs(const TensorValue& o) const {
  if (dtype_ != o.dtype_ || shape_ != o.shape_) return false;
  if (!buf_ || !o.buf_) return buf_ == o.buf_;
  return buf_->bytes == o.buf_->bytes && buf_->strings == o.buf_->strings;
}

}  // namespace pipeline
