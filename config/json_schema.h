// The pipeline config as a JSON Schema (draft 2020-12), for editors: VS Code's
// YAML extension, JetBrains IDEs and yaml-language-server complete keys, show
// each key's doc on hover and underline errors from it.
//
// It is generated from the one schema table (config/schema.h) that the
// validator walks, so the two cannot drift apart: every row's type, default,
// range, allowed values (a registry's names for optimizers, layers,
// initializers, activations and schedules) and doc line. A map whose rows are
// limited to one `type` (a layer's) gets one closed branch per type, applied
// by `if: {type: const}` (json_schema.cpp says why not a oneOf). `pipeline schema` prints it;
// schemas/pipeline.schema.json is this text, checked by a test.
//
// What the validator checks that a JSON Schema cannot say (cross-key rules in
// config/rules.cpp, duplicates in lists, finite numbers, 64-bit ranges,
// `epochs: 2.0`, which JSON reads as an integer) is listed in docs/config.md.
#pragma once

#include <string>

namespace pipeline {

// The schema as indented JSON text, ending in a newline.
std::string PipelineJsonSchema();

// An anchored regular expression (ECMA-262, as JSON Schema's `pattern`) that
// matches every dotted key a config accepts: "train.epochs",
// "model.layers.0.units", "optimizer" (a whole map). Sweep files name the keys
// they set this way (sweep/json_schema.cpp).
std::string ConfigKeyPathPattern();

}  // namespace pipeline
