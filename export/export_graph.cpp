#include "export/export_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "proto/variable.pb.h"
#include "common/strings.h"
#include "export/graph_builder.h"
#include "export/layer_graph.h"
#include "export/signature_rules.h"
#include "export/tabular_graph.h"
#include "tfformat/opdefs.h"

namespace pipeline::savedmodel {
namespace {

using tensorflow::DataType;
using tensorflow::NodeDef;

bool IsExampleMethod(const std::string& m) { return m == "classify" || m == "regress"; }

// Layer names become node-name scopes: TensorFlow node names match
// [A-Za-z0-9.][A-Za-z0-9_.\-/>]* (graph/node_builder / graph_constructor); we
// also exclude '/' and '>' so a layer is exactly one scope.
bool ValidScopeName(const std::string& s) {
  if (s.empty()) return false;
  auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.'; };
  auto ok_rest = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; };
  if (!ok_first(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), ok_rest);
}

bool Reserved(const std::string& s) {
  static const std::set<std::string> kExact = {
      kExampleInputNode, kFeaturesNode, "ParseExample", kProbabilitiesNode, "init_all_tables", kLegacyInitOpNode,
      "save",            kTableNode,    "index_to_string_Lookup", "TopKV2", "ToInt64"};
  if (kExact.count(s)) return true;
  for (const char* p : {"TopKV2_", "ToInt64_", "index_to_string_Lookup_", "column_"})
    if (s.rfind(p, 0) == 0) return true;
  return false;
}

std::string Bad(const std::string& where, const std::string& what) { return "export: " + where + ": " + what; }

int64_t EffectiveTopK(const ExportSignature& s, int64_t n) { return s.top_k == 0 ? n : s.top_k; }

std::string Suffix(int64_t k, int64_t n) { return k == n ? "" : "_" + std::to_string(k); }

tensorflow::TensorInfo Info(const std::string& tensor, DataType dtype, const std::vector<int64_t>& shape) {
  tensorflow::TensorInfo t;
  t.set_name(tensor);
  t.set_dtype(dtype);
  *t.mutable_tensor_shape() = MakeShape(shape);
  return t;
}

std::string VarDefBytes(const std::string& var, const std::string& init_value) {
  tensorflow::VariableDef d;
  d.set_variable_name(var + ":0");
  d.set_initial_value_name(init_value + ":0");
  d.set_initializer_name(var + "/Assign");
  d.set_snapshot_name(var + "/read:0");
  d.set_trainable(true);
  return d.SerializeAsString();
}

// Deterministic stand-in for the uuid TF's Saver puts in its temp shard name.
std::string TempShardName(const ExportRequest& r) {
  uint64_t h1 = 1469598103934665603ull, h2 = 1099511628211ull * 7;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) {
      h1 = (h1 ^ c) * 1099511628211ull;
      h2 = (h2 ^ c) * 14029467366897019727ull;
    }
  };
  for (const auto& l : r.layers) mix(l.name + "/" + std::to_string(l.in) + "x" + std::to_string(l.out));
  return fmt::format("_temp_{:016x}{:016x}/part", h1, h2);
}

}  // namespace

std::vector<std::string> ClassNames(const ExportRequest& request) {
  if (!request.options.class_names.empty()) return request.options.class_names;
  std::vector<std::string> names;
  const int64_t n = request.layers.empty() ? request.num_classes : request.layers.back().out;
  for (int64_t i = 0; i < n; ++i) names.push_back(std::to_string(i));
  return names;
}

Status CheckModelAndSignatures(const ExportRequest& r) {
  const ExportOptions& e = r.options;
  if (e.variables != "checkpoint" && e.variables != "frozen")
    return Status::InvalidArgument(Bad("export.variables", "must be 'checkpoint' or 'frozen', got '" + e.variables + "'"));
  if (r.layers.empty()) return Status::InvalidArgument(Bad("model", "has no layers to export"));
  if (r.input_features <= 0)
    return Status::InvalidArgument(Bad("model.input", fmt::format("must be positive, got {}", r.input_features)));

  std::set<std::string> layer_names;
  int64_t prev = r.input_features;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const ExportedLayer& l = r.layers[i];
    const std::string where = fmt::format("model.layers.{} ('{}')", i, l.name);
    if (!ValidScopeName(l.name))
      return Status::InvalidArgument(Bad(where, "layer name must match [A-Za-z0-9.][A-Za-z0-9_.-]* to name graph nodes"));
    if (Reserved(l.name))
      return Status::InvalidArgument(Bad(where, "layer name is reserved by the exported graph"));
    if (!layer_names.insert(l.name).second) return Status::InvalidArgument(Bad(where, "duplicate layer name"));
    const LayerGraph* mapping = LayerGraphRegistry::Find(l.type);
    if (mapping == nullptr)
      return Status::InvalidArgument(Bad(where, fmt::format("layer type '{}' has no export mapping (known types: {})", l.type,
                                                            Join(LayerGraphRegistry::Names(), ", "))));
    if (ActivationOpRegistry::Find(l.activation) == nullptr) {
      std::vector<std::string> names = NameRegistry::Names(ActivationOpTag::kKind);
      const std::string last = names.back();
      names.pop_back();
      return Status::InvalidArgument(
          Bad(where, fmt::format("activation must be {} or {}, got '{}'", Join(names, ", "), last, l.activation)));
    }
    if (l.in <= 0 || l.out <= 0)
      return Status::InvalidArgument(Bad(where, fmt::format("has shape [{}, {}]", l.in, l.out)));
    if (l.in != prev)
      return Status::InvalidArgument(Bad(where, fmt::format("takes {} inputs but receives {}", l.in, prev)));
    if (const std::string why = mapping->check(l); !why.empty()) return Status::InvalidArgument(Bad(where, why));
    prev = l.out;
  }
  if (!r.columns.empty())
    if (const std::string why = CheckColumns(r.columns, r.input_features); !why.empty())
      return Status::InvalidArgument(Bad("dataset.csv", why));
  const int64_t n = prev;  // outputs of the last layer
  if (r.num_classes != 0 && r.num_classes != n)
    return Status::InvalidArgument(
        Bad("model", fmt::format("num_classes is {} but the last layer has {} units", r.num_classes, n)));

  if (e.signatures.empty()) return Status::InvalidArgument(Bad("export.signatures", "is empty"));
  std::map<std::string, size_t> sig_names;
  std::string feature;
  bool any_classify = false;
  for (size_t i = 0; i < e.signatures.size(); ++i) {
    const ExportSignature& s = e.signatures[i];
    const std::string where = fmt::format("export.signatures.{} ('{}')", i, s.name);
    if (s.name.empty()) return Status::InvalidArgument(Bad(where, "name is empty"));
    if (const std::string why = SignatureNameError(s.name); !why.empty())
      return Status::InvalidArgument(Bad(where, why));
    if (auto [it, inserted] = sig_names.emplace(s.name, i); !inserted)
      return Status::InvalidArgument(Bad(where, DuplicateSignatureNameError(s.name, it->second)));
    if (s.input_key.empty()) return Status::InvalidArgument(Bad(where, "input_key is empty"));
    if (s.method != "predict" && !IsExampleMethod(s.method))
      return Status::InvalidArgument(Bad(where, "method must be predict, classify or regress, got '" + s.method + "'"));
    // TF Serving's rules (export/signature_rules.h), which config validation
    // reports first; what follows are the graph's own preconditions.
    const auto errors = SignatureMethodErrors(s.method, s.input_key, s.output_key, s.top_k, n, r.layers.back().name, n);
    if (!errors.empty()) return Status::InvalidArgument(Bad(where + "." + errors[0].field, errors[0].message));
    if (s.method == "predict") {
      // predict_util.cc: any non-empty set of inputs and outputs.
      if (s.output_key.empty()) return Status::InvalidArgument(Bad(where, "output_key is empty"));
      continue;
    }
    if (r.columns.empty() && s.feature.empty()) return Status::InvalidArgument(Bad(where, "feature is empty"));
    if (r.columns.empty() && !feature.empty() && s.feature != feature)
      return Status::InvalidArgument(Bad(where, "all classify/regress signatures must parse the same tf.Example feature ('" +
                                                    feature + "' vs '" + s.feature + "')"));
    feature = s.feature;
    if (s.method == "classify") {
      // classifier.cc: outputs "classes" (DT_STRING [batch, k]) and "scores"
      // (DT_FLOAT [batch, k]).
      any_classify = true;
      if (n < 2)
        return Status::InvalidArgument(Bad(where, fmt::format("classify needs at least 2 classes, the model has {}", n)));
      if (s.top_k < 0)
        return Status::InvalidArgument(Bad(where, fmt::format("top_k must be in [0, {}] (0: all classes), got {}", n, s.top_k)));
    }
  }
  if (any_classify && !e.class_names.empty() && static_cast<int64_t>(e.class_names.size()) != n)
    return Status::InvalidArgument(Bad("export.class_names",
                                       fmt::format("has {} names but the model has {} classes", e.class_names.size(), n)));
  return Status::Ok();
}

namespace {

const auto F = tensorflow::DT_FLOAT;

// The tf.Example feature the classify/regress signatures parse; "" when there
// are none (CheckModelAndSignatures: they all parse the same one).
std::string ExampleFeature(const ExportOptions& e) {
  std::string feature;
  for (const auto& s : e.signatures)
    if (IsExampleMethod(s.method)) feature = s.feature;
  return feature;
}

void AddExamplePlaceholder(GraphBuilder& g) {
  NodeDef* ph = g.Add(kExampleInputNode, "Placeholder");
  GraphBuilder::SetType(ph, "dtype", tensorflow::DT_STRING);
  GraphBuilder::SetShape(ph, "shape", MakeShape({-1}));
}

// Input: serialized tf.Example -> ParseExample -> x, or a placeholder x.
void AddInput(GraphBuilder& g, const std::string& feature, int64_t in) {
  if (!feature.empty()) {
    AddExamplePlaceholder(g);
    g.ConstFloats("ParseExample/Const", {0}, nullptr);  // no default: the feature is required
    g.ConstStrings("ParseExample/ParseExample/names", {0}, {});
    g.ConstStrings("ParseExample/ParseExample/dense_keys_0", {}, {feature});
    NodeDef* pe = g.Add("ParseExample/ParseExample", "ParseExample",
                        {kExampleInputNode, "ParseExample/ParseExample/names", "ParseExample/ParseExample/dense_keys_0",
                         "ParseExample/Const"});
    GraphBuilder::SetInt(pe, "Nsparse", 0);
    GraphBuilder::SetInt(pe, "Ndense", 1);
    GraphBuilder::SetTypeList(pe, "sparse_types", {});
    GraphBuilder::SetTypeList(pe, "Tdense", {F});
    GraphBuilder::SetShapeList(pe, "dense_shapes", {MakeShape({in})});
    NodeDef* x = g.Add(kFeaturesNode, "Identity", {"ParseExample/ParseExample"});
    GraphBuilder::SetType(x, "T", F);
  } else {
    NodeDef* x = g.Add(kFeaturesNode, "Placeholder");
    GraphBuilder::SetType(x, "dtype", F);
    GraphBuilder::SetShape(x, "shape", MakeShape({-1, in}));
  }
}

// The trained tensors as graph nodes: Consts when frozen, else VariableV2s
// with their checkpoint values and VariableDefs.
class Weights : public WeightSink {
 public:
  Weights(GraphBuilder& g, bool frozen, BundleTensors* checkpoint) : g_(g), frozen_(frozen), checkpoint_(checkpoint) {}

  // Adds the weight `name` and returns the node that reads it.
  std::string Add(const std::string& name, const std::vector<int64_t>& shape, const float* values) override {
    if (frozen_) {
      g_.ConstFloats(name, shape, values);
      return name;
    }
    const std::string init = name + "/Initializer/zeros";
    g_.ConstFloatFill(init, shape, 0.0f);
    NodeDef* v = g_.Add(name, "VariableV2");
    GraphBuilder::SetShape(v, "shape", MakeShape(shape));
    GraphBuilder::SetType(v, "dtype", F);
    NodeDef* a = g_.Add(name + "/Assign", "Assign", {name, init});
    GraphBuilder::SetType(a, "T", F);
    NodeDef* rd = g_.Add(name + "/read", "Identity", {name});
    GraphBuilder::SetType(rd, "T", F);
    names_.push_back(name);
    collection_.mutable_bytes_list()->add_value(VarDefBytes(name, init));
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    (*checkpoint_)[name] = BundleTensor::Floats(shape, std::vector<float>(values, values + count));
    return name + "/read";
  }
  const std::vector<std::string>& names() const { return names_; }  // in creation order
  const tensorflow::CollectionDef& collection() const { return collection_; }

 private:
  GraphBuilder& g_;
  const bool frozen_;
  BundleTensors* checkpoint_;
  std::vector<std::string> names_;
  tensorflow::CollectionDef collection_;
};

// Each layer's nodes by its type's mapping (export/layer_graph.h), from x;
// returns the logits node.
std::string AddLayers(GraphBuilder& g, Weights& w, const std::vector<ExportedLayer>& layers) {
  std::string prev = kFeaturesNode;
  for (const auto& l : layers) prev = LayerGraphRegistry::Find(l.type)->add(g, w, l, prev);
  return prev;
}

// Whether the served scores are probabilities (kProbabilitiesNode) rather
// than the logits themselves: a regression's number, or one softmax unit.
bool HasProbabilities(ExportHead head, int64_t n) {
  return head == ExportHead::kSigmoid || (head == ExportHead::kSoftmax && n >= 2);
}

// Softmax or sigmoid probabilities, and for classify the class-name table and
// one TopKV2 head per k. Returns the table initializers.
std::vector<std::string> AddHeads(GraphBuilder& g, const ExportRequest& r, int64_t n, const std::string& logits) {
  bool need_probabilities = false, any_classify = false;
  std::set<int64_t> ks;
  for (const auto& s : r.options.signatures) {
    if (s.method == "classify") {
      any_classify = true;
      need_probabilities = true;
      ks.insert(EffectiveTopK(s, n));
    }
    if (s.method == "predict" && HasProbabilities(r.head, n)) need_probabilities = true;
  }
  if (need_probabilities) {
    NodeDef* sm = g.Add(kProbabilitiesNode, r.head == ExportHead::kSigmoid ? "Sigmoid" : "Softmax", {logits});
    GraphBuilder::SetType(sm, "T", F);
  }
  std::vector<std::string> table_inits;
  if (!any_classify) return table_inits;
  std::vector<int64_t> keys;
  for (int64_t i = 0; i < n; ++i) keys.push_back(i);
  g.ConstInt64s(std::string(kTableNode) + "/keys", keys);
  g.ConstStrings(std::string(kTableNode) + "/values", {n}, ClassNames(r));
  NodeDef* t = g.Add(kTableNode, "HashTableV2");
  GraphBuilder::SetType(t, "key_dtype", tensorflow::DT_INT64);
  GraphBuilder::SetType(t, "value_dtype", tensorflow::DT_STRING);
  g.ConstStrings(std::string(kTableNode) + "/Const", {}, {"UNK"});
  NodeDef* init = g.Add(kTableInitNode, "InitializeTableV2",
                        {kTableNode, std::string(kTableNode) + "/keys", std::string(kTableNode) + "/values"});
  GraphBuilder::SetType(init, "Tkey", tensorflow::DT_INT64);
  GraphBuilder::SetType(init, "Tval", tensorflow::DT_STRING);
  table_inits.push_back(kTableInitNode);
  for (int64_t k : ks) {
    const std::string sfx = Suffix(k, n);
    g.ConstInt32("TopKV2" + sfx + "/k", static_cast<int32_t>(k));
    NodeDef* tk = g.Add("TopKV2" + sfx, "TopKV2", {kProbabilitiesNode, "TopKV2" + sfx + "/k"});
    GraphBuilder::SetType(tk, "T", F);
    NodeDef* c = g.Add("ToInt64" + sfx, "Cast", {"TopKV2" + sfx + ":1"});
    GraphBuilder::SetType(c, "SrcT", tensorflow::DT_INT32);
    GraphBuilder::SetType(c, "DstT", tensorflow::DT_INT64);
    NodeDef* lk = g.Add("index_to_string_Lookup" + sfx, "LookupTableFindV2",
                        {kTableNode, "ToInt64" + sfx, std::string(kTableNode) + "/Const"});
    GraphBuilder::SetType(lk, "Tin", tensorflow::DT_INT64);
    GraphBuilder::SetType(lk, "Tout", tensorflow::DT_STRING);
  }
  return table_inits;
}

// Init op: initializes the lookup table only, never the variables (the
// loader runs it after restoring the checkpoint).
void AddInitOps(GraphBuilder& g, const std::vector<std::string>& table_inits) {
  NodeDef* init_tables = g.Add("init_all_tables", "NoOp");
  GraphBuilder::Control(init_tables, table_inits);
  NodeDef* legacy = g.Add(kLegacyInitOpNode, "NoOp");
  GraphBuilder::Control(legacy, {"init_all_tables"});
}

// TF's sharded V2 Saver layout, tensors sorted by name, and its SaverDef.
void AddSaver(GraphBuilder& g, const std::vector<std::string>& var_names, const std::string& temp_shard,
              tensorflow::SaverDef* sd) {
  std::vector<std::string> sorted = var_names;
  std::sort(sorted.begin(), sorted.end());
  const int64_t v = static_cast<int64_t>(sorted.size());
  const std::vector<std::string> empty_slices(sorted.size(), "");
  const std::vector<DataType> dtypes(sorted.size(), F);
  g.ConstStrings("save/Const", {}, {"model"});
  g.ConstStrings("save/StringJoin/inputs_1", {}, {temp_shard});
  NodeDef* sj = g.Add("save/StringJoin", "StringJoin", {"save/Const", "save/StringJoin/inputs_1"});
  GraphBuilder::SetInt(sj, "N", 2);
  g.ConstInt32("save/num_shards", 1);
  g.ConstInt32("save/ShardedFilename/shard", 0);
  g.Add("save/ShardedFilename", "ShardedFilename", {"save/StringJoin", "save/ShardedFilename/shard", "save/num_shards"});
  g.ConstStrings("save/SaveV2/tensor_names", {v}, sorted);
  g.ConstStrings("save/SaveV2/shape_and_slices", {v}, empty_slices);
  std::vector<std::string> save_inputs = {"save/ShardedFilename", "save/SaveV2/tensor_names",
                                          "save/SaveV2/shape_and_slices"};
  save_inputs.insert(save_inputs.end(), sorted.begin(), sorted.end());
  NodeDef* sv = g.Add("save/SaveV2", "SaveV2", save_inputs);
  GraphBuilder::SetTypeList(sv, "dtypes", dtypes);
  NodeDef* cd = g.Add("save/control_dependency", "Identity", {"save/ShardedFilename"});
  GraphBuilder::Control(cd, {"save/SaveV2"});
  GraphBuilder::SetType(cd, "T", tensorflow::DT_STRING);
  NodeDef* pk = g.Add("save/MergeV2Checkpoints/checkpoint_prefixes", "Pack", {"save/ShardedFilename"});
  GraphBuilder::Control(pk, {"save/control_dependency"});
  GraphBuilder::SetInt(pk, "N", 1);
  GraphBuilder::SetType(pk, "T", tensorflow::DT_STRING);
  g.Add("save/MergeV2Checkpoints", "MergeV2Checkpoints", {"save/MergeV2Checkpoints/checkpoint_prefixes", "save/Const"});
  NodeDef* id = g.Add("save/Identity", "Identity", {"save/Const"});
  GraphBuilder::Control(id, {"save/control_dependency", "save/MergeV2Checkpoints"});
  GraphBuilder::SetType(id, "T", tensorflow::DT_STRING);

  g.ConstStrings("save/RestoreV2/tensor_names", {v}, sorted);
  g.ConstStrings("save/RestoreV2/shape_and_slices", {v}, empty_slices);
  NodeDef* rs = g.Add("save/RestoreV2", "RestoreV2",
                      {"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"});
  GraphBuilder::SetTypeList(rs, "dtypes", dtypes);
  std::vector<std::string> assigns;
  for (int64_t i = 0; i < v; ++i) {
    const std::string name = i == 0 ? "save/Assign" : "save/Assign_" + std::to_string(i);
    const std::string src = i == 0 ? "save/RestoreV2" : "save/RestoreV2:" + std::to_string(i);
    NodeDef* as = g.Add(name, "Assign", {sorted[i], src});
    GraphBuilder::SetType(as, "T", F);
    assigns.push_back(name);
  }
  NodeDef* shard = g.Add("save/restore_shard", "NoOp");
  GraphBuilder::Control(shard, assigns);
  NodeDef* all = g.Add("save/restore_all", "NoOp");
  GraphBuilder::Control(all, {"save/restore_shard"});

  sd->set_filename_tensor_name("save/Const:0");
  sd->set_save_tensor_name("save/Identity:0");
  sd->set_restore_op_name("save/restore_all");
  sd->set_max_to_keep(5);
  sd->set_sharded(true);
  sd->set_keep_checkpoint_every_n_hours(10000.0f);
  sd->set_version(tensorflow::SaverDef::V2);
}

// Moves the finished graph into `mg` with its op list and collections.
Status FinishMetaGraph(GraphBuilder& g, const std::vector<std::string>& table_inits, const Weights* variables,
                       tensorflow::MetaGraphDef& mg) {
  g.graph().mutable_versions()->set_producer(kGraphDefProducer);
  auto* info = mg.mutable_meta_info_def();
  *info->mutable_stripped_op_list() = StrippedOpList(g.UsedOps());
  info->add_tags("serve");
  info->set_stripped_default_attrs(true);
  for (const auto& op : g.UsedOps())
    if (FindExporterOpDef(op) == nullptr) return Status::Runtime("export: internal: no OpDef for op " + op);
  *mg.mutable_graph_def() = std::move(g.graph());

  auto& coll = *mg.mutable_collection_def();
  coll["legacy_init_op"].mutable_node_list()->add_value(kLegacyInitOpNode);
  for (const auto& t : table_inits) coll["table_initializer"].mutable_node_list()->add_value(t);
  if (variables != nullptr) {
    coll["variables"] = variables->collection();
    coll["trainable_variables"] = variables->collection();
  }
  return Status::Ok();
}

// One SignatureDef per configured signature, over the nodes built above.
// A CSV model's predict signature takes each column's raw values under the
// column's name, as TF Serving's REST clients send named inputs.
void AddSignatures(const ExportRequest& r, int64_t n, const std::string& logits, tensorflow::MetaGraphDef& mg) {
  const ExportOptions& e = r.options;
  for (const auto& s : e.signatures) {
    tensorflow::SignatureDef sig;
    if (s.method == "predict") {
      sig.set_method_name(kPredictMethodName);
      if (r.columns.empty()) {
        (*sig.mutable_inputs())[s.input_key] = Info(std::string(kFeaturesNode) + ":0", F, {-1, r.input_features});
      } else {
        for (size_t i = 0; i < r.columns.size(); ++i)
          (*sig.mutable_inputs())[r.columns[i].name] =
              Info(ColumnNode(i) + ":0", r.columns[i].categorical ? tensorflow::DT_STRING : F, {-1});
      }
      const std::string out_tensor = HasProbabilities(r.head, n) ? std::string(kProbabilitiesNode) + ":0" : logits + ":0";
      (*sig.mutable_outputs())[s.output_key] = Info(out_tensor, F, {-1, n});
    } else if (s.method == "classify") {
      const int64_t k = EffectiveTopK(s, n);
      const std::string sfx = Suffix(k, n);
      sig.set_method_name(kClassifyMethodName);
      (*sig.mutable_inputs())["inputs"] = Info(std::string(kExampleInputNode) + ":0", tensorflow::DT_STRING, {-1});
      (*sig.mutable_outputs())["classes"] = Info("index_to_string_Lookup" + sfx + ":0", tensorflow::DT_STRING, {-1, k});
      (*sig.mutable_outputs())["scores"] = Info("TopKV2" + sfx + ":0", F, {-1, k});
    } else {
      sig.set_method_name(kRegressMethodName);
      (*sig.mutable_inputs())["inputs"] = Info(std::string(kExampleInputNode) + ":0", tensorflow::DT_STRING, {-1});
      (*sig.mutable_outputs())["outputs"] = Info(logits + ":0", F, {-1, 1});
    }
    (*mg.mutable_signature_def())[s.name] = std::move(sig);
  }
}

}  // namespace

Status BuildExportGraph(const ExportRequest& r, ExportGraph* out) {
  PIPELINE_RETURN_IF_ERROR(CheckModelAndSignatures(r));  // also each layer's tensors
  const ExportOptions& e = r.options;
  const bool frozen = e.variables == "frozen";
  const int64_t in = r.input_features;
  const int64_t n = r.layers.back().out;

  GraphBuilder g;
  out->variables.clear();
  Weights weights(g, frozen, &out->variables);
  std::vector<std::string> table_inits;
  if (r.columns.empty()) {
    AddInput(g, ExampleFeature(e), in);
  } else {
    AddExamplePlaceholder(g);
    table_inits = AddTabularInput(g, r.columns, kExampleInputNode, kFeaturesNode);
  }
  const std::string logits = AddLayers(g, weights, r.layers);
  for (const std::string& init : AddHeads(g, r, n, logits)) table_inits.push_back(init);
  AddInitOps(g, table_inits);

  tensorflow::MetaGraphDef& mg = out->meta_graph;
  mg.Clear();
  if (!frozen) AddSaver(g, weights.names(), TempShardName(r), mg.mutable_saver_def());
  PIPELINE_RETURN_IF_ERROR(FinishMetaGraph(g, table_inits, frozen ? nullptr : &weights, mg));
  AddSignatures(r, n, logits, mg);
  return Status::Ok();
}

}  // namespace pipeline::savedmodel
