#include "engine/layer.h"

#include "common/strings.h"

namespace pipeline {

RowRange Rows(const Param& p, int64_t row_begin, int64_t rows) {
  const int64_t leading = p.dims.empty() ? 1 : p.dims[0];
  const int64_t row_size = leading == 0 ? 0 : p.size() / leading;
  return RowRange{row_begin, rows, row_begin * row_size, rows * row_size};
}

RowRange AllRows(const Param& p) { return Rows(p, 0, p.dims.empty() ? 1 : p.dims[0]); }

const std::vector<std::string>& LayerTypes() {
  static const std::vector<std::string> names = LayerRegistry::Names();
  return names;
}

Status CreateLayer(const LayerSpec& spec, int64_t in_features, std::unique_ptr<Layer>* out) {
  const LayerFactory* factory = LayerRegistry::Find(spec.type);
  if (!factory) {
    return Status::InvalidArgument("Unknown layer type: " + spec.type + " (known types: " +
                                   Join(LayerTypes(), ", ") + ")");
  }
  return (*factory)(spec, in_features, out);
}

}  // namespace pipeline
