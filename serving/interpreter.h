// A pull-based interpreter for TensorFlow 1.x GraphDefs: Run() evaluates the
// fetched tensors and target nodes given feeds, executing each needed node
// once per run (memoized), its data and control inputs first. Feeding a
// tensor prunes its producer. State that outlives a run -- reference
// variables (VariableV2), resource variables (VarHandleOp) and lookup tables
// -- lives in the Interpreter, as in a TensorFlow Session.
//
// TF2 function calls: StatefulPartitionedCall / PartitionedCall (and a node
// whose op is a library function) run the function's body, instantiated at
// Create (function_library.h), in a child interpreter that shares this one's
// variables, tables and checkpoint source, as a TensorFlow function shares its
// Session's resources.
//
// Tensor names: "node" (= "node:0"), "node:k" (k-th output); inputs of the
// form "^node" are control dependencies.
//
// Reference semantics: the output of VariableV2 (and of Assign/AssignAdd) is
// a reference to the variable; consumers read the variable's value when they
// execute, fetches when the run ends (as TensorFlow does). Reading an
// uninitialized variable is an error naming it.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "proto/graph.pb.h"
#include "proto/op_def.pb.h"
#include "serving/tensor_name.h"
#include "tfformat/tensor_value.h"

namespace pipeline {

// Reads one checkpoint tensor: (prefix fed to RestoreV2, key) -> value.
using CheckpointSource = std::function<Status(const std::string& prefix, const std::string& key, TensorValue*)>;

class OpContext;
using OpKernel = Status (*)(OpContext&);

struct OpRegistration {
  OpKernel kernel = nullptr;
  std::vector<int> ref_inputs;  // inputs taken by reference (Assign's variable)
};

// name -> registration of every op the interpreter executes.
const std::map<std::string, OpRegistration>& OpRegistry();

struct Variable {
  tensorflow::DataType dtype = tensorflow::DT_INVALID;
  bool resource = false;        // VarHandleOp (true) or VariableV2 (false)
  bool initialized = false;
  TensorValue value;
  bool shape_known = false;            // declared shape (VariableV2's `shape` attr)
  tensorflow::TensorShapeProto shape;  // when shape_known
};

struct LookupTable {
  tensorflow::DataType key_dtype = tensorflow::DT_INVALID;
  tensorflow::DataType value_dtype = tensorflow::DT_INVALID;
  bool initialized = false;
  std::unordered_map<std::string, int64_t> index;  // encoded key -> position in values
  TensorValue values;
};

struct RunOptions {
  // Nodes treated as already executed: neither run nor their inputs pulled.
  // Their data outputs cannot be consumed. Used to skip re-initialization.
  std::set<std::string> skip_nodes;
};

class Interpreter {
 public:
  // Indexes the graph (kept by reference: it must outlive the interpreter).
  // InvalidArgument for duplicate node names or inputs naming missing nodes.
  // The graph's function library is instantiated here; `model_ops` (the
  // MetaGraphDef's stripped_op_list) supplies the OpDefs its bodies need.
  static Status Create(const tensorflow::GraphDef& graph, std::unique_ptr<Interpreter>* out,
                       const tensorflow::OpList* model_ops = nullptr);
  ~Interpreter();

  Status Run(const std::vector<std::pair<std::string, TensorValue>>& feeds, const std::vector<std::string>& fetches,
             const std::vector<std::string>& targets, std::vector<TensorValue>* outputs,
             const RunOptions& options = {});

  // Runs `node`'s kernel alone on its data inputs, outside a Run: what a
  // compiled signature (serving/compiled_signature.h) calls for the light ops
  // it does not compile itself (Softmax, TopKV2, ParseExample, a table
  // lookup), so each op's semantics keep one home. Errors carry Run's
  // "node N (op O): " prefix. Ops taking or giving variable references are
  // refused. Safe to call concurrently for kernels that only read the
  // interpreter's state (a restored table), which is all a compiled
  // signature calls.
  Status RunKernel(const tensorflow::NodeDef& node, std::vector<TensorValue> inputs, std::vector<TensorValue>* outputs);

  // The nodes Run would execute for these fetches/targets (feeds pruned), in
  // execution order; Unimplemented naming the first unsupported op.
  Status Plan(const std::vector<std::string>& fed_tensors, const std::vector<std::string>& roots,
              std::vector<const tensorflow::NodeDef*>* order, const std::set<std::string>& skip = {},
              bool check_supported = true) const;

  const tensorflow::NodeDef* FindNode(const std::string& name) const;
  const tensorflow::GraphDef& graph() const { return graph_; }

  // For an assignment node (Assign, AssignAdd, AssignSub, AssignVariableOp,
  // AssignAddVariableOp, AssignSubVariableOp), the key of the variable it
  // writes; false for other nodes.
  bool AssignmentTarget(const tensorflow::NodeDef& node, std::string* variable) const;

  // Runs library function `name` on `inputs` (one per input arg) and returns
  // one value per output arg. Runtime errors name the function; a call chain
  // deeper than kMaxCallDepth (a recursive library) is refused.
  Status CallFunction(const std::string& name, const std::vector<TensorValue>& inputs, std::vector<TensorValue>* outputs);
  bool HasFunction(const std::string& name) const { return owner_->functions_.count(name) > 0; }
  static constexpr int kMaxCallDepth = 64;

  void set_checkpoint_source(CheckpointSource source) { owner_->checkpoint_ = std::move(source); }
  const CheckpointSource& checkpoint_source() const { return owner_->checkpoint_; }
  std::map<std::string, Variable>& variables() { return owner_->variables_; }
  const std::map<std::string, Variable>& variables() const { return owner_->variables_; }
  std::map<std::string, LookupTable>& tables() { return owner_->tables_; }

  const dnnl::engine& engine();
  dnnl::stream& stream();

  // The variable key of a VariableV2 / VarHandleOp / HashTable node:
  // its shared_name attr, else its node name.
  static std::string ResourceKey(const tensorflow::NodeDef& node);

 private:
  struct Function;
  explicit Interpreter(const tensorflow::GraphDef& graph);
  int NodeIndex(const std::string& name) const;

  const tensorflow::GraphDef& graph_;
  Interpreter* owner_;  // holds the state; a function body's interpreter points at its caller's owner
  std::map<std::string, std::unique_ptr<Function>> functions_;  // the library, instantiated (owner only)
  std::unordered_map<std::string, int> index_;
  std::vector<std::vector<TensorName>> inputs_;  // parsed inputs per node
  CheckpointSource checkpoint_;
  std::map<std::string, Variable> variables_;
  std::map<std::string, LookupTable> tables_;
  std::unique_ptr<dnnl::engine> engine_;
  std::unique_ptr<dnnl::stream> stream_;
};

// What a kernel sees: its node, resolved inputs, output slots and the
// interpreter's state.
class OpContext {
 public:
  OpContext(Interpreter* interp, const tensorflow::NodeDef* node) : interp_(interp), node_(node) {}

  const tensorflow::NodeDef& node() const { return *node_; }
  const std::string& name() const { return node_->name(); }
  Interpreter& interpreter() { return *interp_; }

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const TensorValue& input(int i) const { return inputs_[static_cast<size_t>(i)]; }
  // The variable key of a by-reference input ("" if none).
  const std::string& input_ref(int i) const { return input_refs_[static_cast<size_t>(i)]; }

  void set_output(int i, TensorValue v);
  void set_output_ref(int i, std::string variable);

  // Attribute access; InvalidArgument naming node and attr when missing or
  // of the wrong kind (`def` variants fall back to the default).
  bool HasAttr(const std::string& name) const;
  Status GetAttr(const std::string& name, int64_t* v) const;
  Status GetAttr(const std::string& name, bool* v) const;
  Status GetAttr(const std::string& name, std::string* v) const;
  Status GetAttr(const std::string& name, tensorflow::DataType* v) const;
  Status GetAttr(const std::string& name, std::vector<tensorflow::DataType>* v) const;
  Status GetAttr(const std::string& name, std::vector<int64_t>* v) const;
  Status GetAttr(const std::string& name, std::vector<tensorflow::TensorShapeProto>* v) const;
  Status GetAttr(const std::string& name, const tensorflow::TensorShapeProto** v) const;
  Status GetAttr(const std::string& name, const tensorflow::TensorProto** v) const;
  bool AttrOr(const std::string& name, bool def) const;
  int64_t AttrOr(const std::string& name, int64_t def) const;
  float AttrOr(const std::string& name, float def) const;

  // A Runtime error prefixed with the op and node.
  Status Error(const std::string& msg) const;
  // Checks input i's dtype.
  Status ExpectDtype(int i, tensorflow::DataType dtype) const;

 private:
  friend class Interpreter;
  Interpreter* interp_;
  const tensorflow::NodeDef* node_;
  std::vector<TensorValue> inputs_;
  std::vector<std::string> input_refs_;
  std::vector<TensorValue> outputs_;
  std::vector<std::string> output_refs_;
};

// Kernel registration, one function per ops_*.cpp file.
void RegisterStateOps(std::map<std::string, OpRegistration>* r);
void RegisterMathOps(std::map<std::string, OpRegistration>* r);
void RegisterArrayOps(std::map<std::string, OpRegistration>* r);
void RegisterTableOps(std::map<std::string, OpRegistration>* r);
void RegisterParseOps(std::map<std::string, OpRegistration>* r);
void RegisterFunctionOps(std::map<std::string, OpRegistration>* r);
// The kernel of a node whose op is a library function (ops_function.cpp).
Status CallNamedFunction(OpContext& c);

}  // namespace pipeline
