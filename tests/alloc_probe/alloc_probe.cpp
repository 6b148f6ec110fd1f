// Heap allocations per training batch in steady state, counted by
// interposing malloc (counting_malloc.c), which attributes each one by its
// call stack. Our code allocates nothing per batch. oneDNN does, inside
// dnnl_primitive_execute, and no public API avoids it: a small argument map
// per primitive call (exec_ctx_t) on every CPU, and on CPUs without AVX-512
// also the packing buffers of its jit sgemm driver (~16 KB), because oneDNN
// 2.6's matmul has no brgemm kernel for AVX2 and falls back to that driver.
// The probe fails on any allocation of ours, or if the count varies between
// batches (growth), and prints both. `alloc_probe cnn` runs a small CNN
// (conv2d, both pools, flatten, dropout, dense: the batch split across two
// workers), `alloc_probe cnn_bn` the same with a batch_norm (one worker with
// oneDNN's own threads), both with Adam instead of the fused SGD step.
// `alloc_probe activations` runs the MLP with the activations that add steps
// of their own (gelu and softplus keep their pre-activation in a buffer of the
// plan, softmax runs its own primitive) and the fused ones with an alpha,
// and `alloc_probe cnn_activations` the CNN with gelu and softmax convs.
#include <cstdio>
#include <vector>

#include "engine/network.h"
#include "engine/optimizer.h"

extern "C" {
extern long g_allocations, g_bytes, g_largest, g_our_allocations, g_our_largest;
extern int g_counting;
}

using namespace pipeline;

namespace {

LayerSpec Image(const std::string& type, const std::string& name, int64_t filters = 0) {
  LayerSpec l{type, name, 0, "relu", {"he_normal"}, {"zeros"}};
  l.filters = filters;
  l.kernel = {3, 3};
  l.pool = {2, 2};
  l.padding = "same";
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string variant = argc > 1 ? argv[1] : "mlp";
  const bool cnn = variant.rfind("cnn", 0) == 0;
  Runtime runtime(2);
  NetworkSpec spec;
  spec.input = 784;
  spec.layers = {LayerSpec{"dense", "a", 256, "relu", {}, {}}, LayerSpec{"dense", "b", 256, "relu", {}, {}},
                 LayerSpec{"dense", "c", 10, "linear", {}, {}}};
  if (cnn) {
    spec.input_shape = {28, 28, 1};
    spec.layers = {Image("conv2d", "c1", 8), Image("max_pool2d", "p1"), Image("conv2d", "c2", 8),
                   Image("avg_pool2d", "p2"), Image("flatten", "f"), Image("dropout", "d"),
                   LayerSpec{"dense", "o", 10, "linear", {"glorot_uniform"}, {"zeros"}}};
    if (variant == "cnn_bn") spec.layers.insert(spec.layers.begin() + 1, Image("batch_norm", "bn"));
    if (variant == "cnn_activations") spec.layers[0].activation = "gelu", spec.layers[2].activation = "softmax";
  }
  if (variant == "activations") {
    spec.layers = {LayerSpec{"dense", "a", 256, "gelu", {}, {}}, LayerSpec{"dense", "b", 128, "softplus", {}, {}},
                   LayerSpec{"dense", "c", 64, "softmax", {}, {}}, LayerSpec{"dense", "d", 64, "leaky_relu", {}, {}},
                   LayerSpec{"dense", "e", 64, "elu", {}, {}}, LayerSpec{"dense", "f", 10, "linear", {}, {}}};
  }
  std::unique_ptr<Network> net;
  if (!Network::Create(spec, &runtime, &net).ok() || !net->Initialize(1).ok()) return 1;
  std::unique_ptr<Optimizer> opt;
  if (!CreateOptimizer(OptimizerSpec{cnn ? "adam" : "sgd"}, &opt).ok()) return 1;
  opt->Build(net->params(), runtime.engine(), runtime.threads());

  const int64_t n = 100;
  std::vector<uint8_t> images(1000 * 784), labels(n);
  for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<uint8_t>(i * 7);
  std::vector<int64_t> indices(n);
  for (int64_t i = 0; i < n; ++i) indices[i] = (i * 37) % 1000;
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  BatchPlan& plan = net->Plan(n, true);
  // The reference workload's path: SGD with on_nan: stop fuses its update.
  net->set_fuse_sgd(!cnn);
  const BatchInput input{images.data(), indices.data(), 0, 1.0f / 255.0f};
  size_t steps = 0;
  for (const auto& w : plan.workers)
    steps += w.forward.size() + w.backward.size() + (cnn ? w.param_gradients.size() : w.param_updates.size());

  auto batch = [&] { net->TrainStep(plan, labels.data(), input, *opt, 1e-4f); };
  // The CNNs' batches cost 10x the MLP's: fewer of them still show growth.
  const int warmup = cnn ? 5 : 20, measured = cnn ? 40 : 200;
  for (int i = 0; i < warmup; ++i) batch();  // warm-up: thread pool, scratchpads

  std::vector<long> per_batch;
  long bytes = 0, largest = 0, ours = 0, our_largest = 0;
  for (int i = 0; i < measured; ++i) {
    g_allocations = g_bytes = g_largest = g_our_allocations = g_our_largest = 0;
    g_counting = 1;
    batch();
    g_counting = 0;
    per_batch.push_back(g_allocations);
    bytes = std::max(bytes, g_bytes);
    largest = std::max(largest, g_largest);
    ours += g_our_allocations;
    our_largest = std::max(our_largest, g_our_largest);
  }
  long lo = per_batch[0], hi = per_batch[0];
  for (long c : per_batch) lo = std::min(lo, c), hi = std::max(hi, c);
  std::printf("steady state, %s, batch %lld, %s, %zu primitive calls per batch:\n", variant.c_str(),
              static_cast<long long>(n), cnn ? "Adam" : "fused SGD", steps);
  std::printf("  allocations per batch: min %ld max %ld; at most %ld bytes per batch; largest %ld bytes\n", lo, hi,
              bytes, largest);
  std::printf("  of which ours (not called from libdnnl), over all %d batches: %ld, largest %ld bytes\n", measured, ours,
              our_largest);
  const bool ok = ours == 0 && lo == hi;
  std::printf("%s\n", ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return ok ? 0 : 1;
}
