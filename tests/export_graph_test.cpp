// The exported graph: structure, signatures, SaverDef, collections, weights,
// frozen mode, CheckExport's rules, and conformance to TensorFlow's op registry.
#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <map>
#include <set>

#include "common/files.h"
#include "proto/saved_model.pb.h"
#include "proto/variable.pb.h"
#include "engine/activation.h"
#include "export/export.h"
#include "export/export_graph.h"
#include "export/layer_graph.h"
#include "tests/support/export_testing.h"
#include "tests/support/export_verify.h"
#include "tfformat/opdefs.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using namespace pipeline;
using namespace pipeline::export_testing;
using savedmodel::ReadSavedModelProto;

namespace {

std::vector<int64_t> Dims(const tensorflow::TensorShapeProto& s) {
  std::vector<int64_t> d;
  for (const auto& x : s.dim()) d.push_back(x.size());
  return d;
}

const tensorflow::NodeDef* Node(const tensorflow::GraphDef& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

tensorflow::OpList LoadRegistry() {
  std::string text;
  const std::string path = pipeline::test::Fixture("tf-opdefs/ops.pbtxt");
  REQUIRE_MESSAGE(pipeline::ReadInputFile(path, pipeline::input::kRunRecord, &text).ok(), "missing " << path);
  tensorflow::OpList list;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &list));
  return list;
}

tensorflow::MetaGraphDef ExportAndRead(const ExportRequest& req, ExportResult* res = nullptr) {
  ExportResult local;
  ExportResult* r = res ? res : &local;
  Status st = ExportSavedModel(req, r);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  tensorflow::SavedModel sm;
  REQUIRE(ReadSavedModelProto(r->version_dir, &sm).ok());
  REQUIRE(sm.saved_model_schema_version() == 1);
  REQUIRE(sm.meta_graphs_size() == 1);
  return sm.meta_graphs(0);
}

}  // namespace

TEST_CASE("export: 784-16-10 SavedModel layout / signatures / SaverDef / collections and weights") {
  ScratchDir dir;
  auto m = MakeModel({784, 16, 10}, dir / "mnist");
  ExportResult res;
  const auto mg = ExportAndRead(m->request, &res);
  CHECK(res.version == 1);
  CHECK(res.version_dir == dir / "mnist/1");
  CHECK(fs::exists(dir / "mnist/1/variables/variables.index"));
  CHECK(fs::exists(dir / "mnist/1/variables/variables.data-00000-of-00001"));
  CHECK_FALSE(fs::exists(dir / "mnist/1/assets.extra"));
  // Only the version remains: no temp dirs.
  CHECK(std::distance(fs::directory_iterator(dir / "mnist"), fs::directory_iterator()) == 1);

  REQUIRE(mg.meta_info_def().tags_size() == 1);
  CHECK(mg.meta_info_def().tags(0) == "serve");
  CHECK(mg.meta_info_def().stripped_default_attrs());
  CHECK(mg.graph_def().versions().producer() == savedmodel::kGraphDefProducer);
  CHECK(mg.graph_def().versions().min_consumer() == 0);

  // Signatures.
  REQUIRE(mg.signature_def_size() == 2);
  const auto& p = mg.signature_def().at("predict_images");
  CHECK(p.method_name() == "tensorflow/serving/predict");
  REQUIRE(p.inputs_size() == 1);
  REQUIRE(p.outputs_size() == 1);
  CHECK(p.inputs().at("inputs").name() == "x:0");
  CHECK(p.inputs().at("inputs").dtype() == tensorflow::DT_FLOAT);
  CHECK(Dims(p.inputs().at("inputs").tensor_shape()) == std::vector<int64_t>{-1, 784});
  CHECK(p.outputs().at("outputs").name() == "probabilities:0");
  CHECK(p.outputs().at("outputs").dtype() == tensorflow::DT_FLOAT);
  CHECK(Dims(p.outputs().at("outputs").tensor_shape()) == std::vector<int64_t>{-1, 10});
  CHECK(Node(mg.graph_def(), "probabilities")->op() == "Softmax");

  const auto& c = mg.signature_def().at("serving_default");
  CHECK(c.method_name() == "tensorflow/serving/classify");
  REQUIRE(c.inputs_size() == 1);
  REQUIRE(c.outputs_size() == 2);
  CHECK(c.inputs().at("inputs").name() == "tf_example:0");
  CHECK(c.inputs().at("inputs").dtype() == tensorflow::DT_STRING);
  CHECK(Dims(c.inputs().at("inputs").tensor_shape()) == std::vector<int64_t>{-1});
  CHECK(c.outputs().at("classes").dtype() == tensorflow::DT_STRING);
  CHECK(Dims(c.outputs().at("classes").tensor_shape()) == std::vector<int64_t>{-1, 10});
  CHECK(c.outputs().at("scores").dtype() == tensorflow::DT_FLOAT);
  CHECK(Dims(c.outputs().at("scores").tensor_shape()) == std::vector<int64_t>{-1, 10});
  CHECK(c.outputs().at("scores").name() == "TopKV2:0");
  CHECK(c.outputs().at("classes").name() == "index_to_string_Lookup:0");

  // The classify path: ParseExample of feature "x" with 784 floats, TopKV2 k=10 sorted, V2 table.
  const auto* pe = Node(mg.graph_def(), "ParseExample/ParseExample");
  REQUIRE(pe);
  CHECK(pe->op() == "ParseExample");
  CHECK(Dims(pe->attr().at("dense_shapes").list().shape(0)) == std::vector<int64_t>{784});
  CHECK(Node(mg.graph_def(), "ParseExample/ParseExample/dense_keys_0")->attr().at("value").tensor().string_val(0) == "x");
  CHECK(Node(mg.graph_def(), "TopKV2/k")->attr().at("value").tensor().int_val(0) == 10);
  CHECK(Node(mg.graph_def(), "TopKV2")->attr().count("sorted") == 0);  // default true, left out
  CHECK(Node(mg.graph_def(), "index_to_string")->op() == "HashTableV2");
  const auto& labels = Node(mg.graph_def(), "index_to_string/values")->attr().at("value").tensor();
  REQUIRE(labels.string_val_size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(labels.string_val(i) == std::to_string(i));

  // SaverDef (TF's sharded V2 Saver).
  REQUIRE(mg.has_saver_def());
  const auto& sd = mg.saver_def();
  CHECK(sd.filename_tensor_name() == "save/Const:0");
  CHECK(sd.save_tensor_name() == "save/Identity:0");
  CHECK(sd.restore_op_name() == "save/restore_all");
  CHECK(sd.max_to_keep() == 5);
  CHECK(sd.sharded());
  CHECK(sd.keep_checkpoint_every_n_hours() == 10000.0f);
  CHECK(sd.version() == tensorflow::SaverDef::V2);
  for (const char* n : {"save/Const", "save/Identity", "save/restore_all", "save/RestoreV2", "save/SaveV2",
                        "save/MergeV2Checkpoints"})
    CHECK_MESSAGE(Node(mg.graph_def(), n) != nullptr, n);
  // restore_all -> restore_shard -> one Assign per variable, fed by RestoreV2 outputs in tensor_names order.
  const auto* names = Node(mg.graph_def(), "save/RestoreV2/tensor_names");
  REQUIRE(names);
  std::vector<std::string> keys(names->attr().at("value").tensor().string_val().begin(),
                                names->attr().at("value").tensor().string_val().end());
  CHECK(keys == std::vector<std::string>{"dense_0/bias", "dense_0/kernel", "dense_1/bias", "dense_1/kernel"});
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto* a = Node(mg.graph_def(), i == 0 ? "save/Assign" : "save/Assign_" + std::to_string(i));
    REQUIRE(a);
    CHECK(a->op() == "Assign");
    CHECK(a->input(0) == keys[i]);
    CHECK(a->input(1) == (i == 0 ? std::string("save/RestoreV2") : "save/RestoreV2:" + std::to_string(i)));
  }
  CHECK(Node(mg.graph_def(), "save/restore_shard")->input_size() == 4);

  // Collections.
  const auto& coll = mg.collection_def();
  CHECK(coll.at("legacy_init_op").node_list().value_size() == 1);
  CHECK(coll.at("legacy_init_op").node_list().value(0) == "legacy_init_op");
  CHECK(coll.at("table_initializer").node_list().value(0) == "index_to_string/table_init");
  REQUIRE(coll.at("variables").bytes_list().value_size() == 4);
  CHECK(coll.at("trainable_variables").bytes_list().value_size() == 4);
  tensorflow::VariableDef vd;
  REQUIRE(vd.ParseFromString(coll.at("variables").bytes_list().value(0)));
  CHECK(vd.variable_name() == "dense_0/kernel:0");
  CHECK(vd.initializer_name() == "dense_0/kernel/Assign");
  CHECK(vd.snapshot_name() == "dense_0/kernel/read:0");
  // The init op never touches the variables: its transitive control deps reach only the table init.
  std::set<std::string> reach;
  std::vector<std::string> todo = {"legacy_init_op"};
  while (!todo.empty()) {
    std::string n = todo.back();
    todo.pop_back();
    if (!reach.insert(n).second) continue;
    for (const auto& in : Node(mg.graph_def(), n)->input()) todo.push_back(in[0] == '^' ? in.substr(1) : in.substr(0, in.find(':')));
  }
  for (const auto& n : reach) {
    const auto* node = Node(mg.graph_def(), n);
    CHECK_MESSAGE(node->op() != "Assign", n);
    CHECK_MESSAGE(node->op() != "VariableV2", n);
  }

  // The checkpoint holds exactly the weights, under the variable node names.
  BundleTensors t;
  Status st = savedmodel::VerifyVersionDir(res.version_dir, &t);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  REQUIRE(t.size() == 4);
  CHECK(t.at("dense_0/kernel").shape == std::vector<int64_t>{784, 16});
  CHECK(t.at("dense_1/bias").shape == std::vector<int64_t>{10});
  for (int i : {0, 1, 783 * 16 + 15}) CHECK(t.at("dense_0/kernel").FloatAt(i) == m->kernels[0][i]);
  for (int i = 0; i < 10; ++i) CHECK(t.at("dense_1/bias").FloatAt(i) == m->biases[1][i]);
}

TEST_CASE("export: every node conforms to TensorFlow's op registry / stripped_op_list matches it") {
  const auto registry = LoadRegistry();
  std::map<std::string, tensorflow::OpDef> reg;
  for (auto op : registry.op()) reg[op.name()] = op;

  struct Variant {
    const char* what;
    std::vector<int64_t> sizes;
    std::string variables;
    std::vector<ExportSignature> sigs;
    bool tabular = false;  // CSV columns (one numeric, one categorical of 2 values): sizes[0] must be 4
  };
  ExportSignature predict{"predict_images", "predict"}, classify{"serving_default", "classify"},
      classify3{"top3", "classify"}, regress{"regress", "regress"};
  classify3.top_k = 3;
  std::vector<Variant> variants = {
      {"784-16-10 checkpoint", {784, 16, 10}, "checkpoint", {predict, classify}},
      {"784-256-256-10 checkpoint, top_k 3", {784, 256, 256, 10}, "checkpoint", {predict, classify, classify3}},
      {"784-16-10 frozen", {784, 16, 10}, "frozen", {predict, classify}},
      {"predict only", {20, 7, 3}, "checkpoint", {predict}},
      {"regression", {20, 7, 1}, "checkpoint", {predict, regress}},
      {"tabular regression", {4, 7, 1}, "checkpoint", {predict, regress}, true},
      {"tabular classify frozen", {4, 7, 3}, "frozen", {predict, classify}, true},
      {"every activation", {20, 7, 7, 7, 7, 7, 7, 7, 7, 7, 3}, "checkpoint", {predict, classify}},
  };
  for (const auto& v : variants) {
    CAPTURE(v.what);
    ScratchDir dir;
    auto m = MakeModel(v.sizes, dir / "m");
    m->request.options.variables = v.variables;
    m->request.options.signatures = v.sigs;
    m->request.layers[0].activation = "tanh";
    if (m->request.layers.size() > 2) m->request.layers[1].activation = "sigmoid";
    if (m->request.layers.size() > 3) {  // every activation in the registry's order, then the logits
      const std::vector<std::string> activations = NameRegistry::Names("activation");
      REQUIRE(activations.size() + 1 == m->request.layers.size());
      for (size_t i = 0; i < activations.size(); ++i) m->request.layers[i].activation = activations[i];
    }
    if (v.tabular) {
      ExportedColumn num, cat;
      num.name = "num";
      num.fill = "0.5";
      cat.name = "cat";
      cat.categorical = true;
      cat.vocabulary = {"a", "b"};
      cat.fill = "b";
      cat.missing_tokens = {"", "NA"};
      m->request.columns = {num, cat};
      m->request.head = v.sizes.back() == 1 ? ExportHead::kLinear : ExportHead::kSigmoid;
    }
    const auto mg = ExportAndRead(m->request);
    std::vector<std::string> problems;
    savedmodel::CheckGraphAgainstRegistry(mg.graph_def(), registry, &problems);
    for (const auto& p : problems) FAIL_CHECK(p);
    CHECK(problems.empty());

    std::set<std::string> used;
    for (const auto& n : mg.graph_def().node()) used.insert(n.op());
    std::set<std::string> listed;
    std::string prev;
    for (const auto& op : mg.meta_info_def().stripped_op_list().op()) {
      CHECK(op.name() > prev);  // sorted, unique
      prev = op.name();
      listed.insert(op.name());
      REQUIRE_MESSAGE(reg.count(op.name()), op.name());
      CHECK_MESSAGE(op.SerializeAsString() == reg[op.name()].SerializeAsString(), (op.name() + " differs from ops.pbtxt"));
    }
    CHECK(listed == used);
  }
  // Every OpDef compiled into the exporter agrees with the registry too.
  for (const auto& op : savedmodel::ExporterOpDefs().op()) {
    REQUIRE_MESSAGE(reg.count(op.name()), op.name());
    CHECK_MESSAGE(op.SerializeAsString() == reg[op.name()].SerializeAsString(), op.name());
  }
  // 24 for the MLP; Conv2D, MaxPool, AvgPool, Reshape, Mul, AddV2 for the image layers; Sub,
  // RealDiv, ExpandDims, OneHot, ConcatV2 for CSV columns; LeakyRelu, Elu, Softplus, and Neg and
  // Erfc for gelu, for the activations.
  CHECK(savedmodel::ExporterOpDefs().op_size() == 40);
}

TEST_CASE("export: the conformance checker catches what it should") {
  const auto registry = LoadRegistry();
  ScratchDir dir;
  auto m = MakeModel({8, 4, 3}, dir / "m");
  const auto mg = ExportAndRead(m->request);
  auto bad = [&](auto mutate) {
    tensorflow::GraphDef g = mg.graph_def();
    mutate(g);
    std::vector<std::string> problems;
    savedmodel::CheckGraphAgainstRegistry(g, registry, &problems);
    return problems.size();
  };
  auto find = [](tensorflow::GraphDef& g, const std::string& name) {
    for (auto& n : *g.mutable_node())
      if (n.name() == name) return &n;
    return static_cast<tensorflow::NodeDef*>(nullptr);
  };
  CHECK(bad([](auto&) {}) == 0);
  CHECK(bad([&](auto& g) { (*find(g, "dense_0/MatMul")->mutable_attr())["grad_a"].set_b(false); }) > 0);
  CHECK(bad([&](auto& g) { (*find(g, "dense_0/MatMul")->mutable_attr())["_class"].set_s("x"); }) > 0);
  CHECK(bad([&](auto& g) { find(g, "dense_0/MatMul")->mutable_attr()->erase("T"); }) > 0);
  CHECK(bad([&](auto& g) { (*find(g, "dense_0/MatMul")->mutable_attr())["T"].set_type(tensorflow::DT_STRING); }) > 0);
  CHECK(bad([&](auto& g) { find(g, "dense_0/MatMul")->add_input("x"); }) > 0);
  CHECK(bad([&](auto& g) { find(g, "save/Identity")->add_input("save/Const"); }) > 0);  // data after control
  CHECK(bad([&](auto& g) { find(g, "dense_0/BiasAdd")->set_op("NoSuchOp"); }) > 0);
  CHECK(bad([&](auto& g) { find(g, "dense_0/MatMul")->set_input(0, "tf_example"); }) > 0);  // string into MatMul
  CHECK(bad([&](auto& g) { find(g, "save/Assign")->set_input(0, "dense_0/bias/read"); }) > 0);  // not a ref
}

TEST_CASE("export: frozen variables are Const tensors / no checkpoint / no SaverDef") {
  ScratchDir dir;
  auto m = MakeModel({784, 16, 10}, dir / "m");
  m->request.options.variables = "frozen";
  ExportResult res;
  const auto mg = ExportAndRead(m->request, &res);
  CHECK_FALSE(mg.has_saver_def());
  CHECK(mg.collection_def().count("variables") == 0);
  CHECK(mg.collection_def().count("legacy_init_op") == 1);
  for (const auto& n : mg.graph_def().node()) {
    CHECK(n.op() != "VariableV2");
    CHECK(n.name().rfind("save/", 0) != 0);
  }
  // An empty variables/ directory, as TF's builder leaves for a graph without variables.
  CHECK(fs::is_directory(res.version_dir + "/variables"));
  CHECK(fs::is_empty(res.version_dir + "/variables"));
  const auto* k = Node(mg.graph_def(), "dense_0/kernel");
  REQUIRE(k);
  CHECK(k->op() == "Const");
  const auto& t = k->attr().at("value").tensor();
  CHECK(Dims(t.tensor_shape()) == std::vector<int64_t>{784, 16});
  REQUIRE(t.tensor_content().size() == 784 * 16 * 4);
  float f;
  std::memcpy(&f, t.tensor_content().data() + 4 * 77, 4);
  CHECK(f == m->kernels[0][77]);
  CHECK(Node(mg.graph_def(), "dense_0/MatMul")->input(1) == "dense_0/kernel");
  CHECK(savedmodel::VerifyVersionDir(res.version_dir).ok());
}

TEST_CASE("export: signature keys / top_k / class names and regress come from the config") {
  ScratchDir dir;
  auto m = MakeModel({20, 5}, dir / "m");
  ExportSignature p{"pred", "predict", "images", "scores"};
  ExportSignature c{"cls", "classify"};
  c.top_k = 2;
  c.feature = "pixels";
  m->request.options.signatures = {p, c};
  m->request.options.class_names = {"a", "b", "c", "d", "e"};
  const auto mg = ExportAndRead(m->request);
  CHECK(mg.signature_def().at("pred").inputs().count("images") == 1);
  CHECK(mg.signature_def().at("pred").outputs().count("scores") == 1);
  const auto& cs = mg.signature_def().at("cls");
  CHECK(Dims(cs.outputs().at("classes").tensor_shape()) == std::vector<int64_t>{-1, 2});
  CHECK(Dims(cs.outputs().at("scores").tensor_shape()) == std::vector<int64_t>{-1, 2});
  CHECK(Node(mg.graph_def(), "TopKV2_2/k")->attr().at("value").tensor().int_val(0) == 2);
  CHECK(Node(mg.graph_def(), "ParseExample/ParseExample/dense_keys_0")->attr().at("value").tensor().string_val(0) ==
        "pixels");
  CHECK(Node(mg.graph_def(), "index_to_string/values")->attr().at("value").tensor().string_val(4) == "e");

  ScratchDir dir2;
  auto r = MakeModel({20, 6, 1}, dir2 / "r");
  ExportSignature reg{"regress_y", "regress"};
  r->request.options.signatures = {reg};
  const auto rg = ExportAndRead(r->request);
  const auto& rs = rg.signature_def().at("regress_y");
  CHECK(rs.method_name() == "tensorflow/serving/regress");
  CHECK(rs.inputs().at("inputs").dtype() == tensorflow::DT_STRING);
  CHECK(rs.outputs().at("outputs").dtype() == tensorflow::DT_FLOAT);
  CHECK(rs.outputs().at("outputs").name() == "dense_1/BiasAdd:0");
  CHECK(Dims(rs.outputs().at("outputs").tensor_shape()) == std::vector<int64_t>{-1, 1});
  CHECK(rg.collection_def().count("table_initializer") == 0);
}

TEST_CASE("export: CheckExport enforces TF Serving's signature rules with InvalidArgument") {
  ScratchDir dir;
  auto m = MakeModel({20, 6, 4}, dir / "m");
  CHECK(CheckExport(m->request).ok());
  auto expect_bad = [&](const char* what, auto mutate) {
    auto copy = m->request;
    mutate(copy);
    Status st = CheckExport(copy);
    CAPTURE(what);
    CHECK(st.IsInvalidArgument());
    ExportResult res;
    CHECK(ExportSavedModel(copy, &res).IsInvalidArgument());
  };
  expect_bad("classify input key", [](ExportRequest& r) { r.options.signatures[1].input_key = "examples"; });
  expect_bad("regress on 4 units", [](ExportRequest& r) { r.options.signatures[1].method = "regress"; });
  expect_bad("regress output key", [](ExportRequest& r) {
    r.layers.back().out = 1;
    r.layers.back().tensors[0].dims = {6, 1};  // the dense mapping's own check must pass
    r.layers.back().tensors[1].dims = {1};
    r.num_classes = 1;
    r.options.signatures = {ExportSignature{"r", "regress", "inputs", "y"}};
  });
  expect_bad("unknown method", [](ExportRequest& r) { r.options.signatures[0].method = "generate"; });
  expect_bad("duplicate names", [](ExportRequest& r) { r.options.signatures[1].name = "predict_images"; });
  expect_bad("reserved name", [](ExportRequest& r) { r.options.signatures[1].name = "__saved_model_init_op"; });
  expect_bad("empty predict output key", [](ExportRequest& r) { r.options.signatures[0].output_key = ""; });
  expect_bad("top_k too large", [](ExportRequest& r) { r.options.signatures[1].top_k = 5; });
  expect_bad("class name count", [](ExportRequest& r) { r.options.class_names = {"a", "b"}; });
  expect_bad("no signatures", [](ExportRequest& r) { r.options.signatures.clear(); });
  expect_bad("two features", [](ExportRequest& r) {
    ExportSignature c{"c2", "classify"};
    c.feature = "other";
    r.options.signatures.push_back(c);
  });
  expect_bad("layer chain", [](ExportRequest& r) { r.layers[1].in = 7; });
  expect_bad("input features", [](ExportRequest& r) { r.input_features = 21; });
  expect_bad("bad layer name", [](ExportRequest& r) { r.layers[0].name = "a/b"; });
  expect_bad("reserved layer name", [](ExportRequest& r) { r.layers[0].name = "save"; });
  expect_bad("activation", [](ExportRequest& r) { r.layers[0].activation = "swish"; });
  expect_bad("variables mode", [](ExportRequest& r) { r.options.variables = "resource"; });
  expect_bad("version", [](ExportRequest& r) { r.options.version = "1.5"; });
  expect_bad("empty path", [](ExportRequest& r) { r.options.path = ""; });
  CHECK_FALSE(fs::exists(dir / "m"));  // nothing was written by the failed exports
}

TEST_CASE("export: each layer type's export mapping is found by its type and checks its tensors") {
  ScratchDir dir;
  auto m = MakeModel({20, 6, 4}, dir / "m");
  REQUIRE(CheckExport(m->request).ok());
  auto message = [&](auto mutate) {
    auto copy = m->request;
    mutate(copy);
    return CheckExport(copy).message();
  };
  CHECK(message([](ExportRequest& r) { r.layers[1].type = "conv3d"; }) ==
        "export: model.layers.1 ('dense_1'): layer type 'conv3d' has no export mapping "
        "(known types: avg_pool2d, batch_norm, conv2d, dense, dropout, flatten, max_pool2d)");
  // The image mappings check their shapes and tensors too.
  CHECK(message([](ExportRequest& r) { r.layers[1].type = "conv2d"; }) ==
        "export: model.layers.1 ('dense_1'): has no image shapes");
  CHECK(message([](ExportRequest& r) { r.layers[1].type = "batch_norm"; }) ==
        "export: model.layers.1 ('dense_1'): has no gamma");
  CHECK(message([](ExportRequest& r) { r.layers[0].activation = "swish"; }) ==
        "export: model.layers.0 ('dense_0'): activation must be relu, sigmoid, tanh, linear, leaky_relu, elu, gelu, "
        "softplus or softmax, got 'swish'");
  CHECK(message([](ExportRequest& r) { r.layers[0].tensors[0].dims = {6, 20}; }) ==
        "export: model.layers.0 ('dense_0'): kernel is [6, 20] and bias [6], not [20, 6] and [6]");
  CHECK(message([](ExportRequest& r) { r.layers[1].tensors.pop_back(); }) ==
        "export: model.layers.1 ('dense_1'): has no weights");
  CHECK(message([](ExportRequest& r) { r.layers[1].tensors[0].values = nullptr; }) ==
        "export: model.layers.1 ('dense_1'): has no weights");
}

// The engine's leaky_relu slope is LeakyRelu's OpDef default: the exporter
// leaves the attr out (export/activation_ops.cpp), and TensorFlow fills in the
// default, so the two must be one number.
TEST_CASE("export: leaky_relu's slope is TensorFlow's LeakyRelu default alpha") {
  const auto registry = LoadRegistry();
  const tensorflow::OpDef* leaky = nullptr;
  for (const auto& op : registry.op())
    if (op.name() == "LeakyRelu") leaky = &op;
  REQUIRE(leaky != nullptr);
  bool found = false;
  for (const auto& a : leaky->attr())
    if (a.name() == "alpha") {
      found = true;
      CHECK(a.default_value().f() == kLeakyReluAlpha);
    }
  CHECK(found);
}

TEST_CASE("export: every layer type and activation the engine registers has an export mapping") {
  // The exporter cannot read the engine's registries (it never links the
  // engine), so its own lists are checked here, where both are linked: a
  // layer or activation added to the engine alone would train and then fail
  // at export.
  const std::vector<std::string> layers = NameRegistry::Names("layer");
  const std::vector<std::string> activations = NameRegistry::Names("activation");
  REQUIRE(!layers.empty());
  REQUIRE(activations.size() >= 4);
  CHECK(NameRegistry::Names(savedmodel::LayerGraphTag::kKind) == layers);
  CHECK(NameRegistry::Names(savedmodel::ActivationOpTag::kKind) == activations);
}
