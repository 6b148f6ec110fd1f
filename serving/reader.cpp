#include "serving/reader.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/strings.h"
#include "tfformat/bundle_reader.h"
#include "serving/graph_check.h"
#include "tfformat/opdefs.h"
#include "common/files.h"
#include "tfformat/table_reader.h"

namespace pipeline {

using tensorflow::DataType;
using tensorflow::NodeDef;

namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string TagSet(const tensorflow::MetaGraphDef& mg) {
  std::vector<std::string> tags(mg.meta_info_def().tags().begin(), mg.meta_info_def().tags().end());
  return "{" + Join(tags, ", ") + "}";
}

std::string DtypeEnumName(DataType t) { return tensorflow::DataType_Name(t); }

}  // namespace

Status SavedModelReader::Open(const std::string& dir, const ReaderOptions& options,
                              std::unique_ptr<SavedModelReader>* out) {
  std::unique_ptr<SavedModelReader> r(new SavedModelReader());
  r->dir_ = dir;
  r->options_ = options;
  if (!IsDir(dir)) return Status::NotFound(dir + ": no such SavedModel directory");
  const std::string pb = dir + "/saved_model.pb";
  if (!Exists(pb)) {
    return Status::NotFound(dir + ": missing saved_model.pb" +
                            (Exists(dir + "/saved_model.pbtxt") ? " (saved_model.pbtxt is not supported)" : ""));
  }
  std::string contents;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(pb, input::kSavedModelProto, &contents));
  if (!r->saved_model_.ParseFromString(contents)) {
    return Status::Corruption(pb + ": cannot parse as a SavedModel protobuf (" + std::to_string(contents.size()) +
                              " bytes; truncated or not a saved_model.pb)");
  }
  if (r->saved_model_.meta_graphs_size() == 0) {
    return Status::Corruption(pb + ": cannot parse: the SavedModel holds no MetaGraphDef (" +
                              std::to_string(contents.size()) + " bytes)");
  }
  // Prefer the meta graph whose tag set is exactly {tag}, else any containing it.
  std::vector<std::string> sets;
  for (const auto& mg : r->saved_model_.meta_graphs()) {
    sets.push_back(TagSet(mg));
    const auto& tags = mg.meta_info_def().tags();
    if (std::find(tags.begin(), tags.end(), options.tag) == tags.end()) continue;
    if (r->meta_graph_ == nullptr || tags.size() == 1) r->meta_graph_ = &mg;
  }
  if (r->meta_graph_ == nullptr) {
    return Status::NotFound(pb + ": no MetaGraphDef tagged '" + options.tag + "' (tag sets: " + Join(sets, " ") + ")");
  }
  const auto& mg = *r->meta_graph_;
  PIPELINE_RETURN_IF_ERROR(Interpreter::Create(mg.graph_def(), &r->interp_, &mg.meta_info_def().stripped_op_list()));
  // As TensorFlow's import: attrs against the OpDefs, and Const sizes against
  // their bytes, before anything runs or is allocated.
  PIPELINE_RETURN_IF_ERROR(savedmodel::CheckGraph(mg.graph_def(), mg.meta_info_def().stripped_op_list(), pb));

  // Variables bundle.
  r->prefix_ = dir + "/variables/variables";
  const std::string index = BundleIndexPath(r->prefix_);
  int graph_variables = 0;
  for (const auto& n : mg.graph_def().node())
    if (n.op() == "VariableV2" || n.op() == "Variable" || n.op() == "VarHandleOp") ++graph_variables;
  const bool wants_restore = mg.has_saver_def() && !mg.saver_def().restore_op_name().empty();
  if (Exists(index)) {
    PIPELINE_RETURN_IF_ERROR(ReadBundle(r->prefix_, &r->checkpoint_));
    r->has_checkpoint_ = true;
  } else if (wants_restore && graph_variables > 0) {
    return Status::NotFound(index + ": missing variables index, but the graph has " + std::to_string(graph_variables) +
                            " variables to restore (restore op " + mg.saver_def().restore_op_name() + ")");
  } else if (Exists(BundleDataPath(r->prefix_))) {
    return Status::NotFound(index + ": missing variables index next to its data file");
  }
  if (r->has_checkpoint_ && wants_restore) {
    TensorName t;
    if (!ParseTensorName(mg.saver_def().restore_op_name(), &t) || !r->interp_->FindNode(t.node)) {
      return Status::Corruption(pb + ": saver_def.restore_op_name '" + mg.saver_def().restore_op_name() +
                                "' names no node of the graph");
    }
    if (!ParseTensorName(mg.saver_def().filename_tensor_name(), &t) || !r->interp_->FindNode(t.node)) {
      return Status::Corruption(pb + ": saver_def.filename_tensor_name '" + mg.saver_def().filename_tensor_name() +
                                "' names no node of the graph");
    }
  } else if (r->has_checkpoint_) {
    r->warnings_.push_back("variables/ holds a checkpoint but the MetaGraphDef has no SaverDef restore op: "
                           "variables are not restored");
  }

  // Init op, as TensorFlow's loader looks for it.
  auto coll = mg.collection_def().find("saved_model_main_op");
  if (coll == mg.collection_def().end()) coll = mg.collection_def().find("legacy_init_op");
  if (coll != mg.collection_def().end()) {
    if (coll->second.node_list().value_size() != 1) {
      return Status::Corruption(pb + ": collection " + coll->first + " must hold exactly one op name, holds " +
                                std::to_string(coll->second.node_list().value_size()));
    }
    r->init_op_ = coll->second.node_list().value(0);
  } else {
    auto sig = mg.signature_def().find("__saved_model_init_op");
    if (sig != mg.signature_def().end()) {
      auto o = sig->second.outputs().find("__saved_model_init_op");
      if (o != sig->second.outputs().end()) r->init_op_ = o->second.name();
    }
  }
  if (!r->init_op_.empty()) {
    TensorName t;
    if (!ParseTensorName(r->init_op_, &t) || !r->interp_->FindNode(t.node)) {
      return Status::Corruption(pb + ": init op '" + r->init_op_ + "' names no node of the graph");
    }
  }
  r->ValidateSignatures();
  *out = std::move(r);
  return Status::Ok();
}

bool SavedModelReader::TensorDtype(const std::string& name, DataType* dtype) const {
  TensorName t;
  if (!ParseTensorName(name, &t) || t.control) return false;
  const NodeDef* n = interp_->FindNode(t.node);
  if (n == nullptr) return false;
  const tensorflow::OpDef* def = nullptr;
  for (const auto& op : meta_graph_->meta_info_def().stripped_op_list().op())
    if (op.name() == n->op()) def = &op;
  if (def == nullptr) def = savedmodel::FindExporterOpDef(n->op());
  if (def == nullptr) return false;
  std::vector<DataType> types;
  if (!savedmodel::OutputDtypes(*n, *def, &types) || t.index >= static_cast<int>(types.size())) return false;
  *dtype = types[static_cast<size_t>(t.index)];
  return true;
}

void SavedModelReader::ValidateSignatures() {
  for (const auto& key : SignatureKeys()) {
    const auto& sig = meta_graph_->signature_def().at(key);
    const std::string where = "signature '" + key + "'";
    if (key == "__saved_model_init_op") continue;
    auto check = [&](const std::string& kind, const std::string& alias, const tensorflow::TensorInfo& info) {
      const std::string what = where + " " + kind + " '" + alias + "'";
      if (info.encoding_case() != tensorflow::TensorInfo::kName) {
        warnings_.push_back(what + ": only dense tensors (TensorInfo.name) are supported");
        return;
      }
      TensorName t;
      if (!ParseTensorName(info.name(), &t) || t.control) {
        warnings_.push_back(what + ": malformed tensor name '" + info.name() + "'");
        return;
      }
      const NodeDef* n = interp_->FindNode(t.node);
      if (n == nullptr) {
        warnings_.push_back(what + ": tensor " + info.name() + " names no node of the graph");
        return;
      }
      DataType actual;
      if (TensorDtype(info.name(), &actual)) {
        if (actual != info.dtype()) {
          warnings_.push_back(what + ": TensorInfo says " + DtypeEnumName(info.dtype()) + " but " + info.name() +
                              " (" + n->op() + ") is " + DtypeEnumName(actual));
        }
      } else {
        warnings_.push_back(what + ": cannot check tensor " + info.name() + " (op " + n->op() +
                            " has no OpDef in the model, or no such output)");
      }
      auto shapes = n->attr().find("_output_shapes");
      if (info.has_tensor_shape() && !info.tensor_shape().unknown_rank() && shapes != n->attr().end() &&
          t.index < shapes->second.list().shape_size()) {
        const auto& s = shapes->second.list().shape(t.index);
        bool ok = s.unknown_rank() || s.dim_size() == info.tensor_shape().dim_size();
        for (int i = 0; ok && !s.unknown_rank() && i < s.dim_size(); ++i) {
          const int64_t a = s.dim(i).size(), b = info.tensor_shape().dim(i).size();
          if (a >= 0 && b >= 0 && a != b) ok = false;
        }
        if (!ok) {
          warnings_.push_back(what + ": TensorInfo shape " + ShapeProtoString(info.tensor_shape()) +
                              " is incompatible with the graph's " + ShapeProtoString(s) + " for " + info.name());
        }
      }
    };
    for (const auto& [alias, info] : sig.inputs()) check("input", alias, info);
    for (const auto& [alias, info] : sig.outputs()) check("output", alias, info);

    // TF Serving's rules for the Classify and Regress APIs.
    const std::string& m = sig.method_name();
    if (m == kClassifyMethod || m == kRegressMethod) {
      const bool classify = m == kClassifyMethod;
      const std::string api = classify ? "classify" : "regress";
      auto in = sig.inputs().find(classify ? "inputs" : "inputs");
      if (sig.inputs_size() != 1 || in == sig.inputs().end()) {
        warnings_.push_back(where + ": a " + api + " signature needs exactly one input named 'inputs'");
      } else {
        DataType actual = in->second.dtype();
        TensorDtype(in->second.name(), &actual);
        if (actual != tensorflow::DT_STRING) {
          warnings_.push_back(where + ": a " + api + " signature's input must be serialized tf.Examples (DT_STRING); " +
                              in->second.name() + " is " + DtypeEnumName(actual) + ", so TF Serving's " + api +
                              " API rejects it (callable through predict only)");
        }
      }
      for (const auto& [alias, info] : sig.outputs()) {
        if (classify && alias != "classes" && alias != "scores") {
          warnings_.push_back(where + ": classify output '" + alias + "' is neither 'classes' nor 'scores'");
        } else if (classify && alias == "classes" && info.dtype() != tensorflow::DT_STRING) {
          warnings_.push_back(where + ": classify output 'classes' must be DT_STRING");
        } else if (alias == "scores" && info.dtype() != tensorflow::DT_FLOAT) {
          warnings_.push_back(where + ": classify output 'scores' must be DT_FLOAT");
        } else if (!classify && (alias != "outputs" || info.dtype() != tensorflow::DT_FLOAT)) {
          warnings_.push_back(where + ": a regress signature needs exactly one DT_FLOAT output named 'outputs'");
        }
      }
      if (sig.outputs_size() == 0) warnings_.push_back(where + ": no outputs");
    } else if (m != kPredictMethod) {
      warnings_.push_back(where + ": unknown method_name '" + m + "'");
    }
  }
}

std::vector<std::pair<std::string, TensorValue>> SavedModelReader::AssetFeeds() const {
  std::vector<std::pair<std::string, TensorValue>> feeds;
  auto add = [&](const tensorflow::AssetFileDef& a) {
    if (a.tensor_info().name().empty() || a.filename().empty()) return;
    feeds.emplace_back(a.tensor_info().name(), TensorValue::String(dir_ + "/assets/" + a.filename()));
  };
  for (const auto& a : meta_graph_->asset_file_def()) add(a);
  auto coll = meta_graph_->collection_def().find("saved_model_assets");
  if (coll != meta_graph_->collection_def().end()) {
    for (const auto& any : coll->second.any_list().value()) {
      tensorflow::AssetFileDef a;
      if (any.type_url().find("AssetFileDef") != std::string::npos && a.ParseFromString(any.value())) add(a);
    }
  }
  return feeds;
}

Status SavedModelReader::Restore() {
  if (restored_) return Status::Ok();
  const auto& mg = *meta_graph_;
  if (has_checkpoint_ && mg.has_saver_def() && !mg.saver_def().restore_op_name().empty()) {
    interp_->set_checkpoint_source([this](const std::string& prefix, const std::string& key, TensorValue* out) {
      if (prefix != prefix_) {
        return Status::NotFound("RestoreV2 asks for checkpoint '" + prefix + "', only '" + prefix_ + "' is loaded");
      }
      auto it = checkpoint_.find(key);
      if (it == checkpoint_.end()) return Status::NotFound("tensor '" + key + "' is not in checkpoint " + prefix_);
      return TensorValue::FromBundle(it->second, out);
    });
    std::vector<TensorValue> unused;
    Status st = interp_->Run({{mg.saver_def().filename_tensor_name(), TensorValue::String(prefix_)}}, {},
                             {mg.saver_def().restore_op_name()}, &unused);
    if (!st.ok()) {
      return Status(st.code() == Status::Code::kUnimplemented
                        ? Status::Unimplemented("restoring variables: " + st.message())
                        : Status::Runtime("restoring variables: " + st.message()));
    }
    for (const auto& [key, var] : interp_->variables())
      if (var.initialized) restored_vars_.insert(key);
  }
  if (!init_op_.empty()) {
    const auto feeds = AssetFeeds();
    std::vector<std::string> fed;
    for (const auto& f : feeds) fed.push_back(f.first);
    std::vector<const NodeDef*> plan;
    PIPELINE_RETURN_IF_ERROR(interp_->Plan(fed, {init_op_}, &plan, {}, /*check_supported=*/false));
    std::vector<std::string> reinit_vars;
    std::set<std::string> reinit_nodes;
    for (const NodeDef* n : plan) {
      std::string var;
      if (interp_->AssignmentTarget(*n, &var) && restored_vars_.count(var)) {
        reinit_nodes.insert(n->name());
        reinit_vars.push_back(var);
      }
    }
    if (!reinit_nodes.empty()) {
      std::sort(reinit_vars.begin(), reinit_vars.end());
      reinit_vars.erase(std::unique(reinit_vars.begin(), reinit_vars.end()), reinit_vars.end());
      warnings_.push_back("init op " + init_op_ + " re-initializes " + std::to_string(reinit_vars.size()) +
                          " variable(s) restored from the checkpoint (" + Join(reinit_vars, ", ") +
                          "): TensorFlow Serving would overwrite the trained values; " +
                          (options_.run_reinitializers ? "running it as TensorFlow does"
                                                       : "skipping those assignments to keep the checkpoint values"));
      if (!options_.run_reinitializers) skipped_init_nodes_ = reinit_nodes;
    }
    RunOptions ro;
    ro.skip_nodes = skipped_init_nodes_;
    std::vector<TensorValue> unused;
    Status st = interp_->Run(feeds, {}, {init_op_}, &unused, ro);
    if (!st.ok()) {
      return Status(st.code() == Status::Code::kUnimplemented
                        ? Status::Unimplemented("running init op " + init_op_ + ": " + st.message())
                        : Status::Runtime("running init op " + init_op_ + ": " + st.message()));
    }
  }
  restored_ = true;
  return Status::Ok();
}

Status SavedModelReader::Load(const std::string& dir, const ReaderOptions& options,
                              std::unique_ptr<SavedModelReader>* out) {
  std::unique_ptr<SavedModelReader> r;
  PIPELINE_RETURN_IF_ERROR(Open(dir, options, &r));
  PIPELINE_RETURN_IF_ERROR(r->Restore());
  *out = std::move(r);
  return Status::Ok();
}

std::vector<std::string> SavedModelReader::SignatureKeys() const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : meta_graph_->signature_def()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}

const tensorflow::SignatureDef* SavedModelReader::FindSignature(const std::string& key) const {
  auto it = meta_graph_->signature_def().find(key);
  return it == meta_graph_->signature_def().end() ? nullptr : &it->second;
}

std::map<std::string, int> SavedModelReader::OpCounts() const {
  std::map<std::string, int> counts;
  for (const auto& n : meta_graph_->graph_def().node()) ++counts[n.op()];
  return counts;
}

std::vector<std::string> SavedModelReader::Functions() const {
  std::vector<std::string> f;
  for (const auto& fn : meta_graph_->graph_def().library().function()) f.push_back(fn.signature().name());
  std::sort(f.begin(), f.end());
  return f;
}

Status SavedModelReader::RunSignature(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                                      const std::vector<std::string>& output_aliases,
                                      std::map<std::string, TensorValue>* outputs) {
  const tensorflow::SignatureDef* sig = FindSignature(key);
  if (sig == nullptr) {
    return Status::InvalidArgument("unknown signature '" + key + "' (signatures: " + Join(SignatureKeys(), ", ") + ")");
  }
  if (!restored_) return Status::Runtime("the SavedModel's variables are not restored yet (call Restore)");
  std::vector<std::pair<std::string, TensorValue>> feeds;
  for (const auto& [alias, value] : inputs) {
    auto it = sig->inputs().find(alias);
    if (it == sig->inputs().end()) {
      std::vector<std::string> known;
      for (const auto& [a, i] : sig->inputs()) known.push_back(a);
      return Status::InvalidArgument("signature '" + key + "' has no input '" + alias + "' (inputs: " +
                                     Join(known, ", ") + ")");
    }
    if (it->second.encoding_case() != tensorflow::TensorInfo::kName) {
      return Status::Unimplemented("signature '" + key + "' input '" + alias + "' is not a dense tensor");
    }
    feeds.emplace_back(it->second.name(), value);
  }
  std::vector<std::string> aliases = output_aliases, fetches;
  if (aliases.empty())
    for (const auto& [a, i] : sig->outputs()) aliases.push_back(a);
  for (const auto& a : aliases) {
    auto it = sig->outputs().find(a);
    if (it == sig->outputs().end()) {
      return Status::InvalidArgument("signature '" + key + "' has no output '" + a + "'");
    }
    if (it->second.encoding_case() != tensorflow::TensorInfo::kName) {
      return Status::Unimplemented("signature '" + key + "' output '" + a + "' is not a dense tensor");
    }
    fetches.push_back(it->second.name());
  }
  std::vector<TensorValue> values;
  Status st = interp_->Run(feeds, fetches, {}, &values);
  if (!st.ok()) {
    const std::string msg = "signature '" + key + "': " + st.message();
    return st.code() == Status::Code::kUnimplemented ? Status::Unimplemented(msg) : Status::Runtime(msg);
  }
  outputs->clear();
  for (size_t i = 0; i < aliases.size(); ++i) (*outputs)[aliases[i]] = std::move(values[i]);
  return Status::Ok();
}

Status SavedModelReader::ReadVariable(const std::string& key, TensorValue* value) const {
  auto it = interp_->variables().find(key);
  if (it == interp_->variables().end()) return Status::NotFound("no variable '" + key + "'");
  if (!it->second.initialized) return Status::Runtime("variable '" + key + "' is uninitialized");
  *value = it->second.value;
  return Status::Ok();
}

}  // namespace pipeline
