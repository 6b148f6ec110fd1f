// The configuration schema as data: one row per YAML key, bound to the member
// of the config structs (config/config.h) it fills. The validator, the
// override parser, the "did you mean" suggestions, the one loop that fills
// PipelineConfig (fill.cpp), the one that emits it (emit.cpp) and
// docs/config.md (checked by tests/config_load_test.cpp) all follow this
// table. A list's elements are described by the row `<list>.*`.
//
// Defaults: a row's default is its member's default in config.h, read back
// through the binding (so the schema never restates it); a row whose default
// depends on other keys ("data/<dataset.name>") documents it in words and
// computes it in its `finish` hook.
//
// Enum rows naming a registry (optimizers, layers, initializers, activations,
// schedules) take their allowed values from it (common/registry.h), in the
// registry's rank order.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace pipeline {

// The allowed values of each enum-like key that no registry owns.
inline const std::vector<std::string> kDatasets = {"mnist", "fashion_mnist", "idx", "csv"};
inline const std::vector<std::string> kCsvMissingRules = {"error", "mean", "most_frequent", "constant"};
// Losses whose target is a number rather than a class (the engine's loss
// registry, engine/loss.h, owns the names; this says which of them regress).
inline bool IsRegressionLoss(const std::string& type) { return type == "mean_squared_error" || type == "huber"; }
// The stage registry (stages/stage.h, StageNames) lives above the config
// library; tests/config_load_test.cpp proves the two lists equal.
inline const std::vector<std::string> kStages = {"load", "build", "train", "evaluate", "export"};
inline const std::vector<std::string> kPaddings = {"valid", "same"};
inline const std::vector<std::string> kOnNan = {"stop", "skip_batch"};
// The per-epoch validation scores (records::EpochRecord) a run can monitor.
inline const std::vector<std::string> kMonitors = {"validation_loss", "validation_accuracy", "validation_auc",
                                                   "validation_rmse", "validation_r2"};
inline const std::vector<std::string> kKeep = {"last", "best"};
inline const std::vector<std::string> kExportVariables = {"checkpoint", "frozen"};
inline const std::vector<std::string> kMetrics = {"accuracy", "loss", "auc", "rmse", "r2"};
inline const std::vector<std::string> kSignatureMethods = {"predict", "classify", "regress"};
inline const std::vector<std::string> kSplitFiles = {"train", "t10k"};  // mnist, fashion_mnist

enum class KeyType { kMap, kList, kInt, kUint, kFloat, kBool, kString, kEnum };

// What a row's `finish` hook may read: the config being filled (earlier rows
// are filled already), the row's parent object and, inside a list element,
// the element's index.
struct FillContext {
  const PipelineConfig* root = nullptr;
  const void* parent = nullptr;
  size_t index = 0;
};

struct KeySpec {
  std::string path;                   // "train.epochs", "model.layers.*.units"
  KeyType type = KeyType::kString;
  std::string default_text;           // as documented; "" when required
  std::string doc;                    // one line
  std::vector<std::string> allowed;   // kEnum
  std::string noun;                   // kEnum: "unknown <noun> 'x'"
  std::optional<double> min, max;     // numeric range (or minimum list size for kList)
  bool min_open = false, max_open = false;  // exclusive bounds
  bool required = false;
  bool flow = false;                  // maps and lists: emitted in flow style ({a: 1}, [a, b])
  bool documented_default = false;    // default_text is prose, not the member's default
  // Rows of a map with a `type` key (a layer) that only that type has: units
  // belongs to dense. Empty: every type has the key.
  std::vector<std::string> only_for;

  // The binding. `member` maps the parent object (PipelineConfig, a section
  // struct or a list element) to the member this row fills: int64_t (kInt),
  // uint64_t (kUint), double (kFloat), bool (kBool), std::string (kString,
  // kEnum), std::vector<std::string> (a list of scalars), a struct (kMap) or a
  // std::vector of structs (a list of maps). The typed constructors in
  // schema.cpp guarantee the member's type matches the row's.
  std::function<void*(void* parent)> member;
  // Scalars: the value as emitted and documented ("0.01", "true").
  std::function<std::string(const void* member)> text;
  // Lists of maps: element access, and a default element (for default texts).
  std::function<size_t(const void* list)> list_size;
  std::function<void(void* list, size_t n)> list_assign;  // n default elements
  std::function<void*(void* list, size_t i)> list_element;
  std::function<std::shared_ptr<void>()> new_element;
  // Runs after the row is filled; `given`: the key was present and valid.
  // Computes context-dependent defaults and normalizes values.
  std::function<void(const FillContext& ctx, void* member, bool given)> finish;

  bool IsElement() const { return path.size() >= 2 && path.compare(path.size() - 2, 2, ".*") == 0; }
  bool IsScalar() const { return type != KeyType::kMap && type != KeyType::kList; }
};

const std::vector<KeySpec>& ConfigSchema();

// The row for a schema path ("" is the root map), or null.
const KeySpec* FindKeySpec(const std::string& schema_path);

// Names of the direct children of a map row, in table order.
std::vector<std::string> ChildKeys(const std::string& schema_path);

// Whether `spec` applies to a map whose `type` is `type` ("" or unknown: it does).
bool AppliesTo(const KeySpec& spec, const std::string& type);
// ChildKeys of the rows that apply to `type`.
std::vector<std::string> ChildKeysFor(const std::string& schema_path, const std::string& type);

// "an integer", "a number", ...
std::string KeyTypeName(KeyType type);

// The human-readable range, e.g. ">= 1", "in [0, 1)", or "" when unbounded.
std::string RangeText(const KeySpec& spec);

}  // namespace pipeline
