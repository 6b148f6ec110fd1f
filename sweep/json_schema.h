// A sweep file as a JSON Schema (draft 2020-12), for editors, as
// config/json_schema.h is for pipeline configs: built from the reader's own
// keys and limits (sweep/sweep_keys.h), with the keys a sweep sets checked
// against every dotted key the pipeline config accepts. `pipeline schema
// --sweep` prints it; schemas/sweep.schema.json is this text.
#pragma once

#include <string>

namespace pipeline::sweep {

// The schema as indented JSON text, ending in a newline.
std::string SweepJsonSchema();

}  // namespace pipeline::sweep
