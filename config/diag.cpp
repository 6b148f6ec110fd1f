#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "config/internal.h"
#include "config/yaml_text.h"

namespace pipeline::config_internal {

Loc OverrideLoc(const std::string& text) {
  Loc loc;
  loc.from_override = true;
  loc.override_text = text;
  return loc;
}

Loc LocOf(const YAML::Node& node, const Loc& inherited) {
  if (!node.IsDefined()) return inherited;
  const std::string& tag = node.Tag();
  if (tag.compare(0, kOverrideTag.size(), kOverrideTag) == 0) return OverrideLoc(tag.substr(kOverrideTag.size()));
  if (inherited.from_override) return inherited;
  // "key:" with nothing after it: yaml-cpp marks the next token; the key is clearer.
  if (node.IsNull() && inherited.line > 0) return inherited;
  const YamlPosition at = PositionOf(node);  // also for alias copies, whose mark is in the tag
  if (at.line == 0) return inherited;
  Loc loc;
  loc.line = at.line;
  loc.col = at.col;
  return loc;
}

std::string FormatLoc(const Loc& loc, const std::string& file) {
  if (loc.from_override) return fmt::format("<override '{}'>", loc.override_text);
  if (loc.line > 0) return fmt::format("{}:{}:{}", file, loc.line, loc.col);
  return file;
}

std::string FormatDiags(std::vector<Diag> diags, const std::string& file) {
  std::stable_sort(diags.begin(), diags.end(), [](const Diag& a, const Diag& b) {
    if (a.loc.from_override != b.loc.from_override) return !a.loc.from_override;
    if (a.loc.from_override) return false;  // keep the order they were found in
    if (a.loc.line != b.loc.line) return a.loc.line < b.loc.line;
    return a.loc.col < b.loc.col;
  });
  std::string out;
  std::set<std::string> seen;
  for (const auto& d : diags) {
    std::string line = FormatLoc(d.loc, file) + ": error: " + (d.key.empty() ? "" : d.key + ": ") + d.message;
    if (!seen.insert(line).second) continue;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

Status DiagsToStatus(const std::vector<Diag>& diags, const std::string& file) {
  if (diags.empty()) return Status::Ok();
  return Status::InvalidArgument(FormatDiags(diags, file));
}

}  // namespace pipeline::config_internal
