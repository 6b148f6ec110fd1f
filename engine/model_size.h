// A model's sizes from its spec alone: parameter counts, FLOPs and the memory
// training it takes, in checked arithmetic and without allocating anything.
// `validate` prints these (it used to build the network, allocating every
// weight, to count them), and the memory check compares the bytes with what
// the machine has before a run starts (stages/preflight.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/network.h"

namespace pipeline {

struct LayerSize {
  std::string name;
  int64_t in = 0, out = 0;
  int64_t params = 0;               // kernel in*out + bias out
  int64_t forward_flops = 0;        // per example: 2*in*out
  // Bytes to train it (see TrainingMemory).
  int64_t param_bytes = 0;          // value, gradient, optimizer buffers
  int64_t snapshot_bytes = 0;       // checkpoint / export copies of value and optimizer state
  int64_t activation_bytes = 0;     // its input (first layer) and output buffers for both batch sizes, and
                                    // the pre-activations gelu and softplus keep in training
  int64_t bytes() const { return param_bytes + snapshot_bytes + activation_bytes; }
};

struct ModelSize {
  std::vector<LayerSize> layers;
  int64_t params = 0;
  int64_t inference_flops = 0;      // per example, as Network::InferenceFlopsPerExample
  int64_t training_flops = 0;       // per example, as Network::TrainingFlopsPerExample
  int64_t bytes = 0;                // the sum of the layers' bytes()
};

// Floats per parameter element an optimizer keeps: `state` (checkpointed
// slots: Adam's m and v) and `scratch` (work buffers); engine/*.cpp AllocateState.
struct OptimizerFootprint {
  int64_t state = 0, scratch = 0;
};
OptimizerFootprint FootprintOf(const std::string& optimizer_type);

// Sizes `spec` for training with `optimizer_type` in batches of `batch` rows
// and evaluating in batches of `eval_batch`. Bytes count what the engine
// allocates: per parameter element its value and gradient and the
// optimizer's buffers, two snapshot copies of value and state (a checkpoint's
// captured tensors and their serialized bytes; export copies the values
// twice too), and per layer its output and output gradient for a training
// batch and its output for an evaluation batch (the first layer also its
// input and transposed input). Data and oneDNN's scratchpads are not counted.
// InvalidArgument when a count or a byte total overflows int64, with
// *failed_layer the layer's index.
Status SizeModel(const NetworkSpec& spec, const std::string& optimizer_type, int64_t batch, int64_t eval_batch,
                 ModelSize* out, size_t* failed_layer);

// "6.27 GB" (powers of 1000, 3 significant digits).
std::string FormatBytes(int64_t bytes);

}  // namespace pipeline
