#include "bench/gemm_rate.h"

#include <omp.h>

#include <algorithm>
#include <chrono>

#include "engine/activation.h"
#include "engine/plan.h"
#include "engine/runtime.h"

namespace pipeline::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `step` (one pass over all shapes, `flops` of work) for ~seconds.
template <class F>
double Rate(F step, double flops, double seconds) {
  for (int i = 0; i < 20; ++i) step();  // warm caches, JIT and thread pool
  int64_t iterations = 0;
  const auto start = Clock::now();
  double elapsed = 0.0;
  do {
    for (int i = 0; i < 10; ++i) step();
    iterations += 10;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return flops * static_cast<double>(iterations) / elapsed / 1e9;
}

size_t MaxElements(const std::vector<GemmShape>& shapes) {
  size_t most = 0;
  for (const auto& s : shapes) most = std::max<size_t>({most, size_t(s.m * s.k), size_t(s.k * s.n), size_t(s.m * s.n)});
  return most;
}

double TotalFlops(const std::vector<GemmShape>& shapes) {
  double f = 0.0;
  for (const auto& s : shapes) f += s.flops();
  return f;
}

}  // namespace

std::vector<GemmShape> TrainingGemms(const Network& net, int64_t batch) {
  std::vector<GemmShape> shapes;
  const auto& layers = net.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const int64_t in = layers[i]->in_features(), out = layers[i]->out_features();
    shapes.push_back({'N', 'N', batch, out, in});                // y = x W
    shapes.push_back({'T', 'N', in, out, batch});                // dW = x^T dz
    if (i > 0) shapes.push_back({'N', 'T', batch, in, out});     // dx = dz W^T
  }
  return shapes;
}

double SgemmRate(const std::vector<GemmShape>& shapes, int threads, double seconds) {
  omp_set_num_threads(threads);
  const size_t most = MaxElements(shapes);
  std::vector<float> a(most, 0.5f), b(most, 0.25f), c(most, 0.0f);
  auto step = [&] {
    for (const auto& s : shapes) {
      const int64_t lda = s.transa == 'N' ? s.k : s.m, ldb = s.transb == 'N' ? s.n : s.k;
      dnnl_sgemm(s.transa, s.transb, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), s.n);
    }
  };
  return Rate(step, TotalFlops(shapes), seconds);
}

double MatmulPrimitiveRate(const std::vector<GemmShape>& shapes, int threads, double seconds) {
  omp_set_num_threads(threads);
  dnnl::engine e(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(e);
  const size_t most = MaxElements(shapes);
  std::vector<float> a(most, 0.5f), b(most, 0.25f), c(most, 0.0f);
  Plan plan;
  for (const auto& g : shapes) {
    using dnnl::memory;
    // A transposed operand is a strided view, as the engine uses them.
    memory::desc a_md = g.transa == 'N' ? RowMajor({g.m, g.k}) : memory::desc({g.m, g.k}, memory::data_type::f32, memory::dims{1, g.m});
    memory::desc b_md = g.transb == 'N' ? RowMajor({g.k, g.n}) : memory::desc({g.k, g.n}, memory::data_type::f32, memory::dims{1, g.k});
    memory::desc c_md = RowMajor({g.m, g.n});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), e);
    plan.Add("gemm", dnnl::matmul(pd),
             {{DNNL_ARG_SRC, memory(a_md, e, a.data())}, {DNNL_ARG_WEIGHTS, memory(b_md, e, b.data())},
              {DNNL_ARG_DST, memory(c_md, e, c.data())}});
  }
  auto step = [&] {
    plan.Execute(s);
    s.wait();
  };
  return Rate(step, TotalFlops(shapes), seconds);
}

namespace {

using dnnl::memory;
using tag = memory::format_tag;

memory::desc Any(const memory::dims& d) { return memory::desc(d, memory::data_type::f32, tag::any); }

// Appends one primitive with fresh buffers of the layouts it chose.
template <class Pd, class Prim>
void AddFloorStep(Plan& plan, const dnnl::engine& e, const std::string& what, const Pd& pd,
                  std::initializer_list<std::pair<int, memory::desc>> args) {
  ArgMap m;
  for (const auto& [arg, md] : args) m[arg] = memory(md, e);
  m[DNNL_ARG_SCRATCHPAD] = memory(pd.scratchpad_desc(), e);
  plan.Add(what, Prim(pd), std::move(m));
}

// One worker's floor plan over n rows.
Plan FloorPlan(const Network& net, const dnnl::engine& e, int64_t n) {
  Plan plan;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  memory::desc src;  // the previous image layer's output, in its chosen layout
  const auto& layers = net.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = *layers[i];
    const LayerSpec& s = l.spec();
    const Shape& in = l.in_shape();
    const Shape& out = l.out_shape();
    if (s.type == "conv2d" || s.type == "max_pool2d" || s.type == "avg_pool2d") {
      const bool conv = s.type == "conv2d";
      const std::vector<int64_t> window = conv ? s.kernel : s.pool;
      const std::vector<int64_t> strides = !s.strides.empty() ? s.strides : conv ? std::vector<int64_t>{1, 1} : s.pool;
      int64_t hw[2], pl[2], pr[2];
      if (!WindowOutputs2d(s.name, in, "window", window, strides, s.padding, hw, pl, pr).ok()) continue;
      const memory::dims x_dims{n, in[2], in[0], in[1]}, y_dims{n, out[2], out[0], out[1]};
      if (!src || src.dims() != x_dims) src = Any(x_dims);
      const memory::dims st{strides[0], strides[1]}, pad_l{pl[0], pl[1]}, pad_r{pr[0], pr[1]};
      if (conv) {
        const memory::dims w_dims{s.filters, in[2], window[0], window[1]};
        const memory::desc b_md({s.filters}, memory::data_type::f32, tag::a);
        dnnl::primitive_attr fwd_attr;
        fwd_attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
        Activation act;
        if (LookupActivation(s.activation, &act)) fwd_attr = WithPostOp(act, true, fwd_attr);
        // The layouts oneDNN picks; where that leaves one of the three on a
        // reference kernel (oneDNN 2.6 on AVX2: a 1-channel input's weight
        // gradient), plain NHWC activations with its weight layout instead.
        dnnl::convolution_forward::primitive_desc f;
        dnnl::convolution_backward_weights::primitive_desc w;
        dnnl::convolution_backward_data::primitive_desc d;
        for (bool plain : {false, true}) {
          const memory::desc x_md = plain ? memory::desc(x_dims, memory::data_type::f32, tag::nhwc) : src;
          const memory::desc y_md = plain ? memory::desc(y_dims, memory::data_type::f32, tag::nhwc) : Any(y_dims);
          f = dnnl::convolution_forward::primitive_desc(
              dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                              x_md, Any(w_dims), b_md, y_md, st, pad_l, pad_r),
              fwd_attr, e);
          w = dnnl::convolution_backward_weights::primitive_desc(
              dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, f.src_desc(), Any(w_dims),
                                                       b_md, f.dst_desc(), st, pad_l, pad_r),
              attr, e, f);
          bool ref = IsReferenceKernel(f.impl_info_str()) || IsReferenceKernel(w.impl_info_str());
          if (i > 0) {
            d = dnnl::convolution_backward_data::primitive_desc(
                dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, f.src_desc(), Any(w_dims),
                                                      f.dst_desc(), st, pad_l, pad_r),
                attr, e, f);
            ref = ref || IsReferenceKernel(d.impl_info_str());
          }
          if (!ref) break;
        }
        AddFloorStep<decltype(f), dnnl::convolution_forward>(
            plan, e, s.name + " forward", f,
            {{DNNL_ARG_SRC, f.src_desc()}, {DNNL_ARG_WEIGHTS, f.weights_desc()}, {DNNL_ARG_BIAS, b_md},
             {DNNL_ARG_DST, f.dst_desc()}});
        AddFloorStep<decltype(w), dnnl::convolution_backward_weights>(
            plan, e, s.name + " weight gradient", w,
            {{DNNL_ARG_SRC, w.src_desc()}, {DNNL_ARG_DIFF_DST, w.diff_dst_desc()},
             {DNNL_ARG_DIFF_WEIGHTS, w.diff_weights_desc()}, {DNNL_ARG_DIFF_BIAS, b_md}});
        if (i > 0) {
          AddFloorStep<decltype(d), dnnl::convolution_backward_data>(
              plan, e, s.name + " input gradient", d,
              {{DNNL_ARG_DIFF_DST, d.diff_dst_desc()}, {DNNL_ARG_WEIGHTS, d.weights_desc()},
               {DNNL_ARG_DIFF_SRC, d.diff_src_desc()}});
        }
        src = f.dst_desc();
      } else {
        const auto alg = s.type == "max_pool2d" ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
        const memory::dims win{window[0], window[1]};
        if (src.data.format_kind == dnnl_format_kind_any) src = memory::desc(x_dims, memory::data_type::f32, tag::nhwc);
        dnnl::pooling_forward::primitive_desc f(
            dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, alg, src, Any(y_dims), st, win, pad_l, pad_r),
            attr, e);
        memory ws = memory(f.workspace_desc(), e);
        plan.Add(s.name + " forward", dnnl::pooling_forward(f),
                 {{DNNL_ARG_SRC, memory(src, e)}, {DNNL_ARG_DST, memory(f.dst_desc(), e)}, {DNNL_ARG_WORKSPACE, ws},
                  {DNNL_ARG_SCRATCHPAD, memory(f.scratchpad_desc(), e)}});
        dnnl::pooling_backward::primitive_desc b(
            dnnl::pooling_backward::desc(alg, src, f.dst_desc(), st, win, pad_l, pad_r), attr, e, f);
        plan.Add(s.name + " input gradient", dnnl::pooling_backward(b),
                 {{DNNL_ARG_DIFF_DST, memory(f.dst_desc(), e)}, {DNNL_ARG_DIFF_SRC, memory(src, e)},
                  {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_SCRATCHPAD, memory(b.scratchpad_desc(), e)}});
        src = f.dst_desc();
      }
      continue;
    }
    if (s.type != "dense") continue;
    // y = x W, dW = x^T dz, dx = dz W^T: the engine's matmuls (engine/dense.cpp).
    const int64_t a = l.in_features(), b = l.out_features();
    const memory::desc x_md = RowMajor({n, a}), w_md = RowMajor({a, b}), y_md = RowMajor({n, b});
    const memory::desc xt_md({a, n}, memory::data_type::f32, memory::dims{1, a});
    const memory::desc wt_md({b, a}, memory::data_type::f32, memory::dims{1, b});
    auto matmul = [&](const std::string& what, const memory::desc& s0, const memory::desc& s1, const memory::desc& d) {
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(s0, s1, d), attr, e);
      AddFloorStep<decltype(pd), dnnl::matmul>(plan, e, what, pd,
                                               {{DNNL_ARG_SRC, s0}, {DNNL_ARG_WEIGHTS, s1}, {DNNL_ARG_DST, d}});
    };
    matmul(s.name + " forward", x_md, w_md, y_md);
    matmul(s.name + " weight gradient", xt_md, y_md, w_md);
    if (i > 0) matmul(s.name + " input gradient", y_md, wt_md, x_md);
  }
  return plan;
}

}  // namespace

double CnnStepFloorSeconds(const Network& net, int64_t batch, int threads, double seconds) {
  dnnl::engine e(dnnl::engine::kind::cpu, 0);
  const int workers = WorkersFor(batch, threads);
  std::vector<Plan> plans;
  std::vector<dnnl::stream> streams;
  {
    // Run one per thread inside the region below, as the engine's workers are.
    const OneOmpThreadWhileCreating one_thread(workers > 1);
    for (int k = 0; k < workers; ++k) {
      plans.push_back(FloorPlan(net, e, batch * (k + 1) / workers - batch * k / workers));
      streams.emplace_back(e);
    }
  }
  std::vector<double> steps;
  const auto start = Clock::now();
  for (int i = 0; i < 3 || std::chrono::duration<double>(Clock::now() - start).count() < seconds; ++i) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(workers)
    {
      const int k = omp_get_thread_num();
      FlushDenormals();  // as the engine's workers do
      plans[k].Execute(streams[k]);
      streams[k].wait();
    }
    if (i >= 2) steps.push_back(std::chrono::duration<double>(Clock::now() - t0).count());  // after 2 warm-ups
  }
  std::sort(steps.begin(), steps.end());
  return steps[steps.size() / 2];
}

}  // namespace pipeline::bench
