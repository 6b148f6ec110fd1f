#include "engine/loss.h"

#include "common/strings.h"

namespace pipeline {

void Loss::FillTarget(int64_t label, float* t, int64_t c) const {
  if (c == 1) {
    t[0] = static_cast<float>(label);
    return;
  }
  for (int64_t j = 0; j < c; ++j) t[j] = j == label ? 1.0f : 0.0f;
}

Status CreateLoss(const LossSpec& spec, std::unique_ptr<Loss>* out) {
  const LossFactory* factory = LossRegistry::Find(spec.type);
  if (!factory) {
    const std::string near = ClosestMatch(spec.type, LossRegistry::Names());
    return Status::InvalidArgument("Unknown loss: " + spec.type + (near.empty() ? "" : " (did you mean " + near + "?)") +
                                   " (known losses: " + Join(LossRegistry::Names(), ", ") + ")");
  }
  *out = (*factory)(spec);
  return Status::Ok();
}

void AddScaledDifference(Plan& plan, const dnnl::engine& e, const char* what, int64_t n, int64_t c,
                         const float* a, const float* t, float* dz, float* scale, float clip, float extra) {
  auto a_m = Wrap(e, {n, c}, const_cast<float*>(a));
  auto t_m = Wrap(e, {n, c}, const_cast<float*>(t));
  auto dz_m = Wrap(e, {n, c}, dz);
  auto scale_m = Wrap(e, {1, 1}, scale);
  dnnl::post_ops ops;
  if (clip > 0.0f) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, -clip, clip);
  ops.append_binary(dnnl::algorithm::binary_mul, scale_m.get_desc());
  if (extra != 1.0f) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, extra, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(dnnl::algorithm::binary_sub, a_m.get_desc(), t_m.get_desc(), dz_m.get_desc()), attr, e);
  const int scale_arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(clip > 0.0f ? 1 : 0) | DNNL_ARG_SRC_1;
  plan.Add(what, dnnl::binary(pd),
           {{DNNL_ARG_SRC_0, a_m}, {DNNL_ARG_SRC_1, t_m}, {scale_arg, scale_m}, {DNNL_ARG_DST, dz_m}});
}

}  // namespace pipeline
