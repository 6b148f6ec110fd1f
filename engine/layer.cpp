#include "engine/layer.h"

#include <functional>
#include <map>

#include "common/strings.h"
#include "engine/dense.h"

namespace pipeline {
namespace {

using Factory = std::function<Status(const LayerSpec&, int64_t, std::unique_ptr<Layer>*)>;

const std::map<std::string, Factory>& Registry() {
  static const std::map<std::string, Factory> registry = {
      {"dense", &DenseLayer::Create},
  };
  return registry;
}

}  // namespace

RowRange Rows(const Param& p, int64_t row_begin, int64_t rows) {
  const int64_t leading = p.dims.empty() ? 1 : p.dims[0];
  const int64_t row_size = leading == 0 ? 0 : p.size() / leading;
  return RowRange{row_begin, rows, row_begin * row_size, rows * row_size};
}

RowRange AllRows(const Param& p) { return Rows(p, 0, p.dims.empty() ? 1 : p.dims[0]); }

const std::vector<std::string>& LayerTypes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, f] : Registry()) v.push_back(name);
    return v;
  }();
  return names;
}

Status CreateLayer(const LayerSpec& spec, int64_t in_features, std::unique_ptr<Layer>* out) {
  auto it = Registry().find(spec.type);
  if (it == Registry().end()) {
    return Status::InvalidArgument("Unknown layer type: " + spec.type + " (known types: " +
                                   Join(LayerTypes(), ", ") + ")");
  }
  return it->second(spec, in_features, out);
}

}  // namespace pipeline
