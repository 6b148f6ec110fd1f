// TensorValue: the dense tensors the SavedModel interpreter computes with.
// Numeric elements are kept as raw host (little-endian) bytes, DT_STRING as
// one std::string per element, DT_RESOURCE as a scalar handle name. Copies
// share storage; mutable access copies on write, so values flowing along
// graph edges (Identity, memoized outputs, fetches) are never duplicated.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/tensor.pb.h"
#include "proto/tensor_shape.pb.h"
#include "proto/types.pb.h"
#include "tfformat/bundle_tensor.h"

namespace pipeline {

using TensorShape = std::vector<int64_t>;  // empty = scalar

// C++ element type -> DataType (float, double, int8..int64, uint8/16, bool).
template <class T>
constexpr tensorflow::DataType DataTypeOf();
template <> constexpr tensorflow::DataType DataTypeOf<float>() { return tensorflow::DT_FLOAT; }
template <> constexpr tensorflow::DataType DataTypeOf<double>() { return tensorflow::DT_DOUBLE; }
template <> constexpr tensorflow::DataType DataTypeOf<int32_t>() { return tensorflow::DT_INT32; }
template <> constexpr tensorflow::DataType DataTypeOf<int64_t>() { return tensorflow::DT_INT64; }
template <> constexpr tensorflow::DataType DataTypeOf<int16_t>() { return tensorflow::DT_INT16; }
template <> constexpr tensorflow::DataType DataTypeOf<int8_t>() { return tensorflow::DT_INT8; }
template <> constexpr tensorflow::DataType DataTypeOf<uint8_t>() { return tensorflow::DT_UINT8; }
template <> constexpr tensorflow::DataType DataTypeOf<uint16_t>() { return tensorflow::DT_UINT16; }
template <> constexpr tensorflow::DataType DataTypeOf<bool>() { return tensorflow::DT_BOOL; }

// "float", "int64", "string", "float_ref", ... (TensorFlow's DataTypeString).
std::string DataTypeName(tensorflow::DataType dtype);
// "(-1, 784)" / "()" / "unknown_rank", as saved_model_cli prints shapes.
std::string ShapeProtoString(const tensorflow::TensorShapeProto& shape);
std::string ShapeString(const TensorShape& shape);  // "[2,10]"
int64_t NumElementsOf(const TensorShape& shape);  // unchecked: for shapes already checked

// The largest tensor the reader materializes from a declared shape alone (a
// Const filled from fewer values, Fill, Range): 2 GiB, the most one
// saved_model.pb (a protobuf message) could hold explicitly.
constexpr int64_t kMaxTensorBytes = int64_t{2} << 30;
// Element count and bytes (strings counted as sizeof(std::string) each) of
// `shape`, with checked arithmetic; Corruption on a negative dim or overflow.
Status CheckedTensorSize(tensorflow::DataType dtype, const TensorShape& shape, int64_t* elements, int64_t* bytes);
// CheckedTensorSize and at most kMaxTensorBytes: call before allocating a
// tensor whose shape comes from data.
Status CheckAllocation(tensorflow::DataType dtype, const TensorShape& shape);
// Whether a TensorProto's declared shape agrees with the values present,
// without allocating: tensor_content must hold exactly shape x dtype bytes;
// typed values may be fewer (TensorFlow's fill rule) but then the tensor is
// at most kMaxTensorBytes. Sets *shape. The message says both sizes.
Status CheckTensorProto(const tensorflow::TensorProto& proto, TensorShape* shape);
// Whether `shape` satisfies a possibly partial `spec` (-1 dims, unknown rank).
bool ShapeCompatible(const tensorflow::TensorShapeProto& spec, const TensorShape& shape);

class TensorValue {
 public:
  TensorValue() = default;  // DT_INVALID, "no value"
  // Zero-filled numeric tensor, or empty strings for DT_STRING.
  TensorValue(tensorflow::DataType dtype, TensorShape shape);

  template <class T>
  static TensorValue From(TensorShape shape, const std::vector<T>& values) {
    TensorValue t(DataTypeOf<T>(), std::move(shape));
    if (!values.empty()) std::memcpy(t.buf_->bytes.data(), values.data(), values.size() * sizeof(T));
    return t;
  }
  template <class T>
  static TensorValue Scalar(T v) {
    TensorValue t(DataTypeOf<T>(), {});
    std::memcpy(t.buf_->bytes.data(), &v, sizeof(T));
    return t;
  }
  static TensorValue Strings(TensorShape shape, std::vector<std::string> values);
  // A numeric tensor over `bytes`, which must hold exactly its elements: one
  // copy of a request's tensor_content, not a zero fill and then a copy.
  static TensorValue FromBytes(tensorflow::DataType dtype, TensorShape shape, std::string bytes);
  static TensorValue String(std::string v) { return Strings({}, {std::move(v)}); }
  // A DT_RESOURCE scalar naming a resource (variable, table) of the interpreter.
  static TensorValue Handle(std::string name);

  // TensorProto (tensor_content or typed lists, TF's fill-with-last rule).
  static Status FromProto(const tensorflow::TensorProto& proto, TensorValue* out);
  static Status FromBundle(const BundleTensor& t, TensorValue* out);
  void ToProto(tensorflow::TensorProto* proto) const;

  bool valid() const { return dtype_ != tensorflow::DT_INVALID; }
  tensorflow::DataType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i)]; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t NumElements() const { return NumElementsOf(shape_); }
  // Same elements, new shape (element counts must agree; checked by callers).
  TensorValue Reshaped(TensorShape shape) const {
    TensorValue t = *this;
    t.shape_ = std::move(shape);
    return t;
  }

  template <class T>
  const T* data() const { return reinterpret_cast<const T*>(buf_->bytes.data()); }
  template <class T>
  T* mutable_data() { Unshare(); return reinterpret_cast<T*>(buf_->bytes.data()); }
  const char* raw() const { return buf_ ? buf_->bytes.data() : nullptr; }
  size_t raw_size() const { return buf_ ? buf_->bytes.size() : 0; }
  char* mutable_raw() { Unshare(); return buf_->bytes.data(); }
  const std::vector<std::string>& strings() const { return buf_->strings; }
  std::vector<std::string>& mutable_strings() { Unshare(); return buf_->strings; }
  const std::string& handle() const { return buf_->strings[0]; }

  // Element i of a numeric tensor converted to double (bool -> 0/1).
  double AsDouble(int64_t i) const;
  // Short human-readable rendering: dtype, shape and the first elements.
  std::string DebugString(int max_elements = 10) const;
  // Element-wise equality of dtype, shape and contents.
  bool SameAs(const TensorValue& other) const;

 private:
  struct Buffer {
    std::string bytes;                 // numeric elements
    std::vector<std::string> strings;  // DT_STRING elements / DT_RESOURCE handle
  };
  void Unshare() {
    if (buf_ && buf_.use_count() > 1) buf_ = std::make_shared<Buffer>(*buf_);
  }
  tensorflow::DataType dtype_ = tensorflow::DT_INVALID;
  TensorShape shape_;
  std::shared_ptr<Buffer> buf_;
};

// Calls f(T{}) with the C++ type of a numeric dtype; Unimplemented otherwise.
template <class F>
Status DispatchNumeric(tensorflow::DataType dtype, F&& f) {
  switch (dtype) {
    case tensorflow::DT_FLOAT: return f(float{});
    case tensorflow::DT_DOUBLE: return f(double{});
    case tensorflow::DT_INT32: return f(int32_t{});
    case tensorflow::DT_INT64: return f(int64_t{});
    case tensorflow::DT_INT16: return f(int16_t{});
    case tensorflow::DT_INT8: return f(int8_t{});
    case tensorflow::DT_UINT8: return f(uint8_t{});
    case tensorflow::DT_UINT16: return f(uint16_t{});
    case tensorflow::DT_BOOL: return f(bool{});
    default:
      return Status::Unimplemented("dtype " + DataTypeName(dtype) + " is not supported here");
  }
}

}  // namespace pipeline
