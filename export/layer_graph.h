// How a layer becomes TensorFlow graph nodes. Each layer type's export mapping
// lives in its own file and registers under the layer registry's type string,
// as its engine code does (engine/dense.cpp, export/dense_graph.cpp):
//
//   PIPELINE_REGISTER(LayerGraphRegistry, dense, 0, (LayerGraph{&CheckDense, &AddDense}));
//
// Activations map to their TF ops the same way (export/activation_ops.cpp).
// The engine is never linked here: a mapping sees only ExportedLayer values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/registry.h"
#include "export/export_request.h"
#include "export/graph_builder.h"

namespace pipeline::savedmodel {

// Where a mapping puts a trained tensor: a VariableV2 with its checkpoint
// value, or a Const when frozen. Returns the node that reads it.
class WeightSink {
 public:
  virtual ~WeightSink() = default;
  virtual std::string Add(const std::string& name, const std::vector<int64_t>& shape, const float* values) = 0;
};

struct LayerGraph {
  // What is wrong with the layer's tensors (missing, wrong dims), "" when
  // nothing: checked before any node is built.
  std::string (*check)(const ExportedLayer& layer) = nullptr;
  // Adds the layer's nodes, reading `input` ([-1, layer.in]); returns the node
  // of its output ([-1, layer.out]). Node and weight names start with
  // "<layer.name>/".
  std::string (*add)(GraphBuilder& g, WeightSink& weights, const ExportedLayer& layer, const std::string& input) = nullptr;
};

struct LayerGraphTag {
  static constexpr const char* kKind = "layer export";
};
using LayerGraphRegistry = Registry<LayerGraphTag, LayerGraph>;

// An activation's TF ops: appends them to `input` under "<scope>/" and
// returns the node to read next (`input` itself for linear).
struct ActivationGraph {
  std::string (*add)(GraphBuilder& g, const std::string& scope, const std::string& input) = nullptr;
};
struct ActivationOpTag {
  static constexpr const char* kKind = "activation export";
};
using ActivationOpRegistry = Registry<ActivationOpTag, ActivationGraph>;

// Appends `activation`'s ops to `input` (export/activation_ops.cpp); returns
// the node to read next. Requires a registered activation.
std::string AddActivation(GraphBuilder& g, const std::string& scope, const std::string& activation,
                          const std::string& input);

}  // namespace pipeline::savedmodel
