#include "serving/servable.h"

#include <filesystem>

#include "common/version_number.h"

namespace pipeline::serving {

Status Servable::Open(const std::string& dir, const ReaderOptions& options, const std::string& name,
                      std::unique_ptr<Servable>* out) {
  std::unique_ptr<Servable> s(new Servable());
  PIPELINE_RETURN_IF_ERROR(SavedModelReader::Open(dir, options, &s->reader_));
  s->name_ = name;
  std::filesystem::path p(dir);
  if (p.filename().empty()) p = p.parent_path();  // "dir/00000123/"
  int64_t version = -1;
  if (ParseVersionNumber(p.filename().string(), &version)) s->version_ = version;
  *out = std::move(s);
  return Status::Ok();
}

Status Servable::Restore() {
  PIPELINE_RETURN_IF_ERROR(reader_->Restore());
  for (const std::string& key : reader_->SignatureKeys()) {
    std::string why_not;
    std::unique_ptr<CompiledSignature> compiled = CompiledSignature::Compile(*reader_, key, &why_not);
    if (compiled) compiled_[key] = std::move(compiled);
    else not_compiled_[key] = why_not;
  }
  return Status::Ok();
}

const CompiledSignature* Servable::Compiled(const std::string& key) const {
  auto c = compiled_.find(key);
  return c == compiled_.end() ? nullptr : c->second.get();
}

std::string Servable::ExecutionPath(const std::string& key) const {
  auto c = compiled_.find(key);
  if (c != compiled_.end()) return "compiled: " + c->second->Describe();
  auto n = not_compiled_.find(key);
  return "interpreter: " + (n != not_compiled_.end() ? n->second : std::string("not restored"));
}

Status Servable::Load(const std::string& dir, const ReaderOptions& options, const std::string& name,
                      std::unique_ptr<Servable>* out) {
  std::unique_ptr<Servable> s;
  PIPELINE_RETURN_IF_ERROR(Open(dir, options, name, &s));
  PIPELINE_RETURN_IF_ERROR(s->Restore());
  *out = std::move(s);
  return Status::Ok();
}

std::vector<std::string> Servable::Warnings(const std::string& key) const {
  std::vector<std::string> out;
  for (const auto& w : reader_->warnings()) {
    if (w.rfind("signature '", 0) != 0 || w.rfind("signature '" + key + "'", 0) == 0) out.push_back(w);
  }
  return out;
}

bool Servable::InputDtypes(const std::string& key, std::map<std::string, tensorflow::DataType>* dtypes) const {
  const tensorflow::SignatureDef* sig = reader_->FindSignature(key);
  if (sig == nullptr) return false;
  dtypes->clear();
  for (const auto& [alias, info] : sig->inputs()) {
    tensorflow::DataType dtype = info.dtype();
    reader_->TensorDtype(info.name(), &dtype);  // the graph's word wins
    (*dtypes)[alias] = dtype;
  }
  return true;
}

Status Servable::FirstInput(const std::string& key, TensorSpec* spec) const {
  const tensorflow::SignatureDef* sig = reader_->FindSignature(key);
  if (sig == nullptr) return Status::InvalidArgument("unknown signature '" + key + "'");
  if (sig->inputs_size() == 0) return Status::Runtime("signature '" + key + "' has no inputs");
  // The smallest alias: a protobuf map's iteration order is unspecified (and
  // differs between runs), so "begin()" would pick a different input each time.
  auto first_it = sig->inputs().begin();
  for (auto it = sig->inputs().begin(); it != sig->inputs().end(); ++it)
    if (it->first < first_it->first) first_it = it;
  const auto& first = *first_it;
  spec->alias = first.first;
  spec->tensor = first.second.name();
  spec->dtype = first.second.dtype();
  reader_->TensorDtype(first.second.name(), &spec->dtype);  // the graph's word wins
  return Status::Ok();
}

const std::vector<std::string>& Servable::ClassNames() {
  if (!class_names_done_) {
    class_names_ = TableClassNames(reader_->meta_graph().graph_def());
    class_names_done_ = true;
  }
  return class_names_;
}

Status Servable::Run(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                     const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs) {
  if (batcher_) return batcher_->Run(*this, key, inputs, output_aliases, outputs);
  return RunUnbatched(key, inputs, output_aliases, outputs);
}

Status Servable::RunUnbatched(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                              const std::vector<std::string>& output_aliases,
                              std::map<std::string, TensorValue>* outputs) {
  auto compiled = compiled_.find(key);
  if (compiled != compiled_.end() && compiled->second->TryRun(inputs, output_aliases, outputs)) return Status::Ok();
  return RunInterpreted(key, inputs, output_aliases, outputs);
}

Status Servable::RunInterpreted(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                                const std::vector<std::string>& output_aliases,
                                std::map<std::string, TensorValue>* outputs) {
  std::lock_guard<std::mutex> lock(run_mu_);
  return reader_->RunSignature(key, inputs, output_aliases, outputs);
}

std::vector<std::string> TableClassNames(const tensorflow::GraphDef& graph) {
  std::map<std::string, const tensorflow::NodeDef*> nodes;
  for (const auto& node : graph.node()) nodes[node.name()] = &node;
  auto constant = [&](const std::string& input) -> const tensorflow::TensorProto* {
    auto it = nodes.find(input.substr(0, input.find(':')));
    if (it == nodes.end() || it->second->op() != "Const" || !it->second->attr().count("value")) return nullptr;
    return &it->second->attr().at("value").tensor();
  };
  for (const auto& node : graph.node()) {
    if ((node.op() != "InitializeTableV2" && node.op() != "InitializeTable") || node.input_size() < 3) continue;
    const tensorflow::TensorProto* keys = constant(node.input(1));
    const tensorflow::TensorProto* values = constant(node.input(2));
    if (!keys || !values || keys->dtype() != tensorflow::DT_INT64 || values->dtype() != tensorflow::DT_STRING) continue;
    if (keys->int64_val_size() != values->string_val_size()) continue;
    std::vector<std::string> names(values->string_val_size());
    bool dense = true;
    for (int i = 0; i < keys->int64_val_size(); ++i) {
      const int64_t k = keys->int64_val(i);
      if (k < 0 || k >= static_cast<int64_t>(names.size())) dense = false;
      else names[k] = values->string_val(i);
    }
    if (dense) return names;
  }
  return {};
}

}  // namespace pipeline::serving
