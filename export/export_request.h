// What the export stage hands the exporter, and what it gets back: plain
// values (trained tensors as pointers, the exporter's own options), no engine
// or config types. Apart from export.h so the graph builder and the warmup
// writer can read a request without including the exporter's entry points.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline {

// One SignatureDef. TF Serving's rules for each method (input and output keys,
// top_k, one tf.Example feature) are config validation's to report
// (config/rules.cpp, with the key's file:line:col); CheckExport refuses a
// request that breaks them, so the exporter never writes a graph TF Serving
// would reject.
struct ExportSignature {
  std::string name;                    // signature_def map key
  std::string method;                  // predict classify regress
  std::string input_key = "inputs";
  std::string output_key = "outputs";  // predict / regress output key
  std::string feature = "x";           // classify / regress: tf.Example float feature name
  int64_t top_k = 0;                   // classify: 0 means all classes
};

// What to write and where: the exporter's own options (stages/model_spec.cpp
// fills them from the config's export: section).
struct ExportOptions {
  std::string path;                       // model base path; versions are its integer subdirectories
  std::string version = "auto";           // "auto" or a positive integer (common/version_number.h)
  bool overwrite = false;
  std::string variables = "checkpoint";   // checkpoint frozen
  std::vector<std::string> class_names;   // empty: "0".."num_classes-1"
  std::vector<ExportSignature> signatures;
  bool warmup = false;                    // assets.extra/tf_serving_warmup_requests
};

// One trained tensor of a layer: `name` is its part of the variable name
// ("<layer>/<name>"), as the layer's export mapping expects it.
struct ExportedTensor {
  std::string name;                 // "kernel", "bias"
  std::vector<int64_t> dims;        // dense: kernel [in, out] (MatMul layout), bias [out]
  const float* values = nullptr;
};

struct ExportedLayer {
  std::string type = "dense";       // the layer registry's key; picks the export mapping (export/layer_graph.h)
  std::string name;                 // e.g. "dense_0"; variable names derive from it
  std::string activation;           // a name in ActivationOpRegistry (export/activation_ops.cpp)
  int64_t in = 0, out = 0;          // features in and out, for chaining checks
  // Image layers: one example's shapes ([h, w, c]) and their windows. Every
  // mapping reads and returns flat rows [-1, in] -> [-1, out] (Reshape at
  // its edges), so layers chain as dense ones do and the signatures keep
  // taking rows of pixels.
  std::vector<int64_t> in_shape, out_shape;
  std::vector<int64_t> window, strides;  // conv2d: kernel; pools: pool; [h, w]
  std::string padding = "valid";         // valid same
  double epsilon = 0.0;                  // batch_norm
  std::vector<ExportedTensor> tensors;

  const ExportedTensor* Tensor(const std::string& tensor_name) const {
    for (const auto& t : tensors)
      if (t.name == tensor_name) return &t;
    return nullptr;
  }
};

// One CSV column of a tabular model, as its training split encoded it
// (data/csv_dataset.cpp): the graph repeats the encoding, so a client sends
// raw column values, never the engine's features.
struct ExportedColumn {
  std::string name;                      // the tf.Example feature and the predict input key
  bool categorical = false;
  double mean = 0.0, stddev = 1.0;       // numeric: feature = (x - mean) / stddev
  std::vector<std::string> vocabulary;   // categorical: one-hot index of each value; vocabulary.size() = out of vocabulary
  std::string fill;                      // a missing feature's value; "" when it is required
  std::vector<std::string> missing_tokens;  // categorical: values that mean "missing" (dataset.csv.missing_values)
  int64_t width() const { return categorical ? static_cast<int64_t>(vocabulary.size()) + 1 : 1; }
};

// What turns the last layer's outputs into the served scores.
enum class ExportHead {
  kSoftmax,  // softmax cross-entropy: probabilities over classes
  kSigmoid,  // sigmoid cross-entropy, one unit per class: independent probabilities
  kLinear,   // regression: the number itself
};

struct ExportRequest {
  ExportOptions options;
  int64_t input_features = 0;
  int64_t num_classes = 0;
  ExportHead head = ExportHead::kSoftmax;
  // Non-empty for a CSV model: its signatures take one tf.Example feature (and
  // one predict input) per column, and the graph encodes them into the
  // input_features the first layer reads.
  std::vector<ExportedColumn> columns;
  std::vector<ExportedLayer> layers;
};

struct ExportResult {
  std::string version_dir;          // <export.path>/<version>
  int64_t version = 0;
};

}  // namespace pipeline
