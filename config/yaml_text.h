// The YAML side of the loader, shared with the sweep reader (sweep/spec.cpp):
// parsing a file's text into one alias-free tree, and the rules for tags and
// positions every consumer of that tree follows.
//
// What is accepted and why:
//   - one UTF-8 document, no NUL byte, nested at most kMaxYamlDepth levels
//     (yaml-cpp's own limit, 500, fails as "bad file");
//   - aliases (*name) are expanded into copies (a cycle, or more than
//     kMaxYamlNodes nodes after expansion, is refused), so an override of one user of
//     an anchor never changes another (yaml-cpp shares the node). A copy keeps
//     the anchor's position in its tag, because yaml-cpp offers no way to set a
//     node's mark; PositionOf and SourceTag read it back;
//   - tags: !!str forces a string (so `!!str 1` is not an integer); any other
//     explicit tag (!!binary, !!int, !custom) is refused: yaml-cpp ignores
//     tags, so honouring them only partly would silently change values;
//   - merge keys (<<) are refused: yaml-cpp 0.7 reads `<<` as a plain key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/status.h"

namespace pipeline {

inline constexpr int kMaxYamlDepth = 64;              // a pipeline config needs 5
inline constexpr int64_t kMaxYamlNodes = 100000;      // after expanding aliases (an "alias bomb" is refused)

// Parses `text`, the contents of `path` (which names it in errors: "PATH:L:C:
// error: ..."), into *root. `noun` ("config file") words the empty-file error.
// All failures are InvalidArgument.
Status ParseYamlText(const std::string& text, const std::string& path, const std::string& noun, YAML::Node* root);

// The same rules for a value given on the command line ("train.epochs=VALUE"):
// an empty or null value is fine. False with the reason in *error.
bool ParseYamlValue(const std::string& text, YAML::Node* out, std::string* error);

// 1-based line and column of `node` in its file; {0, 0} when unknown (nodes
// made by overrides). Use this, not node.Mark(): alias copies keep theirs in the tag.
struct YamlPosition {
  int line = 0, col = 0;
};
YamlPosition PositionOf(const YAML::Node& node);

// The tag the YAML text gave `node`: "" for none (also for yaml-cpp's
// non-specific "?" and "!"), else e.g. "tag:yaml.org,2002:str".
std::string SourceTag(const YAML::Node& node);
bool IsStrTag(const std::string& source_tag);
// Whether `node` is a quoted scalar ('2', "true"): a string to YAML 1.2 and to
// the JSON Schema editors check against (config/json_schema.h), so the
// validator refuses it where a number or boolean is expected, as editors do.
bool IsQuotedScalar(const YAML::Node& node);
// "!!binary" for "tag:yaml.org,2002:binary"; other tags as they are.
std::string ShortTag(const std::string& tag);
// The error for a node whose tag pipeline does not accept, "" when it is fine:
// no tag, or !!str on a scalar.
std::string TagProblem(const YAML::Node& node);

// The error for a merge key.
inline const char kMergeKeyMessage[] =
    "merge keys (<<) are not supported: write the keys out (an alias *name can stand for a whole value)";

}  // namespace pipeline
