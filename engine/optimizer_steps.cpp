#include "engine/optimizer.h"

namespace pipeline::update {

using dnnl::algorithm;
using dnnl::memory;

// Every parameter as a 2-D tensor (a bias [n] as [1, n]): oneDNN 2.6's
// eltwise with post-ops returned NaN for some 1-D tensors (0/(0+eps) as 0/0).
memory::dims Dims(const Param& p) {
  if (p.dims.size() == 1) return {1, p.dims[0]};
  return memory::dims(p.dims.begin(), p.dims.end());
}


void Axpby(Plan& plan, const dnnl::engine& e, const Param& p, float a, float* x, float b, float* y, float* dst,
           const std::string& what) {
  auto x_m = Wrap(e, Dims(p), x), y_m = Wrap(e, Dims(p), y), d_m = Wrap(e, Dims(p), dst);
  dnnl::sum::primitive_desc pd(d_m.get_desc(), {a, b}, {x_m.get_desc(), y_m.get_desc()}, e);
  plan.Add(p.name + " " + what, dnnl::sum(pd),
           {{DNNL_ARG_MULTIPLE_SRC, x_m}, {DNNL_ARG_MULTIPLE_SRC + 1, y_m}, {DNNL_ARG_DST, d_m}});
}

void Multiply(Plan& plan, const dnnl::engine& e, const Param& p, float* x, float* y, float* dst,
              const std::string& what) {
  auto x_m = Wrap(e, Dims(p), x), y_m = Wrap(e, Dims(p), y), d_m = Wrap(e, Dims(p), dst);
  dnnl::binary::primitive_desc pd(
      dnnl::binary::desc(algorithm::binary_mul, x_m.get_desc(), y_m.get_desc(), d_m.get_desc()), e);
  plan.Add(p.name + " " + what, dnnl::binary(pd),
           {{DNNL_ARG_SRC_0, x_m}, {DNNL_ARG_SRC_1, y_m}, {DNNL_ARG_DST, d_m}});
}

void ScaledAdd(Plan& plan, const dnnl::engine& e, Param& p, float* direction, float* scale) {
  // direction *= scale (broadcast of the runtime scalar), then value += direction.
  auto d_m = Wrap(e, Dims(p), direction);
  auto s_m = Wrap(e, memory::dims(Dims(p).size(), 1), scale);
  dnnl::binary::primitive_desc mul_pd(
      dnnl::binary::desc(algorithm::binary_mul, d_m.get_desc(), s_m.get_desc(), d_m.get_desc()), e);
  plan.Add(p.name + " scale update", dnnl::binary(mul_pd),
           {{DNNL_ARG_SRC_0, d_m}, {DNNL_ARG_SRC_1, s_m}, {DNNL_ARG_DST, d_m}});
  auto v_m = Wrap(e, Dims(p), p.value.data());
  dnnl::binary::primitive_desc add_pd(
      dnnl::binary::desc(algorithm::binary_add, v_m.get_desc(), d_m.get_desc(), v_m.get_desc()), e);
  plan.Add(p.name + " apply update", dnnl::binary(add_pd),
           {{DNNL_ARG_SRC_0, v_m}, {DNNL_ARG_SRC_1, d_m}, {DNNL_ARG_DST, v_m}});
}

void DivideBySqrt(Plan& plan, const dnnl::engine& e, const Param& p, float* x, float* y, float eps,
                  EpsilonPlace place, float* dst, const std::string& what) {
  // The denominator is one eltwise primitive with one post-op: linear(y + eps)
  // then sqrt, or sqrt(y) then linear(+ eps).
  auto y_m = Wrap(e, Dims(p), y), d_m = Wrap(e, Dims(p), dst), x_m = Wrap(e, Dims(p), x);
  const bool inside = place == EpsilonPlace::kInsideRoot;
  dnnl::post_ops ops;
  if (inside) {
    ops.append_eltwise(1.0f, algorithm::eltwise_sqrt, 0.0f, 0.0f);
  } else {
    ops.append_eltwise(1.0f, algorithm::eltwise_linear, 1.0f, eps);
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::eltwise_forward::primitive_desc root_pd(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                  inside ? algorithm::eltwise_linear : algorithm::eltwise_sqrt, y_m.get_desc(),
                                  inside ? 1.0f : 0.0f, inside ? eps : 0.0f),
      attr, e);
  plan.Add(p.name + " " + what + " denominator", dnnl::eltwise_forward(root_pd),
           {{DNNL_ARG_SRC, y_m}, {DNNL_ARG_DST, d_m}});
  dnnl::binary::primitive_desc div_pd(
      dnnl::binary::desc(algorithm::binary_div, x_m.get_desc(), d_m.get_desc(), d_m.get_desc()), e);
  plan.Add(p.name + " " + what, dnnl::binary(div_pd),
           {{DNNL_ARG_SRC_0, x_m}, {DNNL_ARG_SRC_1, d_m}, {DNNL_ARG_DST, d_m}});
}

}  // namespace pipeline::update
