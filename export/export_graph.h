// Builds the MetaGraphDef (TF1 graph, signatures, collections, SaverDef) and
// the checkpoint tensors of an exported model. No filesystem access.
#pragma once

#include <string>

#include "common/status.h"
#include "proto/meta_graph.pb.h"
#include "tfformat/bundle_tensor.h"
#include "export/export_request.h"

namespace pipeline::savedmodel {

// GraphDef producer version written into graph_def.versions (see
// docs/export.md: within [min_producer 0, consumer] of TF 1.15 and every TF 2.x,
// and past the Placeholder-shape (22), lookup-V2 (24) and default-attr
// stripping (26) changes). min_consumer stays 0.
constexpr int kGraphDefProducer = 27;

// TF Serving method names (tensorflow/cc/saved_model/signature_constants.h).
inline constexpr char kPredictMethodName[] = "tensorflow/serving/predict";
inline constexpr char kClassifyMethodName[] = "tensorflow/serving/classify";
inline constexpr char kRegressMethodName[] = "tensorflow/serving/regress";

// Well-known node names of the exported graph.
inline constexpr char kExampleInputNode[] = "tf_example";
inline constexpr char kFeaturesNode[] = "x";
inline constexpr char kProbabilitiesNode[] = "probabilities";
inline constexpr char kLegacyInitOpNode[] = "legacy_init_op";
inline constexpr char kTableNode[] = "index_to_string";
inline constexpr char kTableInitNode[] = "index_to_string/table_init";

// Everything about the request that can be checked without the filesystem:
// layers chain, each has an export mapping that accepts its tensors, names
// are valid TensorFlow node names, activations, class
// names, every signature obeys TF Serving's rules for its method
// (export/signature_rules.h) and the graph's own preconditions (a known
// method, one tf.Example feature, >= 2 classes to classify).
// InvalidArgument otherwise.
Status CheckModelAndSignatures(const ExportRequest& request);

struct ExportGraph {
  tensorflow::MetaGraphDef meta_graph;
  BundleTensors variables;  // checkpoint key (= variable node name) -> value; empty when frozen
};

// Runs CheckModelAndSignatures(request) first.
Status BuildExportGraph(const ExportRequest& request, ExportGraph* out);

// The class labels the export uses ("0".."n-1" when none are configured).
std::vector<std::string> ClassNames(const ExportRequest& request);

}  // namespace pipeline::savedmodel
