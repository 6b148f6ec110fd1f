// Read-back checks of an exported version, used by the tests and available to
// tools: the SavedModel parses, the checkpoint reads back with every CRC, and
// the graph conforms to an op registry.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "proto/op_def.pb.h"
#include "proto/saved_model.pb.h"
#include "tfformat/bundle_tensor.h"

namespace pipeline::savedmodel {

Status ReadSavedModelProto(const std::string& version_dir, tensorflow::SavedModel* sm);

// A version directory is complete: saved_model.pb parses with exactly one
// meta graph tagged "serve"; when the graph has a SaverDef, the bundle in
// variables/ reads back (all CRCs) and holds exactly one tensor per
// VariableV2 node, named after it, of the node's shape. `tensors` optional.
Status VerifyVersionDir(const std::string& version_dir, BundleTensors* tensors = nullptr);

// Checks every node of `graph` against `registry` (e.g. TensorFlow's
// ops.pbtxt): the op exists and is not deprecated at the graph's producer
// version; every attr is known to the OpDef (so no attr an older TF lacks
// when it equals the default), none equals its default (left out instead),
// every attr without default is set with a value of the declared kind, type
// attrs are within allowed_values, int / list minimums hold; data inputs come
// before control inputs, reference existing nodes, their count matches the
// OpDef's input args, and their dtypes (inferred through the graph, refs
// included) match what the OpDef expects. Problems are appended as text.
void CheckGraphAgainstRegistry(const tensorflow::GraphDef& graph, const tensorflow::OpList& registry,
                               std::vector<std::string>* problems);

}  // namespace pipeline::savedmodel
