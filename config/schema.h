// The configuration schema as data: one row per YAML key. The validator, the
// override parser, the "did you mean" suggestions and docs/config.md all follow
// this table. A list's elements are described by the row `<list>.*`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pipeline {

// The allowed values of each enum-like key, in one place so they can grow.
inline const std::vector<std::string> kLayerTypes = {"dense"};
inline const std::vector<std::string> kActivations = {"relu", "sigmoid", "tanh", "linear"};
inline const std::vector<std::string> kInitializers = {"random_normal", "truncated_normal", "glorot_uniform",
                                                       "glorot_normal", "he_normal",     "zeros"};
inline const std::vector<std::string> kDatasets = {"mnist", "fashion_mnist", "idx"};
inline const std::vector<std::string> kOptimizers = {"sgd", "momentum", "adam", "rmsprop"};
inline const std::vector<std::string> kSchedules = {"constant", "step", "exponential", "cosine"};
inline const std::vector<std::string> kLosses = {"softmax_cross_entropy"};
inline const std::vector<std::string> kStages = {"load", "build", "train", "evaluate", "export"};
inline const std::vector<std::string> kOnNan = {"stop", "skip_batch"};
inline const std::vector<std::string> kExportVariables = {"checkpoint", "frozen"};
inline const std::vector<std::string> kMetrics = {"accuracy", "loss"};
inline const std::vector<std::string> kSignatureMethods = {"predict", "classify", "regress"};
inline const std::vector<std::string> kSplitFiles = {"train", "t10k"};  // mnist, fashion_mnist

enum class KeyType { kMap, kList, kInt, kUint, kFloat, kBool, kString, kEnum };

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

  bool IsElement() const { return path.size() >= 2 && path.compare(path.size() - 2, 2, ".*") == 0; }
  bool IsScalar() const { return type != KeyType::kMap && type != KeyType::kList; }
};

const std::vector<KeySpec>& ConfigSchema();

// The row for a schema path ("" is the root map), or null.
const KeySpec* FindKeySpec(const std::string& schema_path);

// Names of the direct children of a map row, in table order.
std::vector<std::string> ChildKeys(const std::string& schema_path);

// "an integer", "a number", ...
std::string KeyTypeName(KeyType type);

// The human-readable range, e.g. ">= 1", "in [0, 1)", or "" when unbounded.
std::string RangeText(const KeySpec& spec);

}  // namespace pipeline
