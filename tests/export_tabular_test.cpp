// A CSV model's export (export/tabular_graph.h) run by our reader: raw column
// values in, the engine's encoding (standardized numbers, one-hot categories
// with an out-of-vocabulary slot, missing-value fills) computed by hand out.
// The models are chosen so the outputs *are* the encoded features (an identity
// dense layer) or a weighted sum that names each feature by a power of ten.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "export/export.h"
#include "proto/saved_model.pb.h"
#include "serving/classify_api.h"
#include "serving/predict_api.h"
#include "serving/servable.h"
#include "tests/support/export_testing.h"
#include "tests/support/export_verify.h"
#include "tests/support/run_pipeline.h"
#include "tfformat/tensor_value.h"

using namespace pipeline;
using namespace pipeline::serving;
using pipeline::export_testing::ScratchDir;

namespace {

// num: numeric, (x - 2) / 4, required. cat: {a, b} + unseen, fill "a" for
// a missing value or a CSV missing marker ("", "NA").
std::vector<ExportedColumn> Columns() {
  ExportedColumn num;
  num.name = "num";
  num.mean = 2.0;
  num.stddev = 4.0;
  ExportedColumn cat;
  cat.name = "cat";
  cat.categorical = true;
  cat.vocabulary = {"a", "b"};
  cat.fill = "a";
  cat.missing_tokens = {"", "NA"};
  return {num, cat};
}

struct TabularModel {
  std::vector<float> kernel, bias;
  ExportRequest request;
};

// One dense layer 4 -> units over the encoded [num, cat=a, cat=b, cat=unseen].
void MakeTabular(TabularModel* m, const std::string& path, int64_t units, ExportHead head,
                 const std::vector<ExportSignature>& signatures) {
  m->request.columns = Columns();
  m->request.input_features = 4;
  m->request.num_classes = units;
  m->request.head = head;
  m->request.options.path = path;
  m->request.options.signatures = signatures;
  m->bias.assign(static_cast<size_t>(units), 0.0f);
  ExportedLayer layer;
  layer.name = "dense_0";
  layer.activation = "linear";
  layer.in = 4;
  layer.out = units;
  layer.tensors = {{"kernel", {4, units}, m->kernel.data()}, {"bias", {units}, m->bias.data()}};
  m->request.layers = {layer};
}

std::unique_ptr<Servable> Export(const ExportRequest& request) {
  ExportResult result;
  Status st = ExportSavedModel(request, &result);
  INFO(st.ToString());
  REQUIRE(st.ok());
  std::unique_ptr<Servable> s;
  st = Servable::Load(result.version_dir, {}, "tabular", &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

tensorflow::Example Row(const std::vector<std::pair<std::string, float>>& floats,
                        const std::vector<std::pair<std::string, std::string>>& strings) {
  tensorflow::Example ex;
  auto& f = *ex.mutable_features()->mutable_feature();
  for (const auto& kv : floats) f[kv.first].mutable_float_list()->add_value(kv.second);
  for (const auto& kv : strings) f[kv.first].mutable_bytes_list()->add_value(kv.second);
  return ex;
}

tensorflow::serving::RegressionRequest Regression(const std::vector<tensorflow::Example>& rows) {
  tensorflow::serving::RegressionRequest req;
  req.mutable_model_spec()->set_signature_name("serving_default");
  for (const auto& ex : rows) *req.mutable_input()->mutable_example_list()->add_examples() = ex;
  return req;
}

}  // namespace

TEST_CASE("export tabular: predict takes one input per column and computes the engine's encoding") {
  ScratchDir tmp;
  TabularModel m;
  m.kernel = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};  // identity: outputs = encoded features
  ExportSignature predict{"predict", "predict", "inputs", "features", "x", 0};
  MakeTabular(&m, tmp / "m", 4, ExportHead::kLinear, {predict});
  auto s = Export(m.request);

  tensorflow::SavedModel sm;
  REQUIRE(savedmodel::ReadSavedModelProto(tmp / "m/1", &sm).ok());
  const auto& sig = sm.meta_graphs(0).signature_def().at("predict");
  REQUIRE(sig.inputs().size() == 2);
  CHECK(sig.inputs().at("num").dtype() == tensorflow::DT_FLOAT);
  CHECK(sig.inputs().at("cat").dtype() == tensorflow::DT_STRING);
  std::set<std::string> ops;
  for (const auto& n : sm.meta_graphs(0).graph_def().node()) ops.insert(n.op());
  for (const char* op : {"ParseExample", "Sub", "RealDiv", "HashTableV2", "LookupTableFindV2", "OneHot", "ConcatV2"}) {
    INFO(op);
    CHECK(ops.count(op) == 1);
  }

  PredictRequest req;
  req.signature_name = "predict";
  req.inputs["num"] = TensorValue::From<float>({5}, {6, -2, 2, 10, 0});
  req.inputs["cat"] = TensorValue::Strings({5}, {"b", "zzz", "NA", "", "a"});
  PredictResponse resp;
  ServingStatus st = Predict(*s, req, &resp);
  INFO(st.message);
  REQUIRE(st.ok());
  const TensorValue& out = resp.outputs.at("features");
  REQUIRE(out.shape() == TensorShape{5, 4});
  const std::vector<float> expected = {1, 0, 1, 0,    // (6-2)/4, b
                                       -1, 0, 0, 1,   // unseen
                                       0, 1, 0, 0,    // "NA" is missing: the fill a
                                       2, 1, 0, 0,    // "" is missing too
                                       -0.5, 1, 0, 0};
  const float* got = out.data<float>();
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(i);
    CHECK(got[i] == expected[i]);
  }
}

TEST_CASE("export tabular: regress parses one feature per column and fills a missing one or requires it") {
  ScratchDir tmp;
  TabularModel m;
  m.kernel = {1, 10, 100, 1000};  // output = num' + 10 [a] + 100 [b] + 1000 [unseen]
  ExportSignature regress{"serving_default", "regress", "inputs", "outputs", "x", 0};
  MakeTabular(&m, tmp / "m", 1, ExportHead::kLinear, {regress});
  auto s = Export(m.request);

  tensorflow::serving::RegressionResponse r;
  ServingStatus st = Regress(*s,
                             Regression({Row({{"num", 6}}, {{"cat", "b"}}), Row({{"num", 2}}, {}),
                                         Row({{"num", -6}}, {{"cat", "other"}})}),
                             &r);
  INFO(st.message);
  REQUIRE(st.ok());
  REQUIRE(r.result().regressions_size() == 3);
  CHECK(r.result().regressions(0).value() == 101.0f);
  CHECK(r.result().regressions(1).value() == 10.0f);  // cat missing: fill a
  CHECK(r.result().regressions(2).value() == 998.0f);

  st = Regress(*s, Regression({Row({}, {{"cat", "a"}})}), &r);
  CHECK_FALSE(st.ok());
  CHECK(st.message.find("Feature: num (data type: float) is required but could not be found") != std::string::npos);
}

TEST_CASE("export tabular: the sigmoid head classifies with independent probabilities") {
  ScratchDir tmp;
  TabularModel m;
  m.kernel = {1, -1, 0, 0, 0, 0, 0, 0};  // logits (num', -num')
  ExportSignature classify{"serving_default", "classify", "inputs", "outputs", "x", 0};
  MakeTabular(&m, tmp / "m", 2, ExportHead::kSigmoid, {classify});
  m.request.options.class_names = {"up", "down"};
  auto s = Export(m.request);
  tensorflow::serving::ClassificationRequest req;
  *req.mutable_input()->mutable_example_list()->add_examples() = Row({{"num", 6}}, {{"cat", "a"}});
  tensorflow::serving::ClassificationResponse c;
  ServingStatus st = Classify(*s, req, &c);
  INFO(st.message);
  REQUIRE(st.ok());
  const auto& classes = c.result().classifications(0).classes();
  REQUIRE(classes.size() == 2);
  CHECK(classes[0].label() == "up");
  CHECK(classes[0].score() == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
  CHECK(classes[1].score() == doctest::Approx(1.0 / (1.0 + std::exp(1.0))).epsilon(1e-6));  // not 1 - softmax
}

TEST_CASE("export tabular: columns that do not encode the model's inputs are refused") {
  TabularModel m;
  m.kernel.assign(4, 1.0f);
  MakeTabular(&m, "/nonexistent", 1, ExportHead::kLinear, {{"serving_default", "regress", "inputs", "outputs", "x", 0}});
  m.request.columns[1].vocabulary = {"a", "b", "c"};  // 1 + 4 features, the model takes 4
  Status st = CheckExport(m.request);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("the 2 columns encode 5 features but the model takes 4") != std::string::npos);
  m.request.columns[1].vocabulary = {"b", "a"};  // the engine's indices are the sorted order's
  st = CheckExport(m.request);
  CHECK(st.message().find("vocabulary is not sorted") != std::string::npos);
}

TEST_CASE("export tabular: pipeline predict feeds named JSON instances to a predict signature with a string input") {
  // A regression test: with several inputs, predict once took the signature's
  // first input in protobuf map order (random from run to run) and, when that
  // was a DT_STRING column, turned the instances into tf.Examples.
  ScratchDir tmp;
  TabularModel m;
  m.kernel = {1, 10, 100, 1000};
  MakeTabular(&m, tmp / "m", 1, ExportHead::kLinear, {{"predict", "predict", "inputs", "y", "x", 0}});
  ExportResult result;
  REQUIRE(ExportSavedModel(m.request, &result).ok());
  std::ofstream(tmp / "rows.json") << R"({"instances": [{"num": 6.0, "cat": "b"}, {"num": 2.0, "cat": "zzz"}]})";
  for (int run = 0; run < 8; ++run) {
    const auto r = test::RunPipeline({"predict", result.version_dir, "--signature", "predict", "--json-instances",
                                      tmp / "rows.json", "--show", "2"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("{101}") != std::string::npos);   // (6-2)/4 + 100 [b]
    CHECK(r.out.find("{1000}") != std::string::npos);  // 0 + 1000 [unseen]
  }
}
