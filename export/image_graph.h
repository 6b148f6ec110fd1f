// Shared pieces of the image layers' export mappings: every mapping reads flat
// rows [-1, in] and returns flat rows [-1, out] (export/layer_graph.h), so an
// image layer reshapes to NHWC [-1, h, w, c] at its start and back at its end.
// TensorFlow's Reshape costs nothing, and the signatures keep taking float
// rows of h*w*c pixels, as the MLP exports do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "export/graph_builder.h"

namespace pipeline::savedmodel {

// Adds <node>/shape (int64 Const) and <node> = Reshape(input, [-1, dims...]).
std::string AddReshape(GraphBuilder& g, const std::string& node, const std::string& input,
                       const std::vector<int64_t>& dims);

// "VALID" / "SAME" from the config's valid / same.
std::string TfPadding(const std::string& padding);

}  // namespace pipeline::savedmodel
