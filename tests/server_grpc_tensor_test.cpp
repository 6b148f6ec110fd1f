// server/grpc_tensor.h: the typed-field TensorProtos of gRPC replies (TF
// Serving's AsProtoField), for every dtype a TensorValue holds. The dtypes
// TensorValue::FromProto reads from typed fields round-trip through it; the
// others (FromProto reads them only from tensor_content) are checked field
// by field against TensorFlow's layout. Then server/grpc_server.h in
// process: a GrpcServer on a picked port answering a C++ stub over a real
// channel, and its helpers (TF Serving's clients against `pipeline serve`
// are tests/tf/grpc_contract.py).
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "proto/serving_model_service.grpc.pb.h"
#include "proto/serving_prediction_service.grpc.pb.h"
#include "server/grpc_server.h"
#include "server/grpc_tensor.h"
#include "server/model_manager.h"
#include "tests/support/fixtures.h"

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

namespace {

// A manager serving the golden half_plus_two (y = 0.5x + 2, version 123) as "hp2".
std::unique_ptr<pipeline::server::ModelManager> HalfPlusTwoManager() {
  pipeline::server::ModelManagerOptions options;
  options.file_system_poll_wait_seconds = 0;  // one poll, at Start
  auto m = std::make_unique<pipeline::server::ModelManager>(options);
  tensorflow::serving::ModelConfigList config;
  auto* c = config.add_config();
  c->set_name("hp2");
  c->set_base_path((std::filesystem::path(pipeline::test::Fixture("golden/saved_model_half_plus_two_cpu/00000123")))
                       .parent_path()
                       .string());
  c->set_model_platform("tensorflow");
  Status st = m->Start(config);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return m;
}

tensorflow::serving::PredictRequest PredictX(const std::vector<float>& xs, const std::string& model = "hp2") {
  tensorflow::serving::PredictRequest req;
  req.mutable_model_spec()->set_name(model);
  TensorValue::From<float>({static_cast<int64_t>(xs.size()), 1}, xs).ToProto(&(*req.mutable_inputs())["x"]);
  return req;
}

}  // namespace

TEST_CASE("grpc server: Predict and GetModelStatus over a real channel on a picked port") {
  auto manager = HalfPlusTwoManager();
  pipeline::server::GrpcServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  std::unique_ptr<pipeline::server::GrpcServer> server;
  Status st = pipeline::server::GrpcServer::Start(options, manager.get(), &server);
  INFO(st.ToString());
  REQUIRE(st.ok());
  REQUIRE(server->port() > 0);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials());
  auto stub = tensorflow::serving::PredictionService::NewStub(channel);

  grpc::ClientContext ctx;
  tensorflow::serving::PredictResponse resp;
  grpc::Status gst = stub->Predict(&ctx, PredictX({1, 2, -4}), &resp);
  INFO(gst.error_message());
  REQUIRE(gst.ok());
  const auto& y = resp.outputs().at("y");
  CHECK(y.tensor_content().empty());
  REQUIRE(y.float_val_size() == 3);
  CHECK(y.float_val(0) == 2.5f);
  CHECK(y.float_val(1) == 3.0f);
  CHECK(y.float_val(2) == 0.0f);
  CHECK(resp.model_spec().name() == "hp2");
  CHECK(resp.model_spec().version().value() == 123);
  CHECK(resp.model_spec().signature_name() == "serving_default");

  // TensorFlow's codes are gRPC's: NOT_FOUND is 5 on both sides.
  grpc::ClientContext ctx2;
  gst = stub->Predict(&ctx2, PredictX({1}, "nope"), &resp);
  CHECK(gst.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(gst.error_message() == "Servable not found for request: Latest(nope)");

  auto models = tensorflow::serving::ModelService::NewStub(channel);
  grpc::ClientContext ctx3;
  tensorflow::serving::GetModelStatusRequest sreq;
  sreq.mutable_model_spec()->set_name("hp2");
  tensorflow::serving::GetModelStatusResponse sresp;
  gst = models->GetModelStatus(&ctx3, sreq, &sresp);
  REQUIRE(gst.ok());
  REQUIRE(sresp.model_version_status_size() == 1);
  CHECK(sresp.model_version_status(0).version() == 123);
  CHECK(sresp.model_version_status(0).state() == tensorflow::serving::ModelVersionStatus::AVAILABLE);

  server->Stop();
  server->Stop();  // idempotent
  grpc::ClientContext ctx4;
  ctx4.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  gst = stub->Predict(&ctx4, PredictX({1}), &resp);
  CHECK(gst.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("grpc server: a port already bound is an IOError naming it") {
  auto manager = HalfPlusTwoManager();
  pipeline::server::GrpcServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  std::unique_ptr<pipeline::server::GrpcServer> first;
  REQUIRE(pipeline::server::GrpcServer::Start(options, manager.get(), &first).ok());
  options.port = first->port();
  // gRPC binds with SO_REUSEPORT by default; without it a second bind fails.
  options.channel_arguments = {{"grpc.so_reuseport", "0"}};
  std::unique_ptr<pipeline::server::GrpcServer> second;
  Status st = pipeline::server::GrpcServer::Start(options, manager.get(), &second);
  CHECK(st.code() == Status::Code::kIOError);
  CHECK(st.message().find("127.0.0.1:" + std::to_string(options.port)) != std::string::npos);
  CHECK(second == nullptr);
}

TEST_CASE("grpc server: the RPC functions refuse a request without model_spec") {
  auto manager = HalfPlusTwoManager();
  tensorflow::serving::PredictResponse presp;
  auto st = pipeline::server::PredictRpc(*manager, tensorflow::serving::PredictRequest(), &presp);
  CHECK(st.code == serving::ErrorCode::kInvalidArgument);
  CHECK(st.message == "Missing ModelSpec");
  tensorflow::serving::GetModelMetadataResponse mresp;
  st = pipeline::server::GetModelMetadataRpc(*manager, tensorflow::serving::GetModelMetadataRequest(), &mresp);
  CHECK(st.message == "Missing ModelSpec");
  tensorflow::serving::GetModelStatusResponse sresp;
  st = pipeline::server::GetModelStatusRpc(*manager, tensorflow::serving::GetModelStatusRequest(), &sresp);
  CHECK(st.message == "Missing ModelSpec");
}

TEST_CASE("grpc server: GetModelMetadata packs every signature and refuses other fields") {
  auto manager = HalfPlusTwoManager();
  tensorflow::serving::GetModelMetadataRequest req;
  req.mutable_model_spec()->set_name("hp2");
  tensorflow::serving::GetModelMetadataResponse resp;
  auto st = pipeline::server::GetModelMetadataRpc(*manager, req, &resp);
  CHECK(st.message == "GetModelMetadataRequest must specify at least one metadata_field");
  req.add_metadata_field("signature_def");
  st = pipeline::server::GetModelMetadataRpc(*manager, req, &resp);
  REQUIRE(st.ok());
  tensorflow::serving::SignatureDefMap map;
  REQUIRE(resp.metadata().at("signature_def").UnpackTo(&map));
  CHECK(map.signature_def_size() == 5);
  CHECK(map.signature_def().at("serving_default").inputs().at("x").name() == "x:0");
  CHECK(resp.model_spec().name() == "hp2");
  CHECK(resp.model_spec().version().value() == 123);
  CHECK(resp.model_spec().signature_name().empty());  // TF Serving sets only name and version here
  req.add_metadata_field("foo");
  st = pipeline::server::GetModelMetadataRpc(*manager, req, &resp);
  CHECK(st.code == serving::ErrorCode::kInvalidArgument);
  CHECK(st.message == "Metadata field %s is not supportedfoo");  // TF Serving's StrCat of a printf pattern
}

TEST_CASE("grpc server: a malformed input tensor is a parse error unless the request names a wrong input") {
  auto manager = HalfPlusTwoManager();
  tensorflow::serving::PredictRequest req = PredictX({1, 2});
  (*req.mutable_inputs())["x"].set_tensor_content(std::string(3, '\0'));  // 3 bytes for 2 floats
  tensorflow::serving::PredictResponse resp;
  auto st = pipeline::server::PredictRpc(*manager, req, &resp);
  CHECK(st.code == serving::ErrorCode::kInvalidArgument);
  CHECK(st.message == "tensor parsing error: x");
  // The same tensor under an alias the signature lacks: TF Serving checks the names first.
  tensorflow::serving::PredictRequest wrong;
  wrong.mutable_model_spec()->set_name("hp2");
  (*wrong.mutable_inputs())["z"] = req.inputs().at("x");
  st = pipeline::server::PredictRpc(*manager, wrong, &resp);
  CHECK(st.code == serving::ErrorCode::kInvalidArgument);
  CHECK(st.message.find("tensor parsing error") == std::string::npos);
  // And under an unknown signature: FAILED_PRECONDITION first.
  req.mutable_model_spec()->set_signature_name("nope");
  st = pipeline::server::PredictRpc(*manager, req, &resp);
  CHECK(st.code == serving::ErrorCode::kFailedPrecondition);
}

TEST_CASE("grpc server: MultiInference runs each task on the shared input") {
  auto manager = HalfPlusTwoManager();
  tensorflow::serving::MultiInferenceRequest req;
  for (const char* sig : {"regress_x_to_y", "regress_x_to_y2"}) {
    auto* t = req.add_tasks();
    t->mutable_model_spec()->set_name("hp2");
    t->mutable_model_spec()->set_signature_name(sig);
    t->set_method_name("tensorflow/serving/regress");
  }
  for (float x : {2.0f, 4.0f}) {
    auto& f = (*req.mutable_input()->mutable_example_list()->add_examples()->mutable_features()->mutable_feature())["x"];
    f.mutable_float_list()->add_value(x);
  }
  tensorflow::serving::MultiInferenceResponse resp;
  auto st = pipeline::server::MultiInferenceRpc(*manager, req, &resp);
  INFO(st.message);
  REQUIRE(st.ok());
  REQUIRE(resp.results_size() == 2);
  CHECK(resp.results(0).regression_result().regressions(0).value() == 3.0f);
  CHECK(resp.results(0).regression_result().regressions(1).value() == 4.0f);
  CHECK(resp.results(1).regression_result().regressions(1).value() == 5.0f);
  CHECK(resp.results(1).model_spec().signature_name() == "regress_x_to_y2");
  CHECK(resp.results(1).model_spec().version().value() == 123);

  req.mutable_tasks(1)->mutable_model_spec()->set_name("other");
  resp.Clear();
  st = pipeline::server::MultiInferenceRpc(*manager, req, &resp);
  CHECK(st.message == "All ModelSpecs in a MultiInferenceRequest must access the same model name.");
  req.mutable_tasks(1)->mutable_model_spec()->set_name("hp2");
  req.mutable_tasks(1)->mutable_model_spec()->set_signature_name("regress_x2_to_y3");  // input x2:0
  st = pipeline::server::MultiInferenceRpc(*manager, req, &resp);
  CHECK(st.message == "Input tensor must be the same for all Signatures.");
  req.mutable_tasks(1)->mutable_model_spec()->set_signature_name("nope");
  st = pipeline::server::MultiInferenceRpc(*manager, req, &resp);
  CHECK(st.message == "Requested signature not found in model graph: nope");
  req.mutable_tasks(1)->mutable_model_spec()->set_signature_name("serving_default");  // predict: inputs 'x'
  st = pipeline::server::MultiInferenceRpc(*manager, req, &resp);
  CHECK(st.message.rfind("No regression inputs found in SignatureDef: ", 0) == 0);
}

TEST_CASE("grpc server: HandleReloadConfigRequest takes only a model list and reports in its reply") {
  auto manager = HalfPlusTwoManager();
  tensorflow::serving::ReloadConfigRequest req;
  tensorflow::serving::ReloadConfigResponse resp;
  auto st = pipeline::server::ReloadConfigRpc(*manager, req, &resp);
  CHECK(st.code == serving::ErrorCode::kInvalidArgument);
  CHECK(st.message.rfind("ServerModelConfig type not supported by HandleReloadConfigRequest.", 0) == 0);
  CHECK(resp.status().error_code() == tensorflow::error::INVALID_ARGUMENT);
  CHECK(resp.status().error_message() == st.message);
  auto* c = req.mutable_config()->mutable_model_config_list()->add_config();
  c->set_name("hp2");
  c->set_base_path(std::filesystem::path(pipeline::test::Fixture("golden/saved_model_half_plus_two_cpu/00000123"))
                       .parent_path()
                       .string());
  resp.Clear();
  st = pipeline::server::ReloadConfigRpc(*manager, req, &resp);
  INFO(st.message);
  CHECK(st.ok());
  CHECK(resp.status().error_code() == tensorflow::error::OK);
  CHECK(resp.status().error_message().empty());
  tensorflow::serving::PredictResponse presp;
  CHECK(pipeline::server::PredictRpc(*manager, PredictX({0}), &presp).ok());
}

TEST_CASE("grpc server: an error message over 1024 bytes is cut as TF Serving cuts it") {
  CHECK(pipeline::server::GrpcErrorMessage("short") == "short");
  const std::string exact(1024, 'a');
  CHECK(pipeline::server::GrpcErrorMessage(exact) == exact);
  CHECK(pipeline::server::GrpcErrorMessage(exact + "b") == exact + "...TRUNCATED");
}

TEST_CASE("grpc server: --grpc_channel_arguments parses key=value pairs") {
  std::vector<std::pair<std::string, std::string>> args;
  REQUIRE(pipeline::server::ParseGrpcChannelArguments("", &args).ok());
  CHECK(args.empty());
  REQUIRE(pipeline::server::ParseGrpcChannelArguments("grpc.max_concurrent_streams=100,grpc.primary_user_agent=a=b", &args).ok());
  REQUIRE(args.size() == 2);
  CHECK(args[0] == std::pair<std::string, std::string>("grpc.max_concurrent_streams", "100"));
  CHECK(args[1] == std::pair<std::string, std::string>("grpc.primary_user_agent", "a=b"));
  CHECK(pipeline::server::ParseGrpcChannelArguments("novalue", &args).IsInvalidArgument());
  CHECK(pipeline::server::ParseGrpcChannelArguments("a=1,", &args).IsInvalidArgument());
  CHECK(pipeline::server::ParseGrpcChannelArguments("=1", &args).IsInvalidArgument());
}
