#include "config/loader.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "config/validator.h"

namespace pipeline {
namespace {

namespace fs = std::filesystem;
using config_internal::Diag;

Status FileError(const std::string& path, const std::string& message) {
  return Status::InvalidArgument(path + ": error: " + message);
}

}  // namespace

Status LoadYamlFile(const std::string& path, YAML::Node* root) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return FileError(path, "no such config file");
  if (fs::is_directory(st)) return FileError(path, "is a directory, not a config file");
  if (fs::file_size(path, ec) == 0 && !ec) return FileError(path, "config file is empty");
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAllFromFile(path);
  } catch (const YAML::BadFile&) {
    return FileError(path, "cannot read config file");
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return FileError(path, "invalid YAML: " + e.msg);
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: error: invalid YAML: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (docs.empty() || (docs.size() == 1 && docs[0].IsNull()))
    return FileError(path, "config file has no YAML content (only blank lines or comments)");
  if (docs.size() > 1)
    return FileError(path, fmt::format("expected one YAML document, found {} (separated by ---)", docs.size()));
  *root = docs[0];
  return Status::Ok();
}

Status LoadConfig(const std::string& path, const std::vector<std::string>& overrides, PipelineConfig* out) {
  YAML::Node root;
  PIPELINE_RETURN_IF_ERROR(LoadYamlFile(path, &root));
  std::vector<Diag> diags;
  for (const auto& text : overrides) config_internal::ApplyOverrideDiags(root, text, &diags);
  config_internal::Validator v(&diags);
  v.Walk(root);
  PipelineConfig config;
  config_internal::FillConfig(v, &config);
  config_internal::CheckRules(v, config);
  if (!diags.empty()) return config_internal::DiagsToStatus(diags, path);
  config.source_path = path;
  *out = std::move(config);
  return Status::Ok();
}

}  // namespace pipeline
