// The machine's GEMM speed on the exact shapes a training step multiplies,
// through oneDNN: the floor a trainer is measured against.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/network.h"

namespace pipeline::bench {

struct GemmShape {
  char transa, transb;  // row-major C[M,N] = op(A)[M,K] . op(B)[K,N]
  int64_t m, n, k;
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

// Forward, weight-gradient and (all but the first layer's) input-gradient
// products of one training step at batch size `batch`.
std::vector<GemmShape> TrainingGemms(const Network& net, int64_t batch);

// Sustained GFLOP/s of dnnl_sgemm over `shapes`, cycled for about `seconds`
// on `threads` OpenMP threads (after a warm-up).
double SgemmRate(const std::vector<GemmShape>& shapes, int threads, double seconds);

// The same shapes as oneDNN matmul primitives created once (the kind the
// engine runs), single-threaded per call when `threads` is 1.
double MatmulPrimitiveRate(const std::vector<GemmShape>& shapes, int threads, double seconds);

}  // namespace pipeline::bench

namespace pipeline::bench {

// The CNN floor: seconds of one training step of `net` at batch `batch` in
// oneDNN's own primitives alone, in the layouts it picks for
// format_tag::any (blocked): each conv2d's forward (bias and activation as
// post-ops), weight-and-bias gradient and, but for the first layer, input
// gradient; each pool's forward and backward; each dense layer's forward,
// weight-gradient and input-gradient matmuls. Run as the engine splits a
// step, on `threads` threads at once, each over its batch / threads rows,
// single-threaded primitives; nothing between them (no activation backward,
// loss, dropout, reorder or update). The median of repeated steps over about
// `seconds`.
double CnnStepFloorSeconds(const Network& net, int64_t batch, int threads, double seconds);

}  // namespace pipeline::bench
