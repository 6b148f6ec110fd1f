#include "config/loader.h"

#include "common/files.h"
#include "config/validator.h"
#include "config/yaml_text.h"

namespace pipeline {

Status LoadYamlFile(const std::string& path, YAML::Node* root, const InputKind& kind) {
  // One read of one regular file: the checks and the parse see the same bytes
  // (common/files.h); every problem with the file is a config error (exit 2).
  std::string text, reason;
  if (!ReadInputFile(path, kind, &text, &reason).ok()) return Status::InvalidArgument(path + ": error: " + reason);
  return ParseYamlText(text, path, kind.noun, root);
}

Status LoadConfig(const std::string& path, const std::vector<std::string>& overrides, PipelineConfig* out) {
  YAML::Node root;
  PIPELINE_RETURN_IF_ERROR(LoadYamlFile(path, &root));
  std::vector<config_internal::Diag> diags;
  for (const auto& text : overrides) config_internal::ApplyOverrideDiags(root, text, &diags);
  return config_internal::ValidateWithDiags(root, path, std::move(diags), out);
}

}  // namespace pipeline

namespace pipeline {

Status ConfigErrorAt(const PipelineConfig& config, const std::string& key, const std::string& message) {
  std::string where = config.source_path, p = key;
  while (true) {
    auto it = config.origins.find(p);
    if (it != config.origins.end()) {
      where = it->second;
      break;
    }
    if (p.empty()) break;
    const size_t dot = p.rfind('.');
    p = dot == std::string::npos ? "" : p.substr(0, dot);
  }
  return Status::InvalidArgument((where.empty() ? "" : where + ": ") + "error: " + key + ": " + message);
}

}  // namespace pipeline
