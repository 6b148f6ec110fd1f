#include "server/grpc_tensor.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace pipeline::server {

namespace {

using tensorflow::TensorProto;

// Copies n elements of type From (the tensor's host bytes) into a repeated
// field of To: one resize and a plain loop, no per-element Add.
template <class To, class From>
void CopyInto(const char* raw, int64_t n, google::protobuf::RepeatedField<To>* field) {
  field->Resize(static_cast<int>(n), To{});
  To* out = field->mutable_data();
  if constexpr (std::is_same_v<To, From>) {
    if (n > 0) std::memcpy(out, raw, static_cast<size_t>(n) * sizeof(From));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      From v;
      std::memcpy(&v, raw + i * static_cast<int64_t>(sizeof(From)), sizeof(From));
      out[i] = static_cast<To>(v);
    }
  }
}

}  // namespace

void TensorToTypedProto(const TensorValue& value, TensorProto* proto) {
  using namespace tensorflow;
  proto->Clear();
  proto->set_dtype(value.dtype());
  TensorShapeProto* shape = proto->mutable_tensor_shape();
  for (int64_t d : value.shape()) shape->add_dim()->set_size(d);
  const int64_t n = value.NumElements();
  const char* raw = value.raw();
  switch (value.dtype()) {
    case DT_STRING:
      proto->mutable_string_val()->Reserve(static_cast<int>(n));
      for (const auto& s : value.strings()) proto->add_string_val(s);
      return;
    case DT_FLOAT: CopyInto<float, float>(raw, n, proto->mutable_float_val()); return;
    case DT_DOUBLE: CopyInto<double, double>(raw, n, proto->mutable_double_val()); return;
    case DT_INT64: CopyInto<int64_t, int64_t>(raw, n, proto->mutable_int64_val()); return;
    case DT_BOOL: CopyInto<bool, bool>(raw, n, proto->mutable_bool_val()); return;
    case DT_INT32:
    case DT_QINT32: CopyInto<int32_t, int32_t>(raw, n, proto->mutable_int_val()); return;
    case DT_INT16:
    case DT_QINT16: CopyInto<int32_t, int16_t>(raw, n, proto->mutable_int_val()); return;
    case DT_INT8:
    case DT_QINT8: CopyInto<int32_t, int8_t>(raw, n, proto->mutable_int_val()); return;
    case DT_UINT8:
    case DT_QUINT8: CopyInto<int32_t, uint8_t>(raw, n, proto->mutable_int_val()); return;
    case DT_UINT16:
    case DT_QUINT16: CopyInto<int32_t, uint16_t>(raw, n, proto->mutable_int_val()); return;
    case DT_HALF:
    case DT_BFLOAT16: CopyInto<int32_t, uint16_t>(raw, n, proto->mutable_half_val()); return;
    case DT_UINT32: CopyInto<uint32_t, uint32_t>(raw, n, proto->mutable_uint32_val()); return;
    case DT_UINT64: CopyInto<uint64_t, uint64_t>(raw, n, proto->mutable_uint64_val()); return;
    case DT_COMPLEX64: CopyInto<float, float>(raw, 2 * n, proto->mutable_scomplex_val()); return;
    case DT_COMPLEX128: CopyInto<double, double>(raw, 2 * n, proto->mutable_dcomplex_val()); return;
    case DT_FLOAT8_E5M2:
    case DT_FLOAT8_E4M3FN: proto->set_float8_val(raw == nullptr ? "" : std::string(raw, static_cast<size_t>(n))); return;
    default:
      value.ToProto(proto);
      return;
  }
}

}  // namespace pipeline::server
