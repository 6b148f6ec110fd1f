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

void Multiply(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* x, float* y, float* dst) {
  auto x_m = View(e, len, x), y_m = View(e, len, y), d_m = View(e, len, dst);
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_mul, x_m.get_desc(), y_m.get_desc(), d_m.get_desc()), e);
  plan.Add(name + " multiply", dnnl::binary(pd), {{DNNL_ARG_SRC_0, x_m}, {DNNL_ARG_SRC_1, y_m}, {DNNL_ARG_DST, d_m}});
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

void DivideBySqrt(Plan& plan, const dnnl::engine& e, const std::string& name, int64_t len, float* x, float* y,
                  float eps, EpsilonPlace place, float* dst) {
  // The denominator in jit kernels only: oneDNN 2.6 has no jit eltwise with a
  // post-op, and its reference one took 8.7 ms a step on a 401,408-element
  // slice (AVX-512), two thirds of the CNN's step. So: sqrt(y + eps) is one
  // binary add of a broadcast eps with a sqrt post-op; sqrt(y) + eps is a
  // plain sqrt, then that add. The same operations in the same order as one
  // eltwise with a post-op, so the same numbers.
  auto y_m = View(e, len, y), d_m = View(e, len, dst), x_m = View(e, len, x);
  memory eps_m(RowMajor({1, 1}), e);  // owned by the memory object, kept alive by the plan
  *static_cast<float*>(eps_m.get_data_handle()) = eps;
  auto add_eps = [&](const memory& from, const dnnl::primitive_attr& attr) {
    dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(algorithm::binary_add, from.get_desc(), eps_m.get_desc(), d_m.get_desc()), attr, e);
    plan.Add(name + " denominator", dnnl::binary(pd), {{DNNL_ARG_SRC_0, from}, {DNNL_ARG_SRC_1, eps_m}, {DNNL_ARG_DST, d_m}});
  };
  if (place == EpsilonPlace::kInsideRoot) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_sqrt, 0.0f, 0.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    add_eps(y_m, attr);
  } else {
    dnnl::eltwise_forward::primitive_desc root_pd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, algorithm::eltwise_sqrt, y_m.get_desc(),
                                    0.0f, 0.0f),
        e);
    plan.Add(name + " root", dnnl::eltwise_forward(root_pd), {{DNNL_ARG_SRC, y_m}, {DNNL_ARG_DST, d_m}});
    add_eps(d_m, dnnl::primitive_attr());
  }
  dnnl::binary::primitive_desc div_pd(
      dnnl::binary::desc(algorithm::binary_div, x_m.get_desc(), d_m.get_desc(), d_m.get_desc()), e);
  plan.Add(name + " divide", dnnl::binary(div_pd), {{DNNL_ARG_SRC_0, x_m}, {DNNL_ARG_SRC_1, d_m}, {DNNL_ARG_DST, d_m}});
}

}  // namespace pipeline::update
