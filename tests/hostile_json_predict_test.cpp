// Issue 16, group B: hostile JSON, predict arguments and SavedModel graphs,
// each through the built binary. Every case failed on the code before the
// fix (the old behaviour is noted per case; docs/reliability.md has the table).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/json_value.h"
#include "proto/saved_model.pb.h"
#include "export/export.h"
#include "tests/support/export_testing.h"
#include "tests/support/fixtures.h"
#include "tests/support/run_pipeline.h"
#include "tests/support/scratch_dir.h"

namespace fs = std::filesystem;
using pipeline::test::RunPipeline;
using pipeline::test::ScopedTempDir;

namespace {

std::string MnistModel() { return pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1"); }
std::string MnistImages() { return pipeline::test::Fixture("mnist/t10k-images-idx3-ubyte.gz"); }
std::string MnistLabels() { return pipeline::test::Fixture("mnist/t10k-labels-idx1-ubyte.gz"); }

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadText(const std::string& path) { return pipeline::test::Slurp(path); }

bool Has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// A copy of the MNIST tutorial model in `dir`, its graph edited by `edit`.
std::string EditedMnist(const ScopedTempDir& tmp, const std::function<void(tensorflow::GraphDef*)>& edit) {
  const std::string dir = tmp / "model";
  fs::copy(MnistModel(), dir, fs::copy_options::recursive);
  tensorflow::SavedModel sm;
  REQUIRE(sm.ParseFromString(ReadText(dir + "/saved_model.pb")));
  REQUIRE(sm.meta_graphs_size() == 1);
  edit(sm.mutable_meta_graphs(0)->mutable_graph_def());
  std::string bytes;
  REQUIRE(sm.SerializeToString(&bytes));
  fs::permissions(dir + "/saved_model.pb", fs::perms::owner_write, fs::perm_options::add);
  WriteText(dir + "/saved_model.pb", bytes);
  return dir;
}

tensorflow::NodeDef* Node(tensorflow::GraphDef* g, const std::string& name) {
  for (auto& n : *g->mutable_node())
    if (n.name() == name) return &n;
  FAIL("no node " << name);
  return nullptr;
}

// A Const "huge" declaring [1e6, 1e6] floats, run before the predict
// signature's output `y` (a control input), so the old reader allocated it.
void AddHugeConst(tensorflow::GraphDef* g, const std::function<void(tensorflow::TensorProto*)>& values) {
  tensorflow::NodeDef* c = g->add_node();
  c->set_name("huge");
  c->set_op("Const");
  (*c->mutable_attr())["dtype"].set_type(tensorflow::DT_FLOAT);
  tensorflow::TensorProto* t = (*c->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tensorflow::DT_FLOAT);
  t->mutable_tensor_shape()->add_dim()->set_size(1000000);
  t->mutable_tensor_shape()->add_dim()->set_size(1000000);
  values(t);
  Node(g, "y")->add_input("^huge");
}

// An exported 4-3-2 MLP (relu hidden layer) of our own: what `pipeline run` writes.
std::string ReluModel(const ScopedTempDir& tmp) {
  auto m = pipeline::export_testing::MakeModel({4, 3, 2}, tmp / "export");
  pipeline::ExportResult r;
  pipeline::Status st = pipeline::ExportSavedModel(m->request, &r);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  return r.version_dir;
}

// An IDX images file of `count` 28x28 images.
void WriteIdxImages(const std::string& path, uint32_t count) {
  std::string b = {0, 0, 8, 3};
  for (uint32_t v : {count, 28u, 28u})
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((v >> s) & 0xff));
  b.append(static_cast<size_t>(count) * 784, '\x20');
  WriteText(path, b);
}

}  // namespace

TEST_CASE("reliability: NaN and Infinity in predict --json-instances propagate and are reported and 1e999 is refused") {
  // Old: Relu(NaN) = 0, so all three rows printed the same finite
  // probabilities, without a word; 1e999 became inf silently.
  ScopedTempDir tmp("hostile-nan");
  const std::string model = ReluModel(tmp);
  WriteText(tmp / "in.json", "{\"instances\": [[1, 2, 3, 4], [NaN, 1, 1, 1], [-Infinity, 1, 1, 1]]}");
  auto r = RunPipeline({"predict", model, "--signature", "predict_images", "--json-instances", tmp / "in.json",
                        "--json", tmp / "out.json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.err, "warning: 2 of 3 inputs hold NaN or Infinity (input 1, 2)"));
  CHECK(Has(r.err, "warning: the outputs of 1 of 3 inputs hold NaN or Infinity"));
  CHECK(Has(r.out, "example 0 outputs = [0."));
  CHECK(Has(r.out, "example 1 outputs = [nan, nan]"));  // NaN propagates through MatMul, Relu and Softmax
  // -Infinity times the (all positive) first-layer weights is -inf in every
  // hidden unit and Relu(-inf) = 0, in TensorFlow too: a finite row.
  CHECK(Has(r.out, "example 2 outputs = [0."));
  pipeline::JsonValue out;
  REQUIRE(pipeline::ReadJsonFile(tmp / "out.json", &out).ok());
  REQUIRE(out["non_finite_inputs"].items().size() == 2);
  CHECK(out["non_finite_inputs"][0].number() == 1);
  CHECK(out["non_finite_inputs"][1].number() == 2);
  CHECK(out["non_finite_outputs"].number() == 1);

  WriteText(tmp / "big.json", "{\"instances\": [[1e999, 1, 1, 1]]}");
  r = RunPipeline({"predict", model, "--signature", "predict_images", "--json-instances", tmp / "big.json"});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "big.json: invalid JSON at byte offset 16: number 1e999 is out of the range of a double"));
  WriteText(tmp / "float.json", "{\"instances\": [[1e300, 1, 1, 1]]}");
  r = RunPipeline({"predict", model, "--signature", "predict_images", "--json-instances", tmp / "float.json"});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "instance 0: value 1.0000000000000001e+300 at byte offset 16 cannot be converted to float"));
}

TEST_CASE("reliability: predict refuses more labels than images naming both counts and files") {
  // Old: 5 images with 10,000 labels exited 0 and printed an accuracy.
  ScopedTempDir tmp("hostile-labels");
  WriteIdxImages(tmp / "five-images-idx3-ubyte", 5);
  auto r = RunPipeline({"predict", MnistModel(), "--signature", "predict_images", "--idx-images",
                        tmp / "five-images-idx3-ubyte", "--idx-labels", MnistLabels()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, MnistLabels() + " has 10000 labels but " + (tmp / "five-images-idx3-ubyte") +
                       " has 5 images; --idx-labels needs exactly one label per input"));
  CHECK(!Has(r.out, "accuracy"));
}

TEST_CASE("reliability: predict --limit 0 is a usage error and not 'all'") {
  // Old: --limit 0 ran all 10,000 examples.
  for (const std::string bad : {"0", "-3"}) {
    auto r = RunPipeline({"predict", MnistModel(), "--signature", "predict_images", "--idx-images", MnistImages(),
                          "--limit", bad});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(Has(r.err, "--limit must be an integer >= 1, got '" + bad + "' (leave it out to run every input)"));
    CHECK(!Has(r.out, "examples"));
  }
  auto r = RunPipeline({"predict", MnistModel(), "--signature", "predict_images", "--idx-images", MnistImages(),
                        "--limit", "1"});
  CHECK(r.exit_code == 0);
  CHECK(Has(r.out, "signature predict_images (tensorflow/serving/predict): 1 examples"));
}

TEST_CASE("reliability: a Const declaring more elements than its bytes is refused at load naming the node") {
  // Old: inspect and predict allocated the declared 4 TB: internal error: std::bad_alloc.
  ScopedTempDir tmp("hostile-const");
  const std::string model = EditedMnist(tmp, [](tensorflow::GraphDef* g) {
    AddHugeConst(g, [](tensorflow::TensorProto* t) { t->set_tensor_content(std::string(4, '\0')); });
  });
  const std::string message = "saved_model.pb: node 'huge' (op Const): attr 'value' declares shape "
                              "[1000000,1000000] of float = 1000000000000 elements (4000000000000 bytes) but its "
                              "tensor_content holds 4 bytes";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"inspect", model},
        std::vector<std::string>{"predict", model, "--signature", "predict_images", "--idx-images", MnistImages(),
                                 "--limit", "2"}}) {
    auto r = RunPipeline(args);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(Has(r.err, message));
    CHECK(!Has(r.err, "bad_alloc"));
  }
  // TensorFlow's fill rule (fewer values than elements) is bounded too.
  ScopedTempDir tmp2("hostile-fill");
  const std::string filled = EditedMnist(tmp2, [](tensorflow::GraphDef* g) {
    AddHugeConst(g, [](tensorflow::TensorProto* t) { t->add_float_val(1.0f); });
  });
  auto r = RunPipeline({"predict", filled, "--signature", "predict_images", "--idx-images", MnistImages(), "--limit", "2"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "node 'huge' (op Const): attr 'value' declares shape [1000000,1000000] of float = 1000000000000 "
                   "elements (4000000000000 bytes) but holds 1 values (4 bytes); filling more than 2 GiB from them "
                   "is refused"));
}

TEST_CASE("reliability: a MatMul with T = DT_STRING is refused at load as TensorFlow refuses it") {
  // Old: the model loaded and predict ran without a word.
  ScopedTempDir tmp("hostile-attr");
  const std::string model = EditedMnist(
      tmp, [](tensorflow::GraphDef* g) { (*Node(g, "MatMul")->mutable_attr())["T"].set_type(tensorflow::DT_STRING); });
  auto r = RunPipeline({"predict", model, "--signature", "predict_images", "--idx-images", MnistImages(), "--limit", "2"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "saved_model.pb: node 'MatMul' (op MatMul): Value for attr 'T' of string is not in the list of "
                   "allowed values: bfloat16, half, float, double, int32, int64, uint8, uint16, uint32, uint64, "
                   "complex64, complex128"));
  r = RunPipeline({"inspect", model});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "node 'MatMul' (op MatMul): Value for attr 'T' of string"));

  // An attr the op does not define, and a required attr left out.
  ScopedTempDir tmp2("hostile-attr2");
  const std::string unknown = EditedMnist(
      tmp2, [](tensorflow::GraphDef* g) { (*Node(g, "MatMul")->mutable_attr())["bogus"].set_i(1); });
  r = RunPipeline({"inspect", unknown});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "node 'MatMul' (op MatMul): NodeDef mentions attr 'bogus' not in Op<name=MatMul>"));
  ScopedTempDir tmp3("hostile-attr3");
  const std::string missing = EditedMnist(tmp3, [](tensorflow::GraphDef* g) { Node(g, "MatMul")->mutable_attr()->erase("T"); });
  r = RunPipeline({"inspect", missing});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "node 'MatMul' (op MatMul): NodeDef missing attr 'T' from Op<name=MatMul>"));
}

TEST_CASE("reliability: TopKV2 with k = -5 says what TensorFlow says") {
  // Old: "input must have at least k=-5 columns, has 10".
  ScopedTempDir tmp("hostile-topk");
  const std::string model = EditedMnist(tmp, [](tensorflow::GraphDef* g) {
    const std::string k = Node(g, "TopKV2")->input(1);
    tensorflow::TensorProto* t = (*Node(g, k.substr(0, k.find(':')))->mutable_attr())["value"].mutable_tensor();
    t->clear_int_val();
    t->clear_tensor_content();
    t->add_int_val(-5);
  });
  auto r = RunPipeline({"predict", model, "--signature", "serving_default", "--idx-images", MnistImages(), "--limit", "2"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "node TopKV2 (op TopKV2): Need k >= 0, got -5"));
}

TEST_CASE("reliability: duplicate keys in predict --json-instances are refused with the key and offsets") {
  // Old: {"instances": [], "instances": [row]} silently used the first key: 0 examples, exit 0.
  ScopedTempDir tmp("hostile-dup");
  std::string row = "[";
  for (int i = 0; i < 784; ++i) row += i ? ", 0" : "0";
  row += "]";
  WriteText(tmp / "dup.json", "{\"instances\": [], \"instances\": [" + row + "]}");
  auto r = RunPipeline({"predict", MnistModel(), "--signature", "predict_images", "--json-instances", tmp / "dup.json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "dup.json: invalid JSON at byte offset 18: duplicate key \"instances\" (first at byte offset 1)"));
  // Nesting is bounded: 100,000 '[' is an error, not a stack overflow.
  WriteText(tmp / "deep.json", std::string(100000, '['));
  r = RunPipeline({"predict", MnistModel(), "--signature", "predict_images", "--json-instances", tmp / "deep.json"});
  CHECK(r.exit_code == 1);
  CHECK(Has(r.err, "deep.json: invalid JSON at byte offset 128: nested deeper than 128 arrays/objects"));
}

TEST_CASE("reliability: invalid UTF-8 in a path never makes summary.json invalid JSON") {
  // Old: the bytes went raw into summary.json, which a strict parser rejects.
  ScopedTempDir tmp("hostile-utf8");
  const std::string config = tmp / "bad\xff\xfe.yaml";
  WriteText(config, "name: utf8_test\n"
                    "dataset:\n  name: idx\n  path: " + (tmp / "nodata") + "\n  download: false\n  num_classes: 10\n"
                    "  train: {file: a, start: 0, count: 10}\n  validation: {file: a, start: 0, count: 0}\n"
                    "  test: {file: a, start: 10, count: 10}\n"
                    "model:\n  input: 784\n  layers:\n    - {units: 10}\n"
                    "stages: [load]\n");
  const std::string run_dir = tmp / "run-\xc3(";
  auto r = RunPipeline({"run", config, "--run-dir", run_dir});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);  // no dataset: the load stage fails, and summary.json says so
  pipeline::JsonValue summary;
  const pipeline::Status st = pipeline::ReadJsonFile(run_dir + "/summary.json", &summary);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(summary["config"].str() == tmp / "bad\xef\xbf\xbd\xef\xbf\xbd.yaml");  // one U+FFFD per bad byte
  CHECK(summary["run_dir"].str() == tmp / "run-\xef\xbf\xbd(");               // C3 without its continuation
  CHECK(summary["status"].str() == "failed");
}
