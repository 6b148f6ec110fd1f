// Each activation's TF op (export/layer_graph.h). Ranks follow the engine's
// (engine/activation.cpp), so errors list them in the config's order.
#include "export/layer_graph.h"

namespace pipeline::savedmodel {

PIPELINE_REGISTER(ActivationOpRegistry, relu, 0, std::string("Relu"));
PIPELINE_REGISTER(ActivationOpRegistry, sigmoid, 1, std::string("Sigmoid"));
PIPELINE_REGISTER(ActivationOpRegistry, tanh, 2, std::string("Tanh"));
PIPELINE_REGISTER(ActivationOpRegistry, linear, 3, std::string());

std::string AddActivation(GraphBuilder& g, const std::string& scope, const std::string& activation,
                          const std::string& input) {
  const std::string* op = ActivationOpRegistry::Find(activation);
  if (op == nullptr || op->empty()) return input;
  tensorflow::NodeDef* a = g.Add(scope + "/" + *op, *op, {input});
  GraphBuilder::SetType(a, "T", tensorflow::DT_FLOAT);
  return scope + "/" + *op;
}

}  // namespace pipeline::savedmodel
