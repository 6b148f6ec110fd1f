#include "bench/gemm_rate.h"

#include <omp.h>

#include <algorithm>
#include <chrono>

#include "engine/plan.h"

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

}  // namespace pipeline::bench
