#include "engine/optimizer.h"

#include <algorithm>
#include <cmath>

#include "common/strings.h"

namespace pipeline {

std::vector<std::vector<ParamSlice>> UpdateSlices(const std::vector<Param*>& params, int workers) {
  constexpr int64_t kLine = 16;
  int64_t total = 0;
  for (const Param* p : params) total += p->size();
  // cuts[k]: where worker k's run begins in the concatenated elements. Each
  // is the even cut moved to the nearest line boundary of the parameter it
  // falls in (or that parameter's end).
  std::vector<int64_t> cuts(workers + 1, total);
  cuts[0] = 0;
  for (int k = 1; k < workers; ++k) {
    const int64_t even = total * k / workers;
    int64_t start = 0;
    for (const Param* p : params) {
      if (even < start + p->size()) {
        cuts[k] = start + std::min(p->size(), (even - start + kLine / 2) / kLine * kLine);
        break;
      }
      start += p->size();
    }
  }
  std::vector<std::vector<ParamSlice>> slices(workers);
  int64_t start = 0;  // of params[i] in the concatenation
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t size = params[i]->size();
    for (int k = 0; k < workers; ++k) {
      const int64_t from = std::max(cuts[k], start), to = std::min(cuts[k + 1], start + size);
      if (from < to) slices[k].push_back(ParamSlice{params[i], i, from - start, to - from});
    }
    start += size;
  }
  return slices;
}

void Optimizer::Build(const std::vector<Param*>& params, const dnnl::engine& e, int workers,
                      const GradientRules& rules) {
  AllocateState(params);
  clip_global_norm_ = rules.clip_global_norm;
  clip_scales_.assign(workers, 1.0f);  // sized once: the slices keep pointers into it
  const std::vector<std::vector<ParamSlice>> slices = UpdateSlices(params, workers);
  slices_.assign(slices.size(), Plan());
  for (size_t k = 0; k < slices.size(); ++k) {
    for (const ParamSlice& s : slices[k]) {
      const float decay = rules.weight_decay.empty() ? 0.0f : rules.weight_decay[s.index];
      if (clips() || decay > 0.0f) {
        gradient_rules_ = true;
        update::ClipAndDecay(slices_[k], e, s.name(), s.len, s.param->grad.data() + s.offset,
                             s.param->value.data() + s.offset, decay, clips() ? &clip_scales_[k] : nullptr);
      }
      AddUpdate(slices_[k], e, s);
    }
  }
}

void Optimizer::RunSlice(dnnl::stream& s, int k, double grad_sum_squares) {
  if (clips()) {
    const double norm = std::sqrt(grad_sum_squares);
    clip_scales_[k] = norm > clip_global_norm_ ? static_cast<float>(clip_global_norm_ / norm) : 1.0f;
  }
  slices_[k].Execute(s);
}

void Optimizer::Apply(dnnl::stream& s, float lr, double grad_sum_squares) {
  Prepare(lr);
  for (int k = 0; k < workers(); ++k) RunSlice(s, k, grad_sum_squares);
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
