// A sequential network ending in softmax cross-entropy. For each batch size it
// compiles a BatchPlan once: the buffers that flow between layers and the
// primitive lists over them.
//
// A batch is split by rows across worker threads: each worker runs its own
// single-threaded primitives on its slice of the shared buffers and writes its
// own copy of the parameter gradients, which one sum primitive then reduces.
// Small GEMMs thread poorly; whole GEMMs per thread do not (docs/performance.md).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "common/status.h"
#include "engine/layer.h"
#include "engine/runtime.h"

namespace pipeline {

struct NetworkSpec {
  int64_t input = 0;                 // features per example
  std::vector<LayerSpec> layers;     // the last layer's units are the classes
};

// Where a batch's input rows come from: uint8 examples that each worker
// converts (x * scale) into its own rows of the plan's input as it starts, so
// gathering runs in parallel and needs no reorder primitive.
struct BatchInput {
  const uint8_t* examples = nullptr;  // [*, features] row-major
  const int64_t* indices = nullptr;   // the batch's example indices; null: contiguous from `first`
  int64_t first = 0;
  float scale = 1.0f;
  // The next batch's indices (optional): TrainStep prefetches those rows into
  // cache while it reduces and updates, instead of missing on them next time.
  const int64_t* next = nullptr;
  int64_t next_count = 0;
};

// The rows [begin, begin + rows) of a batch, run by one thread.
struct WorkerPlan {
  int64_t begin = 0, rows = 0;
  std::vector<std::vector<float>> grads;   // per param; worker 0 writes Param::grad directly instead
  Plan forward;                            // its rows: input -> logits -> logp
  Plan backward;                           // its rows: logp, onehot -> its gradients
};

struct BatchPlan {
  int64_t n = 0;
  bool training = false;
  std::vector<float> input;                 // [n, input]
  std::vector<std::vector<float>> act;      // act[i]: layer i's output [n, out_i]; act.back() = logits
  std::vector<std::vector<float>> dact;     // dL/d act[i] (training)
  std::vector<float> logp;                  // [n, classes] log-probabilities
  std::vector<float> onehot;                // [n, classes] (training)
  std::vector<WorkerPlan> workers;
  // reduce[k]: worker k's element slice of every Param::grad += the other
  // workers' copies (the same slices its optimizer update covers).
  std::vector<Plan> reduce;
  std::vector<double> loss_sums;            // per worker: sum of its rows' losses
  std::vector<char> slice_finite;           // per worker: its gradient slices are finite
};

struct TrainStepResult {
  double loss = 0.0;          // mean cross-entropy of the batch
  bool loss_finite = true;
  bool gradients_finite = true;
  bool applied() const { return loss_finite && gradients_finite; }
};

class Optimizer;

class Network {
 public:
  static Status Create(const NetworkSpec& spec, Runtime* runtime, std::unique_ptr<Network>* out);

  // Draws every parameter from its initializer, in layer order, from `seed`.
  Status Initialize(uint64_t seed);

  const NetworkSpec& spec() const { return spec_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  std::vector<Param*> params();
  int64_t input_features() const { return spec_.input; }
  int64_t classes() const { return layers_.back()->out_features(); }
  int64_t ParameterCount() const;
  int64_t InferenceFlopsPerExample() const;
  // Forward, weight gradients, and input gradients of all layers but the first.
  int64_t TrainingFlopsPerExample() const;

  // The compiled plan for batch size n, created on first use.
  BatchPlan& Plan(int64_t n, bool training);

  // Runs the forward plan; logits in plan.act.back(), log-probs in plan.logp.
  // With `input`, the rows are first gathered into plan.input.
  void Forward(BatchPlan& plan, const BatchInput* input = nullptr);
  // Forward + backward for one batch (labels < classes); fills every grad and
  // returns the mean cross-entropy. Parameters are not changed.
  double ForwardBackward(BatchPlan& plan, const uint8_t* labels, const BatchInput* input = nullptr);

  // One training step in a single parallel region: forward and backward by
  // rows, then each worker reduces, checks and updates its own element slice
  // of every parameter. The update is applied (and counted as an optimizer
  // step) only when the loss and every gradient are finite. `opt` must have
  // been built over params() with runtime().threads() workers.
  TrainStepResult TrainStep(BatchPlan& plan, const uint8_t* labels, const BatchInput& input, Optimizer& opt, float lr);

  Runtime& runtime() { return *runtime_; }

 private:
  Network(const NetworkSpec& spec, Runtime* runtime) : spec_(spec), runtime_(runtime) {}
  void Compile(BatchPlan& plan);
  void CompileWorker(BatchPlan& plan, WorkerPlan& w, bool first);
  void RunWorker(BatchPlan& plan, int k, dnnl::stream& s, bool backward, const BatchInput* input);
  void FillOneHot(BatchPlan& plan, const uint8_t* labels);
  void PrefetchNext(const BatchInput& input, int64_t begin, int64_t end) const;
  // Whether worker k's element slices (of `workers`) of every gradient are finite.
  bool SliceFinite(int k, int workers);
  void RunWorkers(BatchPlan& plan, bool backward, const BatchInput* input);

  NetworkSpec spec_;
  Runtime* runtime_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::map<std::pair<int64_t, bool>, std::unique_ptr<BatchPlan>> plans_;
};

// Sets flush-to-zero and denormals-are-zero on the calling thread. With N(0,1)
// weights the logits reach the thousands and exp(logp) yields subnormals that
// then feed the backward GEMMs, where each costs a microcode assist.
void FlushDenormals();

// Worker threads for a batch of n rows: one per thread, at least 16 rows each.
int WorkersFor(int64_t n, int threads);

}  // namespace pipeline
