// Internals shared by the config loader's .cpp files. Not part of the API.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "config/yaml_values.h"  // scalars and error wording, shared with the sweep reader

namespace pipeline::config_internal {

// Nodes created by an override carry this tag prefix followed by the override text,
// so that errors about them point at the override instead of a file position.
inline const std::string kOverrideTag = "tag:pipeline,override:";

// Where a value came from.
struct Loc {
  bool from_override = false;
  std::string override_text;
  int line = 0, col = 0;  // 1-based; 0: unknown
};

// One error. `key` is the dotted key path (list indices as parts), may be empty.
struct Diag {
  Loc loc;
  std::string key;
  std::string message;
};

// The location of `node`, or `inherited` when the node has no own origin.
Loc LocOf(const YAML::Node& node, const Loc& inherited);
Loc OverrideLoc(const std::string& text);

// "FILE:LINE:COL", "<override 'KEY=VALUE'>" or just FILE: how errors name `loc`.
std::string FormatLoc(const Loc& loc, const std::string& file);

// Sorted (file positions by line, column; then overrides in order), de-duplicated,
// one "LOC: error: KEY: message" per line.
std::string FormatDiags(std::vector<Diag> diags, const std::string& file);
Status DiagsToStatus(const std::vector<Diag>& diags, const std::string& file);

// Validates `root` on top of `diags` already collected (the overrides'), fills
// `*out` when there are none at the end; ValidateConfig and LoadConfig share it.
Status ValidateWithDiags(const YAML::Node& root, const std::string& path, std::vector<Diag> diags,
                         PipelineConfig* out);

// Applies one override, appending errors to `diags`.
void ApplyOverrideDiags(YAML::Node& root, const std::string& text, std::vector<Diag>* diags);

// Defaults that depend on other keys.
std::vector<std::string> DefaultMirrors(const std::string& dataset_name);
std::vector<std::string> DefaultClassNames(int64_t num_classes);
std::vector<SignatureConfig> DefaultSignatures();

}  // namespace pipeline::config_internal
