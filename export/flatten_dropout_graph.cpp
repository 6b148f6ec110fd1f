// flatten: a Reshape to [-1, h*w*c] (the rows between mappings already are
// flat, so it is TF's view of what the engine's copy does); dropout: Identity
// (inference never drops).
#include "export/image_graph.h"
#include "export/layer_graph.h"

namespace pipeline::savedmodel {
namespace {

std::string CheckNone(const ExportedLayer&) { return ""; }

std::string AddFlatten(GraphBuilder& g, WeightSink&, const ExportedLayer& l, const std::string& input) {
  return AddReshape(g, l.name + "/Reshape", input, {l.out});
}
std::string AddDropout(GraphBuilder& g, WeightSink&, const ExportedLayer& l, const std::string& input) {
  tensorflow::NodeDef* n = g.Add(l.name + "/Identity", "Identity", {input});
  GraphBuilder::SetType(n, "T", tensorflow::DT_FLOAT);
  return l.name + "/Identity";
}

}  // namespace

PIPELINE_REGISTER(LayerGraphRegistry, flatten, 0, (LayerGraph{&CheckNone, &AddFlatten}));
PIPELINE_REGISTER(LayerGraphRegistry, dropout, 0, (LayerGraph{&CheckNone, &AddDropout}));

}  // namespace pipeline::savedmodel
