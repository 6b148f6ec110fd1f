// Interpreter kernels the conv models TensorFlow writes need (found by
// tests/tf/tf_models_run.py's keras_cnn and tf1_cnn): Keras' BatchNormalization
// (Rsqrt), its elu and gelu activations (Elu; Erfc, and Erf in the textbook
// form), TF1's fused batch norm at inference (FusedBatchNormV3), and the
// tf.nn activations LeakyRelu, Selu and Softplus -- each against values
// computed by hand (the decimals in the comments).
#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <string>

#include "serving/interpreter.h"

using namespace pipeline;

namespace {

// A graph of one float Const "x" of `shape` and `values`, then `nodes`.
tensorflow::GraphDef Graph(const std::string& shape, const std::vector<float>& values, const std::string& nodes) {
  std::string vals;
  for (float v : values) vals += " float_val: " + std::to_string(v);
  const std::string text = R"pb(node { name: "x" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
      attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { )pb" + shape + " } " + vals + R"pb( } } } })pb" + nodes;
  tensorflow::GraphDef g;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &g));
  return g;
}

// Runs `fetches` of g; returns the status and fills *out.
Status RunGraph(const tensorflow::GraphDef& g, const std::vector<std::string>& fetches, std::vector<TensorValue>* out) {
  std::unique_ptr<Interpreter> in;
  Status st = Interpreter::Create(g, &in);
  if (!st.ok()) return st;
  return in->Run({}, fetches, {}, out);
}

std::vector<float> Floats(const TensorValue& t) {
  REQUIRE(t.dtype() == tensorflow::DT_FLOAT);
  return std::vector<float>(t.data<float>(), t.data<float>() + t.NumElements());
}

// Each element of `got` within 1e-6 relative (float rounding) of `want`.
void CheckNear(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(std::abs(got[i] - want[i]) <= 1e-6 * std::max(1.0, std::abs(want[i])));
  }
}

std::string Unary(const std::string& op, const std::string& attrs = "") {
  return R"(node { name: "y" op: ")" + op + R"(" input: "x" attr { key: "T" value { type: DT_FLOAT } } )" + attrs + "}";
}

}  // namespace

TEST_CASE("serving ops: Rsqrt Erf Erfc Elu Selu Softplus LeakyRelu against hand values") {
  const std::string shape = "dim { size: 5 }";
  const std::vector<float> x = {-1.0f, -0.5f, 0.0f, 0.5f, 2.0f};
  std::vector<TensorValue> out;
  // erf(0.5) = 0.5204998778, erf(1) = ... erf(-x) = -erf(x); erf(2) = 0.9953222650.
  REQUIRE(RunGraph(Graph(shape, x, Unary("Erf")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {-0.8427007929, -0.5204998778, 0.0, 0.5204998778, 0.9953222650});
  REQUIRE(RunGraph(Graph(shape, x, Unary("Erfc")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {1.8427007929, 1.5204998778, 1.0, 0.4795001222, 0.0046777350});
  // elu: e^x - 1 below 0: e^-1 - 1 = -0.6321205588, e^-0.5 - 1 = -0.3934693403.
  REQUIRE(RunGraph(Graph(shape, x, Unary("Elu")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {-0.6321205588, -0.3934693403, 0.0, 0.5, 2.0});
  // selu: 1.0507009874 x above 0, 1.0507009874 * 1.6732632423 (e^x - 1) below.
  REQUIRE(RunGraph(Graph(shape, x, Unary("Selu")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {-1.1113307378, -0.6917581878, 0.0, 0.5253504937, 2.1014019748});
  // softplus: ln(1 + e^x): ln(1 + e^-1) = 0.3132616875, ln 2 = 0.6931471806.
  REQUIRE(RunGraph(Graph(shape, x, Unary("Softplus")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {0.3132616875, 0.4740769842, 0.6931471806, 0.9740769842, 2.1269280110});
  // rsqrt of 0.25, 4 and 100.
  REQUIRE(RunGraph(Graph("dim { size: 3 }", {0.25f, 4.0f, 100.0f}, Unary("Rsqrt")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {2.0, 0.5, 0.1});
  // leaky_relu: alpha 0.2 when the attr is stripped as a default, else its value.
  REQUIRE(RunGraph(Graph(shape, x, Unary("LeakyRelu")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {-0.2, -0.1, 0.0, 0.5, 2.0});
  REQUIRE(RunGraph(Graph(shape, x, Unary("LeakyRelu", R"(attr { key: "alpha" value { f: 0.5 } })")), {"y"}, &out).ok());
  CheckNear(Floats(out[0]), {-0.5, -0.25, 0.0, 0.5, 2.0});
}

TEST_CASE("serving ops: Softplus far from 0 is x above and e^x below without overflow") {
  std::vector<TensorValue> out;
  REQUIRE(RunGraph(Graph("dim { size: 3 }", {-20.0f, 20.0f, 100.0f}, Unary("Softplus")), {"y"}, &out).ok());
  // e^-20 = 2.0611536224e-9; ln(1 + e^20) = 20 + 2.06e-9 = 20 in float; 100 (e^100 would overflow float).
  CheckNear(Floats(out[0]), {2.0611536224e-9, 20.0, 100.0});
  CHECK(std::abs(Floats(out[0])[0] - 2.0611536224e-9) < 1e-15);
}

namespace {

std::string Vector(const std::string& name, std::vector<float> v) {
  std::string vals;
  for (float f : v) vals += " float_val: " + std::to_string(f);
  return R"(node { name: ")" + name + R"(" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
      attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: )" + std::to_string(v.size()) +
         " } } " + vals + " } } } }";
}

std::string BatchNormGraph(const std::string& op, const std::string& attrs) {
  return Vector("scale", {2.0f, 0.5f}) + Vector("offset", {1.0f, -1.0f}) + Vector("mean", {1.0f, 2.0f}) +
         Vector("variance", {3.0f, 15.0f}) + R"(node { name: "bn" op: ")" + op +
         R"(" input: "x" input: "scale" input: "offset" input: "mean" input: "variance"
            attr { key: "T" value { type: DT_FLOAT } } attr { key: "U" value { type: DT_FLOAT } } )" + attrs + "}";
}

}  // namespace

TEST_CASE("serving ops: FusedBatchNormV3 at inference normalizes each channel by its moving statistics") {
  // x [1, 2, 2, 2] NHWC: channel 0 holds 1, 3, 5, 7; channel 1 holds 2, 4, 6, 8.
  const std::string shape = "dim { size: 1 } dim { size: 2 } dim { size: 2 } dim { size: 2 }";
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  // epsilon 1: rsqrt(3 + 1) * 2 = 1 for channel 0, rsqrt(15 + 1) * 0.5 = 0.125 for channel 1;
  // channel 0: (x - 1) * 1 + 1 = x; channel 1: (x - 2) * 0.125 - 1 = -1, -0.75, -0.5, -0.25.
  const std::string attrs = R"(attr { key: "epsilon" value { f: 1 } } attr { key: "is_training" value { b: false } })";
  std::vector<TensorValue> out;
  for (const char* op : {"FusedBatchNormV3", "FusedBatchNorm"}) {
    INFO(op);
    Status st = RunGraph(Graph(shape, x, BatchNormGraph(op, attrs)), {"bn:0", "bn:1", "bn:2"}, &out);
    INFO(st.ToString());
    REQUIRE(st.ok());
    CHECK(out[0].shape() == TensorShape{1, 2, 2, 2});
    CheckNear(Floats(out[0]), {1, -1, 3, -0.75, 5, -0.5, 7, -0.25});
    CheckNear(Floats(out[1]), {1, 2});  // batch_mean at inference: the mean given
    CheckNear(Floats(out[2]), {3, 15});
  }
  // epsilon's default (stripped from the graph) is 1e-4: rsqrt(3.0001) * 2 = 1.1546813;
  // channel 0, x = 3: (3 - 1) * 1.1546813 + 1 = 3.3093626.
  REQUIRE(RunGraph(Graph(shape, x, BatchNormGraph("FusedBatchNormV3", R"(attr { key: "is_training" value { b: false } })")),
                   {"bn"}, &out).ok());
  CHECK(std::abs(Floats(out[0])[2] - 3.3093626) < 1e-6);
  // Training mode (the attr's default) needs batch statistics; a channel count that does not match is an error.
  Status st = RunGraph(Graph(shape, x, BatchNormGraph("FusedBatchNormV3", "")), {"bn"}, &out);
  CHECK(st.code() == Status::Code::kUnimplemented);
  CHECK(st.message().find("is_training true") != std::string::npos);
  st = RunGraph(Graph("dim { size: 1 } dim { size: 1 } dim { size: 2 } dim { size: 4 }", x,
                      BatchNormGraph("FusedBatchNormV3", attrs)), {"bn"}, &out);
  CHECK(!st.ok());
  CHECK(st.message().find("scale must be a vector of 4 (the channels), got [2]") != std::string::npos);
  st = RunGraph(Graph(shape, x, BatchNormGraph("FusedBatchNormV3", attrs + R"( attr { key: "data_format" value { s: "NCHW" } })")),
                {"bn"}, &out);
  CHECK(st.code() == Status::Code::kUnimplemented);
}
