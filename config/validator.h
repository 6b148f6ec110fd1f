// The schema walk (validate.cpp), struct filling (fill.cpp) and cross-key rules
// (rules.cpp). Internal to the config library.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "config/internal.h"
#include "config/schema.h"

namespace pipeline::config_internal {

class Validator {
 public:
  explicit Validator(std::vector<Diag>* diags) : diags_(diags) {}

  // Checks keys, types, enums and ranges of the whole tree; records every value.
  void Walk(const YAML::Node& root);

  struct Entry {
    YAML::Node node;
    Loc loc;
    bool ok = false;  // right type and range (lists: and every scalar element)
    // A scalar's value, parsed once by the check that accepted it and read
    // by Get (optimizer.learning_rate's text is parsed here and nowhere else).
    std::variant<std::monostate, int64_t, uint64_t, double, bool> value;
  };
  const Entry* Find(const std::string& path) const;
  // Records the value at `path`. Never assigns one YAML::Node to another:
  // yaml-cpp's Node::operator= writes through to the node it refers to, so
  // re-recording a path would rewrite the document being walked.
  void Record(const std::string& path, const YAML::Node& node, const Loc& loc, bool ok);
  bool Present(const std::string& path) const { return Find(path) != nullptr; }
  // Present but invalid: rules depending on it are skipped (no cascades).
  bool Bad(const std::string& path) const;
  // Elements of a list value (0 when absent or not a list).
  size_t ListSize(const std::string& path) const;

  // Assign the value at `path` when it is present and valid; return whether they did.
  bool Get(const std::string& path, std::string* out) const;
  bool Get(const std::string& path, int64_t* out) const;
  bool Get(const std::string& path, uint64_t* out) const;
  bool Get(const std::string& path, double* out) const;
  bool Get(const std::string& path, bool* out) const;
  bool Get(const std::string& path, std::vector<std::string>* out) const;

  // Location of `path`, or of its nearest present ancestor.
  Loc Where(const std::string& path) const;
  // Every recorded path's location as error messages print it (FormatLoc).
  std::map<std::string, std::string> Origins(const std::string& file) const;
  void Error(const std::string& path, std::string message) { diags_->push_back({Where(path), path, std::move(message)}); }

 private:
  void WalkNode(const YAML::Node& node, const KeySpec& spec, const std::string& path, const Loc& inherited);
  void WalkMap(const YAML::Node& node, const KeySpec& spec, const std::string& path, const Loc& loc);
  bool CheckScalar(const YAML::Node& node, const KeySpec& spec, const std::string& path, const Loc& loc);
  void CheckAbsent(const KeySpec& spec, const std::string& path, const Loc& loc);
  void ErrorAt(const Loc& loc, const std::string& path, std::string message) {
    diags_->push_back({loc, path, std::move(message)});
  }

  std::map<std::string, Entry> entries_;
  Loc root_loc_;
  std::vector<Diag>* diags_;
};

std::string JoinPath(const std::string& a, const std::string& b);

void FillConfig(const Validator& v, PipelineConfig* config);
void CheckRules(Validator& v, const PipelineConfig& config);

}  // namespace pipeline::config_internal
