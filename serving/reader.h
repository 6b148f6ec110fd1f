// Reads a TensorFlow 1.x SavedModel the way TensorFlow's loader does:
//   1. parse <dir>/saved_model.pb and pick the MetaGraphDef tagged "serve";
//   1b. check every node as TensorFlow's graph import does (attrs against
//      the OpDefs, serving/graph_check.h) and every Const's declared size
//      against the bytes it holds;
//   2. read the variables bundle (variables/variables.{index,data-*}) with
//      every block and tensor checksum verified;
//   3. restore the variables by running the SaverDef's restore_op_name in the
//      interpreter, its filename tensor fed with the bundle prefix (RestoreV2
//      reads the bundle, Assign / AssignVariableOp write variable state);
//   4. run the init op -- collection saved_model_main_op, else
//      legacy_init_op, else signature_def['__saved_model_init_op'] -- with
//      asset tensors fed with the asset paths; it initializes lookup tables.
// Signatures are validated strictly against the graph (tensor exists, dtype
// from the model's own OpDefs, shape, TF Serving's classify/regress rules);
// problems are warnings, reported by `pipeline inspect`.
//
// Re-initialization: when the init op would assign a variable the restore
// just wrote (saved_model_half_plus_two_mkl's main op runs the global
// variable initializer), TensorFlow would overwrite the trained values. The
// reader warns, naming the variables, and by default skips those assignment
// nodes (and thereby their initializer subgraphs, e.g. RandomUniform), so the
// checkpoint values survive; ReaderOptions::run_reinitializers = true runs
// them as TensorFlow does.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/saved_model.pb.h"
#include "tfformat/bundle_tensor.h"
#include "serving/interpreter.h"
#include "tfformat/tensor_value.h"

namespace pipeline {

struct ReaderOptions {
  std::string tag = "serve";
  bool run_reinitializers = false;  // see the header comment
};

constexpr char kPredictMethod[] = "tensorflow/serving/predict";
constexpr char kClassifyMethod[] = "tensorflow/serving/classify";
constexpr char kRegressMethod[] = "tensorflow/serving/regress";

class SavedModelReader {
 public:
  // Steps 1-2 plus validation: no graph execution. Errors: NotFound (no
  // directory / saved_model.pb / tag / variables file), Corruption
  // ("cannot parse", checksum mismatches naming the block or tensor).
  static Status Open(const std::string& dir, const ReaderOptions& options, std::unique_ptr<SavedModelReader>* out);
  // Steps 3-4. Unimplemented naming op and node when the graph needs an op
  // the interpreter lacks (e.g. a TF2 model's StatefulPartitionedCall).
  Status Restore();
  // Open + Restore.
  static Status Load(const std::string& dir, const ReaderOptions& options, std::unique_ptr<SavedModelReader>* out);

  const std::string& dir() const { return dir_; }
  const tensorflow::SavedModel& saved_model() const { return saved_model_; }
  const tensorflow::MetaGraphDef& meta_graph() const { return *meta_graph_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  bool has_checkpoint() const { return has_checkpoint_; }
  const std::string& variables_prefix() const { return prefix_; }
  const BundleTensors& checkpoint() const { return checkpoint_; }
  const std::string& init_op() const { return init_op_; }
  bool restored() const { return restored_; }
  // Variables the restore wrote, and init-op nodes skipped as re-initializers.
  const std::set<std::string>& restored_variables() const { return restored_vars_; }
  const std::set<std::string>& skipped_init_nodes() const { return skipped_init_nodes_; }

  std::vector<std::string> SignatureKeys() const;  // sorted
  const tensorflow::SignatureDef* FindSignature(const std::string& key) const;
  // op name -> number of graph nodes using it (function bodies excluded).
  std::map<std::string, int> OpCounts() const;
  // Function names in the graph's library (TF2 models), sorted.
  std::vector<std::string> Functions() const;

  // The dtype of tensor `name` ("node:k") according to the model's OpDefs
  // (stripped_op_list); false if the node, op or output is unknown.
  bool TensorDtype(const std::string& name, tensorflow::DataType* dtype) const;

  // Runs signature `key`: `inputs` are keyed by input alias (each must be
  // one of the signature's), outputs by output alias (`output_aliases` empty
  // = every output). InvalidArgument for an unknown key or alias.
  Status RunSignature(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                      const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs);

  // Current value of a variable (by variable key, e.g. "Variable").
  Status ReadVariable(const std::string& key, TensorValue* value) const;
  Interpreter& interpreter() { return *interp_; }

 private:
  SavedModelReader() = default;
  void ValidateSignatures();
  std::vector<std::pair<std::string, TensorValue>> AssetFeeds() const;

  std::string dir_;
  ReaderOptions options_;
  tensorflow::SavedModel saved_model_;
  const tensorflow::MetaGraphDef* meta_graph_ = nullptr;
  std::vector<std::string> warnings_;
  bool has_checkpoint_ = false;
  std::string prefix_;
  BundleTensors checkpoint_;
  std::string init_op_;
  bool restored_ = false;
  std::set<std::string> restored_vars_;
  std::set<std::string> skipped_init_nodes_;
  std::unique_ptr<Interpreter> interp_;
};

}  // namespace pipeline
