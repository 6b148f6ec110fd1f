// server/grpc_tensor.h: the typed-field TensorProtos of gRPC replies (TF
// Serving's AsProtoField), for every dtype a TensorValue holds. The dtypes
// TensorValue::FromProto reads from typed fields round-trip through it; the
// others (FromProto reads them only from tensor_content) are checked field
// by field against TensorFlow's layout.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "server/grpc_tensor.h"

using namespace pipeline;
using pipeline::server::TensorToTypedProto;

namespace {

// How many values the typed list matching `dtype` holds, and that no other
// list (and no tensor_content) holds any.
int TypedCount(const tensorflow::TensorProto& p) {
  const int counts[] = {p.float_val_size(),  p.double_val_size(),   p.int_val_size(),      p.string_val_size(),
                        p.int64_val_size(),  p.bool_val_size(),     p.half_val_size(),     p.uint32_val_size(),
                        p.uint64_val_size(), p.scomplex_val_size(), p.dcomplex_val_size(), static_cast<int>(p.float8_val().size())};
  int nonzero = 0, total = 0;
  for (int c : counts) {
    if (c) ++nonzero;
    total += c;
  }
  CHECK(nonzero <= 1);
  CHECK(p.tensor_content().empty());
  return total;
}

template <class T>
void CheckRoundTrip(const std::vector<T>& values, int (tensorflow::TensorProto::*field_size)() const) {
  const TensorValue t = TensorValue::From<T>({2, static_cast<int64_t>(values.size() / 2)}, values);
  tensorflow::TensorProto p;
  TensorToTypedProto(t, &p);
  CAPTURE(p.ShortDebugString());
  CHECK(p.dtype() == t.dtype());
  REQUIRE(p.tensor_shape().dim_size() == 2);
  CHECK(p.tensor_shape().dim(0).size() == 2);
  CHECK(p.tensor_shape().dim(1).size() == static_cast<int64_t>(values.size() / 2));
  CHECK((p.*field_size)() == static_cast<int>(values.size()));
  CHECK(TypedCount(p) == static_cast<int>(values.size()));
  TensorValue back;
  REQUIRE(TensorValue::FromProto(p, &back).ok());
  CHECK(back.SameAs(t));
}

template <class T>
std::vector<T> Extremes() {
  return {std::numeric_limits<T>::lowest(), T(-1), T(0), T(1), T(7), std::numeric_limits<T>::max()};
}

// A tensor of `dtype` whose raw bytes are `bytes` (dtypes without a C++ type here).
TensorValue Raw(tensorflow::DataType dtype, TensorShape shape, const std::string& bytes) {
  TensorValue t(dtype, std::move(shape));
  REQUIRE(t.raw_size() == bytes.size());
  std::memcpy(t.mutable_raw(), bytes.data(), bytes.size());
  return t;
}

template <class T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

TEST_CASE("grpc tensor: float and double go to float_val and double_val and round-trip") {
  CheckRoundTrip<float>({-1.5f, 0.0f, 2.25f, std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
                         -std::numeric_limits<float>::infinity()},
                        &tensorflow::TensorProto::float_val_size);
  CheckRoundTrip<double>({-1.5, 0.0, 1e300, std::numeric_limits<double>::lowest(), 3.0, 0.1},
                         &tensorflow::TensorProto::double_val_size);
}

TEST_CASE("grpc tensor: NaN survives float_val") {
  const TensorValue t = TensorValue::From<float>({2}, {std::numeric_limits<float>::quiet_NaN(), 1.0f});
  tensorflow::TensorProto p;
  TensorToTypedProto(t, &p);
  REQUIRE(p.float_val_size() == 2);
  CHECK(p.float_val(0) != p.float_val(0));
  CHECK(p.float_val(1) == 1.0f);
}

TEST_CASE("grpc tensor: int64 goes to int64_val and round-trips") {
  CheckRoundTrip<int64_t>(Extremes<int64_t>(), &tensorflow::TensorProto::int64_val_size);
}

TEST_CASE("grpc tensor: int32 int16 int8 uint8 and uint16 go to int_val and round-trip") {
  CheckRoundTrip<int32_t>(Extremes<int32_t>(), &tensorflow::TensorProto::int_val_size);
  CheckRoundTrip<int16_t>(Extremes<int16_t>(), &tensorflow::TensorProto::int_val_size);
  CheckRoundTrip<int8_t>(Extremes<int8_t>(), &tensorflow::TensorProto::int_val_size);
  CheckRoundTrip<uint8_t>({0, 1, 127, 128, 200, 255}, &tensorflow::TensorProto::int_val_size);
  CheckRoundTrip<uint16_t>({0, 1, 32767, 32768, 40000, 65535}, &tensorflow::TensorProto::int_val_size);
}

TEST_CASE("grpc tensor: int_val holds the value not the bit pattern") {
  // TensorFlow widens each element: int8 -128 is int_val -128, uint8 255 is
  // 255 (a round trip alone would not tell: FromProto narrows -1 back to 255).
  tensorflow::TensorProto p;
  TensorToTypedProto(TensorValue::From<int8_t>({2}, {-128, 127}), &p);
  REQUIRE(p.int_val_size() == 2);
  CHECK(p.int_val(0) == -128);
  CHECK(p.int_val(1) == 127);
  TensorToTypedProto(TensorValue::From<uint8_t>({1}, {255}), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == 255);
  TensorToTypedProto(TensorValue::From<int16_t>({1}, {-32768}), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == -32768);
  TensorToTypedProto(TensorValue::From<uint16_t>({1}, {65535}), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == 65535);
}

TEST_CASE("grpc tensor: bool goes to bool_val and round-trips") {
  const std::vector<bool> v = {true, false, false, true};
  TensorValue t(tensorflow::DT_BOOL, {2, 2});
  for (size_t i = 0; i < v.size(); ++i) t.mutable_data<bool>()[i] = v[i];
  tensorflow::TensorProto p;
  TensorToTypedProto(t, &p);
  REQUIRE(p.bool_val_size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(p.bool_val(i) == v[static_cast<size_t>(i)]);
  CHECK(TypedCount(p) == 4);
  TensorValue back;
  REQUIRE(TensorValue::FromProto(p, &back).ok());
  CHECK(back.SameAs(t));
}

TEST_CASE("grpc tensor: strings go to string_val byte for byte and round-trip") {
  const std::vector<std::string> v = {"", "a", std::string("nul\0inside", 10), "\xff\xfe not utf-8", "long " + std::string(1000, 'x'),
                                      "six"};
  const TensorValue t = TensorValue::Strings({3, 2}, v);
  tensorflow::TensorProto p;
  TensorToTypedProto(t, &p);
  REQUIRE(p.string_val_size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(p.string_val(i) == v[static_cast<size_t>(i)]);
  CHECK(TypedCount(p) == 6);
  TensorValue back;
  REQUIRE(TensorValue::FromProto(p, &back).ok());
  CHECK(back.SameAs(t));
}

TEST_CASE("grpc tensor: a scalar has a present empty shape and one value") {
  tensorflow::TensorProto p;
  TensorToTypedProto(TensorValue::Scalar<float>(2.5f), &p);
  CHECK(p.has_tensor_shape());
  CHECK(p.tensor_shape().dim_size() == 0);
  REQUIRE(p.float_val_size() == 1);
  CHECK(p.float_val(0) == 2.5f);
  TensorValue back;
  REQUIRE(TensorValue::FromProto(p, &back).ok());
  CHECK(back.SameAs(TensorValue::Scalar<float>(2.5f)));
  TensorToTypedProto(TensorValue::String("s"), &p);
  CHECK(p.has_tensor_shape());
  REQUIRE(p.string_val_size() == 1);
  CHECK(p.string_val(0) == "s");
}

TEST_CASE("grpc tensor: an empty tensor keeps its dims and writes no values") {
  const TensorValue t(tensorflow::DT_FLOAT, {0, 4});
  tensorflow::TensorProto p;
  TensorToTypedProto(t, &p);
  REQUIRE(p.tensor_shape().dim_size() == 2);
  CHECK(p.tensor_shape().dim(0).size() == 0);
  CHECK(p.tensor_shape().dim(1).size() == 4);
  CHECK(TypedCount(p) == 0);
  TensorValue back;
  REQUIRE(TensorValue::FromProto(p, &back).ok());
  CHECK(back.SameAs(t));
}

TEST_CASE("grpc tensor: every element is written even when all are equal") {
  // TensorFlow's fill rule lets one value stand for all; AsProtoField never uses it.
  tensorflow::TensorProto p;
  TensorToTypedProto(TensorValue::From<float>({5}, {3, 3, 3, 3, 3}), &p);
  CHECK(p.float_val_size() == 5);
}

TEST_CASE("grpc tensor: a proto reused for a second tensor keeps nothing of the first") {
  tensorflow::TensorProto p;
  TensorToTypedProto(TensorValue::From<float>({3}, {1, 2, 3}), &p);
  TensorToTypedProto(TensorValue::From<int64_t>({1}, {9}), &p);
  CHECK(p.dtype() == tensorflow::DT_INT64);
  CHECK(p.float_val_size() == 0);
  CHECK(p.tensor_shape().dim_size() == 1);
  REQUIRE(p.int64_val_size() == 1);
  CHECK(p.int64_val(0) == 9);
}

TEST_CASE("grpc tensor: half and bfloat16 go to half_val as their 16 bits") {
  for (auto dtype : {tensorflow::DT_HALF, tensorflow::DT_BFLOAT16}) {
    const std::vector<uint16_t> bits = {0x0000, 0x3c00, 0xbc00, 0xffff};
    tensorflow::TensorProto p;
    TensorToTypedProto(Raw(dtype, {4}, Bytes(bits)), &p);
    CHECK(p.dtype() == dtype);
    REQUIRE(p.half_val_size() == 4);
    for (int i = 0; i < 4; ++i) CHECK(p.half_val(i) == static_cast<int32_t>(bits[static_cast<size_t>(i)]));
    CHECK(TypedCount(p) == 4);
  }
}

TEST_CASE("grpc tensor: uint32 and uint64 go to uint32_val and uint64_val") {
  const std::vector<uint32_t> u32 = {0, 1, 0xffffffffu};
  tensorflow::TensorProto p;
  TensorToTypedProto(Raw(tensorflow::DT_UINT32, {3}, Bytes(u32)), &p);
  REQUIRE(p.uint32_val_size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(p.uint32_val(i) == u32[static_cast<size_t>(i)]);
  CHECK(TypedCount(p) == 3);
  const std::vector<uint64_t> u64 = {0, 1, 0xffffffffffffffffull};
  TensorToTypedProto(Raw(tensorflow::DT_UINT64, {3}, Bytes(u64)), &p);
  REQUIRE(p.uint64_val_size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(p.uint64_val(i) == u64[static_cast<size_t>(i)]);
  CHECK(TypedCount(p) == 3);
}

TEST_CASE("grpc tensor: complex64 and complex128 go to scomplex_val and dcomplex_val as re im pairs") {
  const std::vector<float> c64 = {1.0f, -2.0f, 0.5f, 4.0f};  // (1-2i), (0.5+4i)
  tensorflow::TensorProto p;
  TensorToTypedProto(Raw(tensorflow::DT_COMPLEX64, {2}, Bytes(c64)), &p);
  REQUIRE(p.scomplex_val_size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(p.scomplex_val(i) == c64[static_cast<size_t>(i)]);
  CHECK(TypedCount(p) == 4);
  const std::vector<double> c128 = {1.0, -2.0};
  TensorToTypedProto(Raw(tensorflow::DT_COMPLEX128, {1}, Bytes(c128)), &p);
  REQUIRE(p.dcomplex_val_size() == 2);
  CHECK(p.dcomplex_val(0) == 1.0);
  CHECK(p.dcomplex_val(1) == -2.0);
}

TEST_CASE("grpc tensor: quantized types go to int_val widened") {
  tensorflow::TensorProto p;
  TensorToTypedProto(Raw(tensorflow::DT_QINT8, {2}, Bytes(std::vector<int8_t>{-128, 5})), &p);
  REQUIRE(p.int_val_size() == 2);
  CHECK(p.int_val(0) == -128);
  TensorToTypedProto(Raw(tensorflow::DT_QUINT8, {1}, Bytes(std::vector<uint8_t>{255})), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == 255);
  TensorToTypedProto(Raw(tensorflow::DT_QINT16, {1}, Bytes(std::vector<int16_t>{-300})), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == -300);
  TensorToTypedProto(Raw(tensorflow::DT_QUINT16, {1}, Bytes(std::vector<uint16_t>{60000})), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == 60000);
  TensorToTypedProto(Raw(tensorflow::DT_QINT32, {1}, Bytes(std::vector<int32_t>{-7})), &p);
  REQUIRE(p.int_val_size() == 1);
  CHECK(p.int_val(0) == -7);
}

TEST_CASE("grpc tensor: float8 goes to float8_val as its bytes") {
  for (auto dtype : {tensorflow::DT_FLOAT8_E5M2, tensorflow::DT_FLOAT8_E4M3FN}) {
    const std::string bytes("\x00\x3c\xff", 3);
    tensorflow::TensorProto p;
    TensorToTypedProto(Raw(dtype, {3}, bytes), &p);
    CHECK(p.float8_val() == bytes);
    CHECK(TypedCount(p) == 3);
  }
}

TEST_CASE("grpc tensor: the dtypes FromProto reads only from tensor_content agree with it there") {
  // For these TensorValue::FromProto reads tensor_content (what ToProto
  // writes), not the typed lists; the typed proto must carry the same
  // elements as that one does.
  struct Case {
    tensorflow::DataType dtype;
    std::string bytes;
  };
  const Case cases[] = {{tensorflow::DT_HALF, Bytes(std::vector<uint16_t>{0x3c00, 0x4000})},
                        {tensorflow::DT_UINT32, Bytes(std::vector<uint32_t>{7, 0xfffffff0u})},
                        {tensorflow::DT_UINT64, Bytes(std::vector<uint64_t>{7, 1ull << 63})}};
  for (const auto& c : cases) {
    const TensorValue t = Raw(c.dtype, {2}, c.bytes);
    tensorflow::TensorProto content;
    t.ToProto(&content);
    TensorValue from_content;
    REQUIRE(TensorValue::FromProto(content, &from_content).ok());
    tensorflow::TensorProto typed;
    TensorToTypedProto(from_content, &typed);
    CHECK(TypedCount(typed) == 2);
    if (c.dtype == tensorflow::DT_HALF) {
      CHECK(typed.half_val(0) == 0x3c00);
      CHECK(typed.half_val(1) == 0x4000);
    } else if (c.dtype == tensorflow::DT_UINT32) {
      CHECK(typed.uint32_val(1) == 0xfffffff0u);
    } else {
      CHECK(typed.uint64_val(1) == (1ull << 63));
    }
  }
}
