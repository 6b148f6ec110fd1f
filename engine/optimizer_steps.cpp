#include "engine/optimizer.h"

namespace pipeline::update {

using dnnl::algorithm;
using dnnl::memory;

namespace {

// Every slice as a 2-D [1, len] tensor: oneDNN 2.6's eltwise with post-ops
// returned NaN for some 1-D tensors (0/(0+eps) as 0/0).
dnnl::memory View(const dnnl::engine& e, int64_t len, float* data) { return Wrap(e, {1, len}, data); }

}  // namespace

void Axpby(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float a, float* x, float b,
           float* y, float* dst) {
  // A binary add with a scale on each source: a third of the time of the sum
  // primitive, whose generic implementation oneDNN 2.6 picks here.
  auto x_m = View(e, len, x), y_m = View(e, len, y), d_m = View(e, len, dst);
  dnnl::primitive_attr attr;
  attr.set_scales(DNNL_ARG_SRC_0, 0, {a});
  attr.set_scales(DNNL_ARG_SRC_1, 0, {b});
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_add, x_m.get_desc(), y_m.get_desc(), d_m.get_desc()), attr, e);
  plan.Add(name + " axpby", dnnl::binary(pd), {{DNNL_ARG_SRC_0, x_m}, {DNNL_ARG_SRC_1, y_m}, {DNNL_ARG_DST, d_m}});
}

void AddScaledSquare(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float a, float* dst,
                     float b, float* g) {
  // One pass: a multiply whose first source carries b, and a sum post-op
  // that adds a * dst, instead of a multiply into scratch and an axpby.
  auto g_m = View(e, len, g), d_m = View(e, len, dst);
  dnnl::primitive_attr attr;
  attr.set_scales(DNNL_ARG_SRC_0, 0, {b});
  dnnl::post_ops ops;
  ops.append_sum(a);
  attr.set_post_ops(ops);
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_mul, g_m.get_desc(), g_m.get_desc(), d_m.get_desc()), attr, e);
  plan.Add(name + " add scaled square", dnnl::binary(pd), {{DNNL_ARG_SRC_0, g_m}, {DNNL_ARG_SRC_1, g_m}, {DNNL_ARG_DST, d_m}});
}

void ScaledAdd(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* value,
               float* direction, float* scale) {
  // value = value + scale * direction: one binary add whose second source
  // carries a runtime scale. A broadcast multiply with an add post-op took
  // three times as long (41 vs 13 us a 100k slice, one core).
  auto d_m = View(e, len, direction), v_m = View(e, len, value);
  auto s_m = dnnl::memory(RowMajor({1}), e, scale);
  dnnl::primitive_attr attr;
  attr.set_scales(DNNL_ARG_SRC_1, 0, {DNNL_RUNTIME_F32_VAL});
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_add, v_m.get_desc(), d_m.get_desc(), v_m.get_desc()), attr, e);
  plan.Add(name + " apply update", dnnl::binary(pd),
           {{DNNL_ARG_SRC_0, v_m},
            {DNNL_ARG_SRC_1, d_m},
            {DNNL_ARG_ATTR_INPUT_SCALES | DNNL_ARG_SRC_1, s_m},
            {DNNL_ARG_DST, v_m}});
}

void RootDenominator(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* y, float eps,
                     EpsilonPlace place, float* dst) {
  // One pass of jit kernels: oneDNN 2.6 has no jit eltwise with a post-op,
  // and its reference one took 8.7 ms a step on a 401,408-element slice
  // (AVX-512), two thirds of the CNN's step. So a binary add of a broadcast
  // scalar carries the root as a post-op: y + eps then sqrt, or y + 0 (which
  // is y) then sqrt then + eps. The same operations in the same order as a
  // sqrt and an add, so the same numbers.
  auto y_m = View(e, len, y), d_m = View(e, len, dst);
  memory addend(RowMajor({1, 1}), e);  // owned by the memory object, kept alive by the plan
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, algorithm::eltwise_sqrt, 0.0f, 0.0f);
  if (place == EpsilonPlace::kInsideRoot) {
    *static_cast<float*>(addend.get_data_handle()) = eps;
  } else {
    *static_cast<float*>(addend.get_data_handle()) = 0.0f;
    ops.append_eltwise(1.0f, algorithm::eltwise_linear, 1.0f, eps);
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_add, y_m.get_desc(), addend.get_desc(), d_m.get_desc()), attr, e);
  plan.Add(name + " denominator", dnnl::binary(pd), {{DNNL_ARG_SRC_0, y_m}, {DNNL_ARG_SRC_1, addend}, {DNNL_ARG_DST, d_m}});
}

void ClipAndDecay(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* g, float* w,
                  float decay, float* clip) {
  auto g_m = View(e, len, g);
  dnnl::primitive_attr attr;
  ArgMap args{{DNNL_ARG_SRC_0, g_m}, {DNNL_ARG_DST, g_m}};
  dnnl::memory::desc second;
  if (decay > 0.0f) {
    // g = clip * g + decay * w: one add with a scale on each source.
    auto w_m = View(e, len, w);
    second = w_m.get_desc();
    args[DNNL_ARG_SRC_1] = w_m;
    if (clip) attr.set_scales(DNNL_ARG_SRC_0, 0, {DNNL_RUNTIME_F32_VAL});
    attr.set_scales(DNNL_ARG_SRC_1, 0, {decay});
  } else {
    // g = clip * g: a multiply by the broadcast runtime scalar.
    auto c_m = memory(RowMajor({1, 1}), e, clip);
    second = c_m.get_desc();
    args[DNNL_ARG_SRC_1] = c_m;
  }
  if (clip && decay > 0.0f) args[DNNL_ARG_ATTR_INPUT_SCALES | DNNL_ARG_SRC_0] = memory(RowMajor({1}), e, clip);
  dnnl::binary::primitive_desc pd(dnnl::binary::desc(decay > 0.0f ? algorithm::binary_add : algorithm::binary_mul,
                                                     g_m.get_desc(), second, g_m.get_desc()),
                                  attr, e);
  plan.Add(name + (decay > 0.0f ? (clip ? " clip and decay" : " decay") : " clip"), dnnl::binary(pd), std::move(args));
}

void AddScaledQuotient(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* value,
                       float* x, float* denominator, float* scale) {
  // value += (scale * x) / denominator in one pass: a divide whose first
  // source carries the runtime scale, and a sum post-op onto value.
  auto x_m = View(e, len, x), q_m = View(e, len, denominator), v_m = View(e, len, value);
  auto s_m = dnnl::memory(RowMajor({1}), e, scale);
  dnnl::primitive_attr attr;
  attr.set_scales(DNNL_ARG_SRC_0, 0, {DNNL_RUNTIME_F32_VAL});
  dnnl::post_ops ops;
  ops.append_sum(1.0f);
  attr.set_post_ops(ops);
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_div, x_m.get_desc(), q_m.get_desc(), v_m.get_desc()), attr, e);
  plan.Add(name + " apply quotient", dnnl::binary(pd),
           {{DNNL_ARG_SRC_0, x_m},
            {DNNL_ARG_SRC_1, q_m},
            {DNNL_ARG_ATTR_INPUT_SCALES | DNNL_ARG_SRC_0, s_m},
            {DNNL_ARG_DST, v_m}});
}

}  // namespace pipeline::update
