#include "config/loader.h"

#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

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

// Ignores every parse event: only the number of documents is wanted.
struct NullEvents : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

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
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return FileError(path, "cannot read config file");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // YAML text never holds a NUL; yaml-cpp 0.7 can loop forever on one.
  if (const size_t nul = text.find('\0'); nul != std::string::npos)
    return FileError(path, fmt::format("byte offset {} is a NUL byte: not a YAML text file", nul));
  PIPELINE_RETURN_IF_ERROR(CheckDocumentStarts(path));
  try {
    // Count documents with a bounded loop: on some malformed input yaml-cpp's
    // parser reports a new empty document on every call without consuming
    // anything, so its own LoadAll never returns (found by fuzz/fuzz_config).
    YAML::Parser parser;
    std::istringstream stream(text);
    parser.Load(stream);
    NullEvents events;
    int documents = 0;
    while (documents < 2 && parser.HandleNextDocument(events)) ++documents;
    if (documents > 1) return FileError(path, "expected one YAML document, found more (separated by ---)");
    *root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return FileError(path, "invalid YAML: " + e.msg);
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: error: invalid YAML: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root->IsDefined() || root->IsNull())
    return FileError(path, "config file has no YAML content (only blank lines or comments)");
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
