// A signature compiled once, at load, into oneDNN primitives, so that serving
// a request walks no graph, creates no primitive and takes no lock.
//
// What compiles: the graphs pipeline's exporter writes, and TF1 graphs built
// the same way (TensorFlow's MNIST tutorial):
//   - the signature's inputs (a float Placeholder, or the serialized
//     tf.Example strings of a ParseExample);
//   - dense layers: MatMul of a constant kernel (a restored variable or a
//     Const), then BiasAdd / Add / AddV2 of a constant [N] bias -- one oneDNN
//     matmul with the bias fused (when nothing else reads the product);
//   - the light ops around them, run by the interpreter's own kernels
//     (Interpreter::RunKernel, so each op keeps one home): the activations
//     (Relu, Relu6, Sigmoid, Tanh, Elu, LeakyRelu), Softmax, TopKV2, Cast,
//     LookupTableFind(V2), ParseExample(V2), Identity, and a BiasAdd or Add
//     that could not be fused. The activations are not oneDNN post-ops on
//     purpose: its relu and clip are max/min instructions that turn NaN into
//     0 and its exp clamps NaN to a bound, where TensorFlow's kernels (and
//     ours) propagate NaN -- a NaN pixel must give NaN scores, as in TF;
//   - everything that does not depend on a fed tensor (Const, variable
//     reads, table handles) is evaluated once at compile time.
// Any other op in the signature's graph (a TF2 function call, a stateful op,
// control flow) leaves the signature to the interpreter; Compile says why.
//
// Per batch size, the matmul primitives are created once and cached (at most
// kMaxBatchSizes sizes, the least recently used evicted). Primitives are
// immutable and run concurrently; each concurrent run borrows a workspace
// (its own stream, memory objects and scratchpad: the primitives use a user
// scratchpad) from the batch size's pool, under a lock held only to pop and
// push it.
//
// A run that does not fit what was compiled (another dtype or width, batch 0)
// or that fails (a malformed tf.Example) returns false: the caller runs the
// interpreter, whose checks and error texts stay the only ones.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "serving/reader.h"
#include "tfformat/tensor_value.h"

namespace pipeline::serving {

class CompiledSignature {
 public:
  static constexpr size_t kMaxBatchSizes = 64;

  // Compiles signature `key` of a restored reader. nullptr, with *why_not
  // ("op StatefulPartitionedCall (node x) is not compiled"), when it cannot.
  static std::unique_ptr<CompiledSignature> Compile(SavedModelReader& reader, const std::string& key,
                                                    std::string* why_not);
  ~CompiledSignature();

  // Runs on `inputs` (by input alias; every input must be given) and sets
  // the outputs named by `output_aliases` (empty = every output). False when
  // the run must go to the interpreter instead (see the header comment).
  bool TryRun(const std::map<std::string, TensorValue>& inputs, const std::vector<std::string>& output_aliases,
              std::map<std::string, TensorValue>* outputs) const;

  // The steps in order: "MatMul 784x256 + BiasAdd, Relu, ..., Softmax"
  std::string Describe() const;
  // Batch sizes with cached primitives (for tests: the cache bound).
  size_t CachedBatchSizes() const;

 private:
  struct Program;
  struct BatchPlan;
  CompiledSignature();
  std::shared_ptr<BatchPlan> PlanFor(int64_t batch) const;

  std::unique_ptr<Program> program_;
  mutable std::mutex cache_mu_;
  mutable std::map<int64_t, std::shared_ptr<BatchPlan>> plans_;  // by batch size
  mutable uint64_t clock_ = 0;                                    // LRU ticks
};

}  // namespace pipeline::serving
