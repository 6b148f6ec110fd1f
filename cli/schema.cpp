// pipeline schema [--sweep]: the JSON Schema editors use to complete and check
// pipeline YAML (config/json_schema.h, sweep/json_schema.h).
#include <cstdio>

#include "cli/command.h"
#include "config/json_schema.h"
#include "sweep/json_schema.h"

namespace pipeline::cli {

extern const char kSchemaUsage[] =
    "usage: pipeline schema [--sweep]\n\n"
    "Prints the JSON Schema (draft 2020-12) of a pipeline config, or with --sweep of a sweep file,\n"
    "generated from the validator's own table: every key's type, default, allowed values, range and\n"
    "doc. schemas/pipeline.schema.json and schemas/sweep.schema.json are its output; a config names\n"
    "one for its editor with a first line such as\n"
    "  # yaml-language-server: $schema=../schemas/pipeline.schema.json\n"
    "Exit codes: 0 printed, 2 usage error.\n";

int SchemaCommand(const std::vector<std::string>& args) {
  bool sweep = false;
  for (const auto& a : args) {
    if (a == "--sweep") {
      sweep = true;
    } else {
      std::fprintf(stderr, "pipeline schema: unknown argument '%s'\n\n%s", a.c_str(), kSchemaUsage);
      return 2;
    }
  }
  const std::string text = sweep ? sweep::SweepJsonSchema() : PipelineJsonSchema();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace pipeline::cli
