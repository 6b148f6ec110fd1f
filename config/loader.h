// Loading a pipeline YAML file into a validated PipelineConfig.
//
//   PipelineConfig config;
//   Status s = LoadConfig("configs/mnist.yaml", {"train.epochs=5"}, &config);
//
// Every error in the file is reported, one per line, sorted by position:
//   configs/x.yaml:12:5: error: train.epoch: unknown key 'epoch' (did you mean 'epochs'?)
//   <override 'train.epochs=ten'>: error: train.epochs: expected an integer, got 'ten'
// All failures are Status::InvalidArgument (exit code 2). Keys, defaults and
// rules: docs/config.md; the schema as data: config/schema.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/input_limits.h"
#include "common/status.h"
#include "config/config.h"

namespace pipeline {

// Reads `path`, applies `overrides` ("dotted.key=value", value parsed as YAML;
// list elements by index: "model.layers.0.units=128") in order, validates and
// fills `*out` (defaults for absent keys; out->source_path = path).
// `*out` is left unchanged on error.
Status LoadConfig(const std::string& path, const std::vector<std::string>& overrides, PipelineConfig* out);

// The steps of LoadConfig, for callers that apply several override sets to one
// file (sweeps): per run, LoadYamlFile, ApplyOverride each, ValidateConfig.
// Parse the text again for each run (config/yaml_text.h's ParseYamlText)
// rather than YAML::Clone-ing one tree: yaml-cpp's Clone drops the line/column
// marks that error messages use, and keeps aliases shared.

// Reads `path` once with ReadInputFile (a regular file within kind's limit)
// and parses it as one YAML document (config/yaml_text.h: aliases expanded,
// tags and depth checked). Every failure, from a missing file or a FIFO to a
// syntax error (FILE:LINE:COL), is InvalidArgument.
Status LoadYamlFile(const std::string& path, YAML::Node* root, const InputKind& kind = input::kConfigFile);

// Applies one "dotted.key=value" override to `root` (creating maps for absent
// keys the schema knows). Errors name the override instead of a file position.
Status ApplyOverride(YAML::Node& root, const std::string& override_text);

// Validates `root` against the schema and fills `*out`; `path` names the file
// in error messages and becomes out->source_path.
Status ValidateConfig(const YAML::Node& root, const std::string& path, PipelineConfig* out);

// An InvalidArgument for a problem with `key` that a later check found (the
// memory a model needs, an unusable export.path), worded like the loader's own
// errors: "FILE:LINE:COL: error: KEY: message", at the key's position in the
// file or override, else at its nearest present ancestor's, else the file.
Status ConfigErrorAt(const PipelineConfig& config, const std::string& key, const std::string& message);

// The fully resolved configuration (every key, defaults filled) as YAML that
// LoadConfig accepts and that loads back to an equal config.
std::string EmitResolvedYaml(const PipelineConfig& config);

}  // namespace pipeline
