// Each activation's TF ops (export/layer_graph.h). Ranks follow the engine's
// (engine/activation.cpp), so errors list them in the config's order.
//
// leaky_relu is LeakyRelu with the engine's slope 0.2, which is the OpDef's
// default for alpha: the attr is left out (stripped_default_attrs), and
// tests/export_graph_test.cpp checks the two agree. gelu is what TF 2.21's
// tf.nn.gelu(approximate=False) (Keras' gelu) writes:
// 0.5 * x * erfc(-x / sqrt(2)), the same function as 0.5 x (1 + erf(x /
// sqrt(2))) without its cancellation for negative x.
#include "export/layer_graph.h"

namespace pipeline::savedmodel {
namespace {

template <const char* kOp>
std::string OneOp(GraphBuilder& g, const std::string& scope, const std::string& input) {
  tensorflow::NodeDef* a = g.Add(scope + "/" + kOp, kOp, {input});
  GraphBuilder::SetType(a, "T", tensorflow::DT_FLOAT);
  return scope + "/" + kOp;
}

// LeakyRelu's T defaults to float, so it is left out as alpha is.
std::string LeakyRelu(GraphBuilder& g, const std::string& scope, const std::string& input) {
  g.Add(scope + "/LeakyRelu", "LeakyRelu", {input});
  return scope + "/LeakyRelu";
}

std::string Linear(GraphBuilder&, const std::string&, const std::string& input) { return input; }

// TF's node names, under <scope>/Gelu/.
std::string Gelu(GraphBuilder& g, const std::string& scope, const std::string& input) {
  const std::string s = scope + "/Gelu/";
  auto op = [&](const std::string& name, const std::string& type, const std::vector<std::string>& inputs) {
    GraphBuilder::SetType(g.Add(s + name, type, inputs), "T", tensorflow::DT_FLOAT);
    return s + name;
  };
  g.ConstFloatFill(s + "mul/x", {}, 0.5f);
  const std::string half_x = op("mul", "Mul", {s + "mul/x", input});
  const std::string neg = op("Neg", "Neg", {input});
  g.ConstFloatFill(s + "Cast/x", {}, 0.70710677f);  // 1 / sqrt(2) in float, as TF casts it
  const std::string scaled = op("mul_1", "Mul", {neg, s + "Cast/x"});
  const std::string erfc = op("Erfc", "Erfc", {scaled});
  return op("mul_2", "Mul", {half_x, erfc});
}

constexpr char kRelu[] = "Relu", kSigmoid[] = "Sigmoid", kTanh[] = "Tanh",
               kElu[] = "Elu", kSoftplus[] = "Softplus", kSoftmax[] = "Softmax";

}  // namespace

PIPELINE_REGISTER(ActivationOpRegistry, relu, 0, ActivationGraph{&OneOp<kRelu>});
PIPELINE_REGISTER(ActivationOpRegistry, sigmoid, 1, ActivationGraph{&OneOp<kSigmoid>});
PIPELINE_REGISTER(ActivationOpRegistry, tanh, 2, ActivationGraph{&OneOp<kTanh>});
PIPELINE_REGISTER(ActivationOpRegistry, linear, 3, ActivationGraph{&Linear});
PIPELINE_REGISTER(ActivationOpRegistry, leaky_relu, 4, ActivationGraph{&LeakyRelu});
PIPELINE_REGISTER(ActivationOpRegistry, elu, 5, ActivationGraph{&OneOp<kElu>});
PIPELINE_REGISTER(ActivationOpRegistry, gelu, 6, ActivationGraph{&Gelu});
PIPELINE_REGISTER(ActivationOpRegistry, softplus, 7, ActivationGraph{&OneOp<kSoftplus>});
// Over the last axis: a dense layer's units; a conv's channels (the graph's
// NHWC, before its rows' Reshape).
PIPELINE_REGISTER(ActivationOpRegistry, softmax, 8, ActivationGraph{&OneOp<kSoftmax>});

std::string AddActivation(GraphBuilder& g, const std::string& scope, const std::string& activation,
                          const std::string& input) {
  const ActivationGraph* graph = ActivationOpRegistry::Find(activation);
  if (graph == nullptr) return input;
  return graph->add(g, scope, input);
}

}  // namespace pipeline::savedmodel
