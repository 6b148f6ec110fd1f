#include "engine/optimizer.h"

namespace pipeline::update {

using dnnl::algorithm;
using dnnl::memory;

memory::dims Dims(const Param& p) { return memory::dims(p.dims.begin(), p.dims.end()); }

namespace {
memory::dims Ones(size_t rank) { return memory::dims(rank, 1); }
}  // namespace

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
  auto s_m = Wrap(e, Ones(p.dims.size()), scale);
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

void DivideBySqrt(Plan& plan, const dnnl::engine& e, const Param& p, float* x, float* y, float eps_in,
                  float eps_out, float* dst, const std::string& what) {
  // dst = sqrt(y + eps_in) + eps_out: one eltwise with two post-ops; then dst = x / dst.
  auto y_m = Wrap(e, Dims(p), y), d_m = Wrap(e, Dims(p), dst), x_m = Wrap(e, Dims(p), x);
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, algorithm::eltwise_sqrt, 0.0f, 0.0f);
  ops.append_eltwise(1.0f, algorithm::eltwise_linear, 1.0f, eps_out);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::eltwise_forward::primitive_desc root_pd(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, algorithm::eltwise_linear, y_m.get_desc(),
                                  1.0f, eps_in),
      attr, e);
  plan.Add(p.name + " " + what + " denominator", dnnl::eltwise_forward(root_pd),
           {{DNNL_ARG_SRC, y_m}, {DNNL_ARG_DST, d_m}});
  dnnl::binary::primitive_desc div_pd(
      dnnl::binary::desc(algorithm::binary_div, x_m.get_desc(), d_m.get_desc(), d_m.get_desc()), e);
  plan.Add(p.name + " " + what, dnnl::binary(div_pd),
           {{DNNL_ARG_SRC_0, x_m}, {DNNL_ARG_SRC_1, d_m}, {DNNL_ARG_DST, d_m}});
}

}  // namespace pipeline::update
