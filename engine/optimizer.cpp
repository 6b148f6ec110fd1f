#include "engine/optimizer.h"

#include "common/strings.h"

namespace pipeline {

void Optimizer::Build(const std::vector<Param*>& params, const dnnl::engine& e, const ParamPartition& partition) {
  AllocateState(params);
  slices_.assign(partition.size(), Plan());
  for (size_t k = 0; k < partition.size(); ++k) {
    for (const ParamShare& share : partition[k]) {
      const RowRange& r = share.range;
      if (r.len > 0) AddUpdate(slices_[k], e, ParamSlice{params[share.param], share.param, r.offset, r.len});
    }
  }
}

void Optimizer::Apply(dnnl::stream& s, float lr) {
  Prepare(lr);
  for (int k = 0; k < workers(); ++k) RunSlice(s, k);
  s.wait();
  Commit();
}

const std::vector<std::string>& OptimizerTypes() {
  static const std::vector<std::string> names = OptimizerRegistry::Names();
  return names;
}

Status CreateOptimizer(const OptimizerSpec& spec, std::unique_ptr<Optimizer>* out) {
  const OptimizerFactory* factory = OptimizerRegistry::Find(spec.type);
  if (!factory) {
    return Status::InvalidArgument("Unknown optimizer type: " + spec.type + " (known types: " +
                                   Join(OptimizerTypes(), ", ") + ")");
  }
  *out = (*factory)(spec);
  return Status::Ok();
}

}  // namespace pipeline
