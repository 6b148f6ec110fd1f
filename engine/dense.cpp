#include "engine/dense.h"

#include "common/strings.h"

namespace pipeline {

using dnnl::memory;
using tag = memory::format_tag;

PIPELINE_REGISTER(LayerRegistry, dense, 0, &DenseLayer::Create);

Status DenseLayer::Create(const LayerSpec& spec, const Shape& in, std::unique_ptr<Layer>* out) {
  // A dense layer reads flat rows; Keras would apply it to the last axis of an
  // image, which is rarely what a config means, so it asks for a flatten.
  if (in.size() != 1) {
    return Status::InvalidArgument("layer " + spec.name + " (dense) cannot follow input of shape " + LayerShapeString(in) +
                                   ": it needs flat rows; add a flatten layer before it");
  }
  if (spec.units < 1) {
    return Status::InvalidArgument("layer " + spec.name + ": units must be >= 1, got " +
                                   std::to_string(spec.units));
  }
  Activation act;
  if (!LookupActivation(spec.activation, &act)) {
    return Status::InvalidArgument("layer " + spec.name + ": Unknown activation: " + spec.activation +
                                   " (known: " + Join(ActivationNames(), ", ") + ")");
  }
  out->reset(new DenseLayer(spec, in[0], act));
  return Status::Ok();
}

DenseLayer::DenseLayer(const LayerSpec& spec, int64_t in, const Activation& act)
    : spec_(spec), in_(in), out_(spec.units), in_shape_{in}, out_shape_{spec.units}, act_(act) {
  kernel_ = {spec.name + "/kernel", {in_, out_}, std::vector<float>(in_ * out_), std::vector<float>(in_ * out_)};
  bias_ = {spec.name + "/bias", {out_}, std::vector<float>(out_), std::vector<float>(out_)};
}

Status DenseLayer::Initialize(Rng& rng) {
  PIPELINE_RETURN_IF_ERROR(pipeline::Initialize(spec_.kernel_init, in_, out_, rng, kernel_.value.data(), kernel_.size()));
  return pipeline::Initialize(spec_.bias_init, in_, out_, rng, bias_.value.data(), bias_.size());
}

void DenseLayer::AddForward(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* y) {
  const int64_t n = r.n;
  // x [n,in] . W [in,out] + b [1,out] -> act -> y [n,out]
  auto x_m = Wrap(e, {n, in_}, x);
  auto w_m = Wrap(e, {in_, out_}, kernel_.value.data());
  auto b_m = Wrap(e, {1, out_}, bias_.value.data());
  // The activation: fused as a post-op, or steps of its own after the matmul
  // (kept for the backward of these rows).
  const ActivationSteps& act = act_steps_[x] = ActivationSteps(act_, e, RowMajor({n, out_}), y, r.training);
  dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(x_m.get_desc(), w_m.get_desc(), b_m.get_desc(), RowMajor({n, out_})),
      act.Fused(dnnl::primitive_attr()), e);
  plan.Add(spec_.name + " forward", dnnl::matmul(pd),
           {{DNNL_ARG_SRC, x_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_BIAS, b_m}, {DNNL_ARG_DST, act.primitive_dst()}});
  act.AddForward(plan, e, spec_.name);
}

void DenseLayer::AddBackwardData(Plan& plan, const dnnl::engine& e, const BatchRows& r, float* x, float* /*y*/,
                                 float* dy, float* dx) {
  const int64_t n = r.n;
  auto dy_m = Wrap(e, {n, out_}, dy);

  // dz = dy * act'(z), in place of dy.
  act_steps_.at(x).AddBackward(plan, e, spec_.name, dy);

  // dx [n,in] = dz [n,out] . W^T [out,in]; W^T is a strided view of W.
  if (dx != nullptr) {
    memory::desc wt_md({out_, in_}, memory::data_type::f32, memory::dims{1, out_});
    auto wt_m = memory(wt_md, e, kernel_.value.data());
    auto dx_m = Wrap(e, {n, in_}, dx);
    dnnl::matmul::primitive_desc dx_pd(dnnl::matmul::desc(dy_m.get_desc(), wt_md, dx_m.get_desc()), e);
    plan.Add(spec_.name + " input gradient", dnnl::matmul(dx_pd),
             {{DNNL_ARG_SRC, dy_m}, {DNNL_ARG_WEIGHTS, wt_m}, {DNNL_ARG_DST, dx_m}});
  }
}

void DenseLayer::AddParamGradient(Plan& plan, const dnnl::engine& e, int64_t n, float* x, float* xt, float* dz,
                                  size_t p, const RowRange& r, bool into_value) {
  auto dz_m = Wrap(e, {n, out_}, dz);
  // into_value: dst += product, a sum post-op over the parameter itself.
  dnnl::primitive_attr attr;
  if (into_value) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  Param& param = p == 0 ? kernel_ : bias_;
  float* dst = (into_value ? param.value.data() : param.grad.data()) + r.offset;
  const std::string what = spec_.name + (p == 0 ? " weight" : " bias") + (into_value ? " update" : " gradient");
  if (p == 0) {
    // Rows r of dW: dW[r,:] [rows,out] = x[:,r]^T [rows,n] . dz [n,out].
    // x[:,r]^T is a dense transposed view of x when r is all rows, else dense
    // rows of xt. (A strided view of x would also do, but oneDNN 2.6 runs it
    // through gemm:jit, which allocates a packing buffer on every call.)
    memory::desc a_md = r.rows == in_ ? memory::desc({in_, n}, memory::data_type::f32, tag::ba)
                        : xt          ? memory::desc({r.rows, n}, memory::data_type::f32, tag::ab)
                                      : memory::desc({r.rows, n}, memory::data_type::f32, memory::dims{1, in_});
    float* a = r.rows == in_ ? x : xt ? xt + r.row_begin * n : x + r.row_begin;
    auto a_m = memory(a_md, e, a);
    auto dw_m = Wrap(e, {r.rows, out_}, dst);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, dz_m.get_desc(), dw_m.get_desc()), attr, e);
    plan.Add(what, dnnl::matmul(pd), {{DNNL_ARG_SRC, a_m}, {DNNL_ARG_WEIGHTS, dz_m}, {DNNL_ARG_DST, dw_m}});
    return;
  }
  // Columns c of db: db[c] [1,cols] = 1^T [1,n] . dz[:,c] [n,cols].
  auto& ones = ones_[n];
  ones.assign(n, 1.0f);
  auto ones_m = Wrap(e, {1, n}, ones.data());
  memory::desc dzc_md({n, r.rows}, memory::data_type::f32, memory::dims{out_, 1});
  auto dzc_m = memory(dzc_md, e, dz + r.row_begin);
  auto db_m = Wrap(e, {1, r.rows}, dst);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ones_m.get_desc(), dzc_md, db_m.get_desc()), attr, e);
  plan.Add(what, dnnl::matmul(pd), {{DNNL_ARG_SRC, ones_m}, {DNNL_ARG_WEIGHTS, dzc_m}, {DNNL_ARG_DST, db_m}});
}

}  // namespace pipeline
