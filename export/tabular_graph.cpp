#include "export/tabular_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

namespace pipeline::savedmodel {
namespace {

using tensorflow::DataType;
using tensorflow::NodeDef;

const auto F = tensorflow::DT_FLOAT;
const auto S = tensorflow::DT_STRING;
const auto I64 = tensorflow::DT_INT64;

// The index data/csv_dataset.cpp gives `value`: its place in the sorted
// vocabulary, else the out-of-vocabulary slot.
int64_t VocabularyIndex(const ExportedColumn& c, const std::string& value) {
  const auto it = std::lower_bound(c.vocabulary.begin(), c.vocabulary.end(), value);
  return it != c.vocabulary.end() && *it == value ? it - c.vocabulary.begin()
                                                   : static_cast<int64_t>(c.vocabulary.size());
}

// column_<i>/vocabulary: value -> index, initialized by the legacy init op.
std::string AddVocabularyLookup(GraphBuilder& g, const ExportedColumn& c, const std::string& scope,
                                const std::string& input, std::vector<std::string>* table_inits) {
  std::vector<std::string> keys = c.vocabulary;
  std::vector<int64_t> values;
  for (size_t k = 0; k < c.vocabulary.size(); ++k) values.push_back(static_cast<int64_t>(k));
  if (!c.fill.empty()) {
    const int64_t fill_index = VocabularyIndex(c, c.fill);
    for (const auto& token : c.missing_tokens) {
      if (std::binary_search(c.vocabulary.begin(), c.vocabulary.end(), token)) continue;
      keys.push_back(token);
      values.push_back(fill_index);
    }
  }
  const std::string table = scope + "/vocabulary";
  g.ConstStrings(table + "/keys", {static_cast<int64_t>(keys.size())}, keys);
  g.ConstInt64s(table + "/values", values);
  NodeDef* t = g.Add(table, "HashTableV2");
  GraphBuilder::SetType(t, "key_dtype", S);
  GraphBuilder::SetType(t, "value_dtype", I64);
  NodeDef* init = g.Add(table + "/table_init", "InitializeTableV2", {table, table + "/keys", table + "/values"});
  GraphBuilder::SetType(init, "Tkey", S);
  GraphBuilder::SetType(init, "Tval", I64);
  table_inits->push_back(table + "/table_init");

  g.ConstInt64(table + "/out_of_vocabulary", static_cast<int64_t>(c.vocabulary.size()));
  NodeDef* lk = g.Add(scope + "/lookup", "LookupTableFindV2", {table, input, table + "/out_of_vocabulary"});
  GraphBuilder::SetType(lk, "Tin", S);
  GraphBuilder::SetType(lk, "Tout", I64);

  g.ConstInt32(scope + "/one_hot/depth", static_cast<int32_t>(c.width()));
  g.ConstFloatFill(scope + "/one_hot/on_value", {}, 1.0f);
  g.ConstFloatFill(scope + "/one_hot/off_value", {}, 0.0f);
  NodeDef* oh = g.Add(scope + "/one_hot", "OneHot",
                      {scope + "/lookup", scope + "/one_hot/depth", scope + "/one_hot/on_value", scope + "/one_hot/off_value"});
  GraphBuilder::SetType(oh, "T", F);  // TI int64 and axis -1 are the defaults, stripped
  return scope + "/one_hot";
}

// (x - mean) / stddev as float32, then [-1] -> [-1, 1].
std::string AddStandardize(GraphBuilder& g, const ExportedColumn& c, const std::string& scope,
                           const std::string& input) {
  const float mean = static_cast<float>(c.mean), stddev = static_cast<float>(c.stddev);
  g.ConstFloats(scope + "/mean", {}, &mean);
  g.ConstFloats(scope + "/stddev", {}, &stddev);
  NodeDef* sub = g.Add(scope + "/sub", "Sub", {input, scope + "/mean"});
  GraphBuilder::SetType(sub, "T", F);
  NodeDef* div = g.Add(scope + "/standardized", "RealDiv", {scope + "/sub", scope + "/stddev"});
  GraphBuilder::SetType(div, "T", F);
  g.ConstInt32(scope + "/ExpandDims/dim", 1);
  NodeDef* ex = g.Add(scope + "/ExpandDims", "ExpandDims", {scope + "/standardized", scope + "/ExpandDims/dim"});
  GraphBuilder::SetType(ex, "T", F);  // Tdim int32 is the default
  return scope + "/ExpandDims";
}

}  // namespace

std::string ColumnNode(size_t index) { return fmt::format("column_{}", index); }

std::string CheckColumns(const std::vector<ExportedColumn>& columns, int64_t input_features) {
  std::set<std::string> names;
  int64_t width = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    const ExportedColumn& c = columns[i];
    if (c.name.empty()) return fmt::format("column {} has no name", i);
    if (!names.insert(c.name).second) return fmt::format("column '{}' appears twice", c.name);
    if (!c.categorical && !(std::isfinite(c.mean) && std::isfinite(c.stddev) && c.stddev > 0.0))
      return fmt::format("column '{}' has mean {} and stddev {}", c.name, c.mean, c.stddev);
    if (!std::is_sorted(c.vocabulary.begin(), c.vocabulary.end()))
      return fmt::format("column '{}': vocabulary is not sorted", c.name);
    if (!c.categorical && !c.fill.empty()) {
      char* end = nullptr;
      std::strtod(c.fill.c_str(), &end);
      if (end == c.fill.c_str() || *end != '\0')
        return fmt::format("column '{}' is numeric but its fill is '{}'", c.name, c.fill);
    }
    width += c.width();
  }
  if (width != input_features)
    return fmt::format("the {} columns encode {} features but the model takes {}", columns.size(), width,
                       input_features);
  return "";
}

std::vector<std::string> AddTabularInput(GraphBuilder& g, const std::vector<ExportedColumn>& columns,
                                         const std::string& example_input, const std::string& features_node) {
  const int64_t n = static_cast<int64_t>(columns.size());
  std::vector<std::string> parse_inputs = {example_input, "ParseExample/ParseExample/names"};
  g.ConstStrings("ParseExample/ParseExample/names", {0}, {});
  for (int64_t i = 0; i < n; ++i) {
    const std::string key = fmt::format("ParseExample/ParseExample/dense_keys_{}", i);
    g.ConstStrings(key, {}, {columns[i].name});
    parse_inputs.push_back(key);
  }
  std::vector<DataType> types;
  for (int64_t i = 0; i < n; ++i) {
    const ExportedColumn& c = columns[i];
    const std::string name = fmt::format("ParseExample/Const_{}", i);
    // An empty default makes the feature required (TF: "Feature: ... is required but could not be found").
    if (c.categorical) {
      if (c.fill.empty()) g.ConstStrings(name, {0}, {});
      else g.ConstStrings(name, {}, {c.fill});
    } else {
      const float fill = c.fill.empty() ? 0.0f : static_cast<float>(std::strtod(c.fill.c_str(), nullptr));
      g.ConstFloats(name, c.fill.empty() ? std::vector<int64_t>{0} : std::vector<int64_t>{}, &fill);
    }
    parse_inputs.push_back(name);
    types.push_back(c.categorical ? S : F);
  }
  NodeDef* pe = g.Add("ParseExample/ParseExample", "ParseExample", parse_inputs);
  GraphBuilder::SetInt(pe, "Nsparse", 0);
  GraphBuilder::SetInt(pe, "Ndense", n);
  GraphBuilder::SetTypeList(pe, "sparse_types", {});
  GraphBuilder::SetTypeList(pe, "Tdense", types);
  GraphBuilder::SetShapeList(pe, "dense_shapes", std::vector<tensorflow::TensorShapeProto>(n, MakeShape({})));

  std::vector<std::string> blocks, table_inits;
  for (int64_t i = 0; i < n; ++i) {
    const std::string scope = ColumnNode(i);
    NodeDef* id = g.Add(scope, "Identity", {i == 0 ? "ParseExample/ParseExample" : fmt::format("ParseExample/ParseExample:{}", i)});
    GraphBuilder::SetType(id, "T", types[i]);
    blocks.push_back(columns[i].categorical ? AddVocabularyLookup(g, columns[i], scope, scope, &table_inits)
                                            : AddStandardize(g, columns[i], scope, scope));
  }
  if (blocks.size() == 1) {
    NodeDef* x = g.Add(features_node, "Identity", {blocks[0]});
    GraphBuilder::SetType(x, "T", F);
  } else {
    g.ConstInt32(features_node + "/axis", 1);
    std::vector<std::string> inputs = blocks;
    inputs.push_back(features_node + "/axis");
    NodeDef* x = g.Add(features_node, "ConcatV2", inputs);
    GraphBuilder::SetInt(x, "N", n);
    GraphBuilder::SetType(x, "T", F);  // Tidx int32 is the default
  }
  return table_inits;
}

}  // namespace pipeline::savedmodel
