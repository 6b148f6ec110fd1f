#include "engine/optimizer.h"

#include <functional>
#include <map>

#include "common/strings.h"

namespace pipeline {

std::unique_ptr<Optimizer> NewSgd(const OptimizerSpec&);
std::unique_ptr<Optimizer> NewMomentum(const OptimizerSpec&);
std::unique_ptr<Optimizer> NewAdam(const OptimizerSpec&);
std::unique_ptr<Optimizer> NewRmsprop(const OptimizerSpec&);

namespace {

const std::map<std::string, std::function<std::unique_ptr<Optimizer>(const OptimizerSpec&)>>& Registry() {
  static const std::map<std::string, std::function<std::unique_ptr<Optimizer>(const OptimizerSpec&)>> r = {
      {"sgd", NewSgd}, {"momentum", NewMomentum}, {"adam", NewAdam}, {"rmsprop", NewRmsprop}};
  return r;
}

}  // namespace

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
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, f] : Registry()) v.push_back(name);
    return v;
  }();
  return names;
}

Status CreateOptimizer(const OptimizerSpec& spec, std::unique_ptr<Optimizer>* out) {
  auto it = Registry().find(spec.type);
  if (it == Registry().end()) {
    return Status::InvalidArgument("Unknown optimizer type: " + spec.type + " (known types: " +
                                   Join(OptimizerTypes(), ", ") + ")");
  }
  *out = it->second(spec);
  return Status::Ok();
}

}  // namespace pipeline
