#include "config/loader.h"

#include <cctype>
#include <fstream>

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

namespace {

// yaml-cpp 0.7's LoadAll never returns when a document's first token is ','
// (found by fuzz/fuzz_config; a stray comma anywhere else is a parse error).
// So find each document's first significant character before it parses.
Status CheckDocumentStarts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  bool at_start = true;  // before the current document's first token
  for (int number = 1; std::getline(in, line); ++number) {
    size_t col = 0;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) col = 3;  // UTF-8 byte-order mark
    if (line.compare(col, 3, "---") == 0 && (line.size() == col + 3 || std::isspace(static_cast<unsigned char>(line[col + 3])))) {
      at_start = true;
      col += 3;
    } else if (at_start && line.compare(col, 1, "%") == 0) {
      continue;  // a directive
    }
    if (!at_start) continue;
    col = line.find_first_not_of(" \t\r", col);
    if (col == std::string::npos || line[col] == '#') continue;
    if (line[col] == ',') {
      return Status::InvalidArgument(fmt::format(
          "{}:{}:{}: error: invalid YAML: a document cannot begin with ',' (a flow separator outside [...] or {{...}})",
          path, number, col + 1));
    }
    at_start = false;
  }
  return Status::Ok();
}

}  // namespace

Status LoadYamlFile(const std::string& path, YAML::Node* root) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return FileError(path, "no such config file");
  if (fs::is_directory(st)) return FileError(path, "is a directory, not a config file");
  if (fs::file_size(path, ec) == 0 && !ec) return FileError(path, "config file is empty");
  PIPELINE_RETURN_IF_ERROR(CheckDocumentStarts(path));
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
  return config_internal::ValidateWithDiags(root, path, std::move(diags), out);
}

}  // namespace pipeline
