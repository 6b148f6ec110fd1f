// Damaged SavedModels give clear statuses, never crashes; interpreter and
// tf.Example units against hand-computed expectations.
#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tfformat/example_codec.h"
#include "serving/interpreter.h"
#include "serving/reader.h"
#include "tests/support/fixtures.h"

using namespace pipeline;
namespace fs = std::filesystem;

namespace {

std::string MnistModel() { return pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1"); }

// A fresh copy of the MNIST model in a temporary directory.
struct TempModel {
  fs::path dir;
  TempModel() {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("reader_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::copy(MnistModel(), dir, fs::copy_options::recursive);
  }
  ~TempModel() { fs::remove_all(dir); }
  std::string Read(const std::string& rel) const {
    std::ifstream f(dir / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  void Write(const std::string& rel, const std::string& s) const {
    std::ofstream f(dir / rel, std::ios::binary | std::ios::trunc);
    f << s;
  }
  void Flip(const std::string& rel, size_t offset) const {
    std::string s = Read(rel);
    REQUIRE(offset < s.size());
    s[offset] = static_cast<char>(s[offset] ^ 0x20);
    Write(rel, s);
  }
};

Status LoadStatus(const std::string& dir) {
  std::unique_ptr<SavedModelReader> r;
  return SavedModelReader::Load(dir, {}, &r);
}

}  // namespace

TEST_CASE("reader: missing / truncated and garbage saved_model.pb") {
  TempModel m;
  Status st = LoadStatus((m.dir / "nope").string());
  CHECK(st.IsNotFound());

  const std::string pb = m.Read("saved_model.pb");
  fs::remove(m.dir / "saved_model.pb");
  st = LoadStatus(m.dir.string());
  CHECK(st.IsNotFound());
  CHECK(st.message().find("missing saved_model.pb") != std::string::npos);

  for (size_t cut : {size_t{1}, size_t{2}, size_t{100}, pb.size() / 2, pb.size() - 1}) {
    m.Write("saved_model.pb", pb.substr(0, cut));
    st = LoadStatus(m.dir.string());
    INFO("cut at " << cut << ": " << st.ToString());
    CHECK(st.IsCorruption());
    CHECK(st.message().find("cannot parse") != std::string::npos);
  }
  std::mt19937 rng(7);
  std::string garbage(4096, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  m.Write("saved_model.pb", garbage);
  st = LoadStatus(m.dir.string());
  CHECK(st.IsCorruption());
  CHECK(st.message().find("cannot parse") != std::string::npos);
}

TEST_CASE("reader: flipped bytes in the variables bundle and missing variables files") {
  {
    TempModel m;
    m.Flip("variables/variables.index", 3);
    Status st = LoadStatus(m.dir.string());
    INFO(st.ToString());
    CHECK(st.IsCorruption());
    CHECK(st.message().find("variables.index") != std::string::npos);
  }
  {
    TempModel m;
    // The data file holds Variable (784x10 floats) then Variable_1; flip inside Variable.
    m.Flip("variables/variables.data-00000-of-00001", 1000);
    Status st = LoadStatus(m.dir.string());
    INFO(st.ToString());
    CHECK(st.IsCorruption());
    CHECK(st.message().find("'Variable'") != std::string::npos);
  }
  {
    TempModel m;
    fs::remove(m.dir / "variables/variables.data-00000-of-00001");
    Status st = LoadStatus(m.dir.string());
    INFO(st.ToString());
    CHECK(st.IsNotFound());
  }
  {
    TempModel m;
    fs::remove(m.dir / "variables/variables.index");
    Status st = LoadStatus(m.dir.string());
    INFO(st.ToString());
    CHECK(st.IsNotFound());
    CHECK(st.message().find("variables.index") != std::string::npos);
  }
}

TEST_CASE("reader: an unknown op is a clear Unimplemented status when run") {
  TempModel m;
  tensorflow::SavedModel sm;
  REQUIRE(sm.ParseFromString(m.Read("saved_model.pb")));
  for (auto& n : *sm.mutable_meta_graphs(0)->mutable_graph_def()->mutable_node())
    if (n.name() == "y") n.set_op("FancySoftmax");
  std::string bytes;
  sm.SerializeToString(&bytes);
  m.Write("saved_model.pb", bytes);
  std::unique_ptr<SavedModelReader> r;
  REQUIRE(SavedModelReader::Load(m.dir.string(), {}, &r).ok());
  std::map<std::string, TensorValue> out;
  Status st = r->RunSignature("predict_images", {{"images", TensorValue(tensorflow::DT_FLOAT, {1, 784})}}, {}, &out);
  CHECK(st.code() == Status::Code::kUnimplemented);
  CHECK(st.message().find("op FancySoftmax (node y) is not supported") != std::string::npos);
  // Unknown signature / alias are InvalidArgument listing what exists.
  st = r->RunSignature("nope", {}, {}, &out);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("predict_images") != std::string::npos);
  st = r->RunSignature("predict_images", {{"pixels", TensorValue(tensorflow::DT_FLOAT, {1, 784})}}, {}, &out);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("images") != std::string::npos);
}

namespace {

tensorflow::NodeDef* AddNode(tensorflow::GraphDef* g, const std::string& name, const std::string& op,
                             std::vector<std::string> inputs = {}) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op(op);
  for (auto& i : inputs) n->add_input(i);
  return n;
}

void ConstFloats(tensorflow::GraphDef* g, const std::string& name, const TensorValue& v) {
  auto* n = AddNode(g, name, "Const");
  (*n->mutable_attr())["dtype"].set_type(v.dtype());
  v.ToProto((*n->mutable_attr())["value"].mutable_tensor());
}

}  // namespace

TEST_CASE("reader: interpreter MatMul transposes / TopKV2 ties / feeds / control inputs and output indexing") {
  tensorflow::GraphDef g;
  // a: [2,3], b: [2,3]; a x b^T = [2,2]; a^T x b = [3,3].
  ConstFloats(&g, "a", TensorValue::From<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  ConstFloats(&g, "b", TensorValue::From<float>({2, 3}, {1, 0, -1, 2, 1, 0}));
  auto* abt = AddNode(&g, "abt", "MatMul", {"a", "b"});
  (*abt->mutable_attr())["transpose_b"].set_b(true);
  auto* atb = AddNode(&g, "atb", "MatMul", {"a", "b"});
  (*atb->mutable_attr())["transpose_a"].set_b(true);
  ConstFloats(&g, "v", TensorValue::From<float>({1, 5}, {3, 1, 3, 2, 3}));
  ConstFloats(&g, "k", TensorValue::Scalar<int32_t>(4));
  g.mutable_node()->rbegin()->mutable_attr()->at("dtype").set_type(tensorflow::DT_INT32);
  AddNode(&g, "top", "TopKV2", {"v", "k"});
  AddNode(&g, "idx", "Identity", {"top:1", "^abt"});
  std::unique_ptr<Interpreter> in;
  REQUIRE(Interpreter::Create(g, &in).ok());
  std::vector<TensorValue> out;
  Status st = in->Run({}, {"abt", "atb:0", "top:0", "idx"}, {}, &out);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(out[0].shape() == TensorShape{2, 2});
  const std::vector<float> abt_expect = {-2, 4, -2, 13};
  for (int i = 0; i < 4; ++i) CHECK(out[0].data<float>()[i] == abt_expect[static_cast<size_t>(i)]);
  const std::vector<float> atb_expect = {9, 4, -1, 12, 5, -2, 15, 6, -3};
  CHECK(out[1].shape() == TensorShape{3, 3});
  for (int i = 0; i < 9; ++i) CHECK(out[1].data<float>()[i] == atb_expect[static_cast<size_t>(i)]);
  const std::vector<int32_t> idx_expect = {0, 2, 4, 3};  // ties: lower index first
  for (int i = 0; i < 4; ++i) CHECK(out[3].data<int32_t>()[i] == idx_expect[static_cast<size_t>(i)]);
  CHECK(out[2].data<float>()[3] == 2.f);

  // Feeding a tensor prunes its producer; an unknown node is NotFound.
  REQUIRE(in->Run({{"a:0", TensorValue::From<float>({1, 3}, {1, 1, 1})}}, {"abt"}, {}, &out).ok());
  CHECK(out[0].shape() == TensorShape{1, 2});
  CHECK(out[0].data<float>()[0] == 0.f);
  CHECK(out[0].data<float>()[1] == 3.f);
  CHECK(in->Run({}, {"nope:0"}, {}, &out).IsNotFound());
  st = in->Run({}, {"top:2"}, {}, &out);
  CHECK(!st.ok());
}

TEST_CASE("reader: interpreter flushes denormals to zero as TensorFlow's CPU kernels do") {
  // Found by tests/tf/: exp(-88) and exp(-100) are subnormal floats; TF's
  // softmax gives 0 for them (FTZ/DAZ), so TopKV2 keeps such classes in index
  // order. We returned 6e-39 and 4e-44 and ordered them by those values.
  tensorflow::GraphDef g;
  ConstFloats(&g, "logits", TensorValue::From<float>({1, 4}, {-100, -88, 0, -100}));
  AddNode(&g, "p", "Softmax", {"logits"});
  ConstFloats(&g, "k", TensorValue::Scalar<int32_t>(4));
  g.mutable_node()->rbegin()->mutable_attr()->at("dtype").set_type(tensorflow::DT_INT32);
  AddNode(&g, "top", "TopKV2", {"p", "k"});
  std::unique_ptr<Interpreter> in;
  REQUIRE(Interpreter::Create(g, &in).ok());
  std::vector<TensorValue> out;
  REQUIRE(in->Run({}, {"p", "top:1"}, {}, &out).ok());
  CHECK(out[0].data<float>()[0] == 0.f);
  CHECK(out[0].data<float>()[1] == 0.f);
  CHECK(out[0].data<float>()[2] == 1.f);
  const std::vector<int32_t> order = {2, 0, 1, 3};  // TF: the zeros in index order
  for (int i = 0; i < 4; ++i) CHECK(out[1].data<int32_t>()[i] == order[static_cast<size_t>(i)]);
  // The caller's floating-point mode is restored.
  volatile float tiny = 1e-39f;
  CHECK(tiny * 1.0f != 0.f);
}

namespace {

// A graph whose only computation is in its function library, as TF2 writes
// it: f(x: float [1,3], v: resource) -> (y = BiasAdd(x, read(v)), idx = TopKV2(y, 2).indices).
// `body_input` replaces the BiasAdd's second input, `ret_idx` the idx ret.
tensorflow::GraphDef FunctionGraph(const std::string& body_input = "r:value:0",
                                   const std::string& ret_idx = "t:indices:0") {
  const std::string text = R"pb(
    node { name: "v" op: "VarHandleOp" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "shape" value { shape { dim { size: 3 } } } } }
    node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 3 } }
                                                float_val: 10 float_val: -10 float_val: 0.5 } } } }
    node { name: "init" op: "AssignVariableOp" input: "v" input: "c" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "call" op: "StatefulPartitionedCall" input: "x" input: "v"
           attr { key: "f" value { func { name: "f" } } }
           attr { key: "Tin" value { list { type: DT_FLOAT type: DT_RESOURCE } } }
           attr { key: "Tout" value { list { type: DT_FLOAT type: DT_INT32 } } } }
    library { function {
      signature { name: "f" input_arg { name: "x" type: DT_FLOAT } input_arg { name: "v" type: DT_RESOURCE }
                  output_arg { name: "y" type: DT_FLOAT } output_arg { name: "idx" type: DT_INT32 } }
      node_def { name: "r" op: "ReadVariableOp" input: "v" attr { key: "dtype" value { type: DT_FLOAT } } }
      node_def { name: "b" op: "BiasAdd" input: "x" input: "BODY_INPUT" attr { key: "T" value { type: DT_FLOAT } } }
      node_def { name: "k" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
                 attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape {} int_val: 2 } } } }
      node_def { name: "t" op: "TopKV2" input: "b:output:0" input: "k:output:0" attr { key: "T" value { type: DT_FLOAT } } }
      ret { key: "y" value: "b:output:0" }
      ret { key: "idx" value: "RET_IDX" } } }
  )pb";
  std::string filled = text;
  filled.replace(filled.find("BODY_INPUT"), 10, body_input);
  filled.replace(filled.find("RET_IDX"), 7, ret_idx);
  tensorflow::GraphDef g;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(filled, &g));
  return g;
}

// ReadVariableOp is not an op our exporter writes: its OpDef comes from the
// model, as a TF2 SavedModel's stripped_op_list carries it.
tensorflow::OpList ModelOps() {
  tensorflow::OpList ops;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(R"pb(
    op { name: "ReadVariableOp" input_arg { name: "resource" type: DT_RESOURCE }
         output_arg { name: "value" type_attr: "dtype" } attr { name: "dtype" type: "type" } })pb", &ops));
  return ops;
}

}  // namespace

TEST_CASE("reader: a function call runs its body with args and resource handles - output args by name - errors name the function") {
  const tensorflow::OpList ops = ModelOps();
  const tensorflow::GraphDef g = FunctionGraph();
  std::unique_ptr<Interpreter> in;
  Status st = Interpreter::Create(g, &in, &ops);
  INFO(st.ToString());
  REQUIRE(st.ok());
  std::vector<TensorValue> out;
  REQUIRE(in->Run({}, {}, {"init"}, &out).ok());
  st = in->Run({{"x:0", TensorValue::From<float>({1, 3}, {1, 2, 3})}}, {"call:0", "call:1"}, {}, &out);
  INFO(st.ToString());
  REQUIRE(st.ok());
  // y = [1+10, 2-10, 3+0.5]; the top 2 are indices 0 (11) and 2 (3.5).
  REQUIRE(out[0].shape() == TensorShape{1, 3});
  CHECK(out[0].data<float>()[0] == 11.f);
  CHECK(out[0].data<float>()[1] == -8.f);
  CHECK(out[0].data<float>()[2] == 3.5f);
  REQUIRE(out[1].dtype() == tensorflow::DT_INT32);
  CHECK(out[1].data<int32_t>()[0] == 0);
  CHECK(out[1].data<int32_t>()[1] == 2);
  // The body sees the caller's variable state: a new value reaches the next call.
  auto& var = in->variables().at("v");
  var.value.mutable_data<float>()[1] = 100.f;
  REQUIRE(in->Run({{"x:0", TensorValue::From<float>({1, 3}, {1, 2, 3})}}, {"call:1"}, {}, &out).ok());
  CHECK(out[0].data<int32_t>()[0] == 1);

  // A body input naming no output arg, or an index past the arg's outputs, is
  // refused when the interpreter is created, naming the function and node.
  st = Interpreter::Create(FunctionGraph("r:nope:0"), &in, &ops);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("function f: node b: node r has no output arg 'nope'") != std::string::npos);
  st = Interpreter::Create(FunctionGraph("r:value:0", "t:indices:1"), &in, &ops);
  CHECK(st.IsInvalidArgument());
  CHECK(st.message().find("output indices:1 of node t is out of range (it has 1)") != std::string::npos);
  st = Interpreter::Create(FunctionGraph("nowhere"), &in, &ops);
  CHECK(st.message().find("input 'nowhere' names no input arg of the function") != std::string::npos);
  // Without the model's OpDef for ReadVariableOp its outputs cannot be named.
  st = Interpreter::Create(FunctionGraph(), &in);
  CHECK(st.message().find("op ReadVariableOp has no OpDef in the model") != std::string::npos);

  // An op the interpreter lacks inside a body fails the call, naming both.
  tensorflow::GraphDef bad = FunctionGraph();
  bad.mutable_library()->mutable_function(0)->mutable_node_def(1)->set_op("Lgamma");
  tensorflow::OpList with_lgamma = ops;
  REQUIRE(google::protobuf::TextFormat::MergeFromString(
      R"pb(op { name: "Lgamma" input_arg { name: "x" type_attr: "T" } output_arg { name: "output" type_attr: "T" }
                attr { name: "T" type: "type" } })pb", &with_lgamma));
  bad.mutable_library()->mutable_function(0)->mutable_node_def(1)->mutable_input()->RemoveLast();
  REQUIRE(Interpreter::Create(bad, &in, &with_lgamma).ok());
  REQUIRE(in->Run({}, {}, {"init"}, &out).ok());
  st = in->Run({{"x:0", TensorValue::From<float>({1, 3}, {1, 2, 3})}}, {"call:0"}, {}, &out);
  CHECK(st.code() == Status::Code::kUnimplemented);
  CHECK(st.message().find("node call (op StatefulPartitionedCall): in function f: op Lgamma (node b) is not supported") !=
        std::string::npos);
}

TEST_CASE("reader: a recursive function library is refused at its call depth and not by a stack overflow") {
  // g(x) calls itself directly (a node whose op is the function's name).
  tensorflow::GraphDef g;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(R"pb(
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
    node { name: "call" op: "PartitionedCall" input: "x" attr { key: "f" value { func { name: "g" } } }
           attr { key: "Tin" value { list { type: DT_FLOAT } } } attr { key: "Tout" value { list { type: DT_FLOAT } } } }
    library { function {
      signature { name: "g" input_arg { name: "x" type: DT_FLOAT } output_arg { name: "y" type: DT_FLOAT } }
      node_def { name: "again" op: "g" input: "x" }
      ret { key: "y" value: "again:y:0" } } })pb", &g));
  std::unique_ptr<Interpreter> in;
  REQUIRE(Interpreter::Create(g, &in).ok());
  std::vector<TensorValue> out;
  Status st = in->Run({{"x:0", TensorValue::Scalar<float>(1.f)}}, {"call:0"}, {}, &out);
  CHECK(st.code() == Status::Code::kRuntime);
  CHECK(st.message().find("calls nest deeper than 64 (a recursive function library)") != std::string::npos);
}

TEST_CASE("reader: ops TF 2.21's own exports use - BatchMatMulV2 on matrices and LookupTableImportV2") {
  // Found by tests/tf/tf_models_run.py: tf.matmul in a TF2-built v1 graph emits
  // BatchMatMulV2 (adj_x/adj_y), and StaticHashTable fills its table with
  // LookupTableImportV2, which replaces the contents (InitializeTableV2 refuses
  // a second fill).
  tensorflow::GraphDef g;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(R"pb(
    node { name: "a" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim { size: 3 } }
                  float_val: 1 float_val: 2 float_val: 3 float_val: 4 float_val: 5 float_val: 6 } } } }
    node { name: "ab" op: "BatchMatMulV2" input: "a" input: "a" attr { key: "T" value { type: DT_FLOAT } }
           attr { key: "adj_y" value { b: true } } }
    node { name: "ba" op: "BatchMatMulV3" input: "a" input: "a" attr { key: "adj_x" value { b: true } } }
    node { name: "t" op: "HashTableV2" attr { key: "key_dtype" value { type: DT_INT64 } }
           attr { key: "value_dtype" value { type: DT_STRING } } }
    node { name: "k" op: "Const" attr { key: "dtype" value { type: DT_INT64 } }
           attr { key: "value" value { tensor { dtype: DT_INT64 tensor_shape { dim { size: 2 } } int64_val: 0 int64_val: 1 } } } }
    node { name: "v1" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
           attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 2 } } string_val: "a" string_val: "b" } } } }
    node { name: "v2" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
           attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 2 } } string_val: "x" string_val: "y" } } } }
    node { name: "import1" op: "LookupTableImportV2" input: "t" input: "k" input: "v1" }
    node { name: "import2" op: "LookupTableImportV2" input: "t" input: "k" input: "v2" }
    node { name: "init_again" op: "InitializeTableV2" input: "t" input: "k" input: "v1" }
    node { name: "default" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
           attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} string_val: "UNK" } } } }
    node { name: "q" op: "Const" attr { key: "dtype" value { type: DT_INT64 } }
           attr { key: "value" value { tensor { dtype: DT_INT64 tensor_shape { dim { size: 3 } } int64_val: 1 int64_val: 7 int64_val: 0 } } } }
    node { name: "find" op: "LookupTableFindV2" input: "t" input: "q" input: "default" }
    node { name: "cube" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 1 } dim { size: 1 } dim { size: 1 } } float_val: 1 } } } }
    node { name: "batched" op: "BatchMatMulV2" input: "cube" input: "cube" })pb", &g));
  std::unique_ptr<Interpreter> in;
  REQUIRE(Interpreter::Create(g, &in).ok());
  std::vector<TensorValue> out;
  REQUIRE(in->Run({}, {"ab", "ba"}, {}, &out).ok());
  // a a^T = [[14, 32], [32, 77]]; a^T a = [[17, 22, 27], [22, 29, 36], [27, 36, 45]].
  REQUIRE(out[0].shape() == TensorShape{2, 2});
  CHECK(out[0].data<float>()[1] == 32.f);
  CHECK(out[0].data<float>()[3] == 77.f);
  REQUIRE(out[1].shape() == TensorShape{3, 3});
  CHECK(out[1].data<float>()[0] == 17.f);
  CHECK(out[1].data<float>()[5] == 36.f);
  Status st = in->Run({}, {"batched"}, {}, &out);
  CHECK(st.code() == Status::Code::kUnimplemented);
  CHECK(st.message().find("BatchMatMul with batch dimensions") != std::string::npos);

  REQUIRE(in->Run({}, {}, {"import1"}, &out).ok());
  REQUIRE(in->Run({}, {"find"}, {}, &out).ok());
  CHECK(out[0].strings() == std::vector<std::string>{"b", "UNK", "a"});
  REQUIRE(in->Run({}, {}, {"import2"}, &out).ok());  // an import replaces
  REQUIRE(in->Run({}, {"find"}, {}, &out).ok());
  CHECK(out[0].strings() == std::vector<std::string>{"y", "UNK", "x"});
  st = in->Run({}, {}, {"init_again"}, &out);
  CHECK(st.message().find("Table already initialized") != std::string::npos);
}

TEST_CASE("reader: tf.Example and TFRecord helpers round-trip and report errors") {
  const float v[3] = {1.5f, -2.f, 0.25f};
  const std::string s = EncodeFloatExample("x", v, 3);
  tensorflow::Example ex;
  REQUIRE(DecodeExample(s, &ex).ok());
  REQUIRE(ex.features().feature().at("x").float_list().value_size() == 3);
  CHECK(ex.features().feature().at("x").float_list().value(2) == 0.25f);
  CHECK(!DecodeExample(std::string("\xff\xff\xff", 3), &ex).ok());

  DenseFeatureSpec spec;
  spec.key = "x";
  spec.shape = {3};
  std::vector<TensorValue> out;
  REQUIRE(ParseDenseExamples({s, s}, {spec}, &out).ok());
  CHECK(out[0].shape() == TensorShape{2, 3});
  CHECK(out[0].data<float>()[4] == -2.f);
  spec.shape = {2};
  Status st = ParseDenseExamples({s}, {spec}, &out);
  CHECK(st.message().find("Values size: 3 but output shape: [2]") != std::string::npos);
  spec.key = "y";
  spec.default_value = TensorValue::From<float>({2}, {7, 8});
  REQUIRE(ParseDenseExamples({s}, {spec}, &out).ok());
  CHECK(out[0].data<float>()[1] == 8.f);

  std::string file = FrameTFRecord(s) + FrameTFRecord("abc");
  std::vector<std::string> records;
  REQUIRE(ParseTFRecords(file, "mem", &records).ok());
  CHECK(records == std::vector<std::string>{s, "abc"});
  file[file.size() - 6] ^= 1;
  CHECK(ParseTFRecords(file, "mem", &records).IsCorruption());
}
