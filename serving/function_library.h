// TF2 SavedModels (tf.saved_model.save, Keras' model.export) keep their
// computation in the graph's function library: the serving graph holds the
// variables (VarHandleOp), the placeholders and StatefulPartitionedCall nodes
// naming a FunctionDef in attr `f`; so do the SaverDef's save and restore ops.
//
// TensorFlow runs a call by instantiating the FunctionDef into a graph of its
// own (FunctionDefToBodyHelper, core/framework/function.cc): each input arg
// becomes an _Arg node, and a body input "node:out_arg:i" names the i-th
// tensor of the node's output arg `out_arg`, which the node's OpDef resolves to
// a flat output index ("MatMul:product:0" is MatMul's output 0; RestoreV2's
// "tensors:3" its output 3). InstantiateFunction does the same, once per
// function when the interpreter is created, so a malformed body is refused at
// load with the function and node named, never mid-request.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "proto/function.pb.h"
#include "proto/graph.pb.h"
#include "proto/op_def.pb.h"

namespace pipeline {

struct FunctionBody {
  std::string name;
  tensorflow::GraphDef graph;                // the body; input arg k is node args[k] (op _Arg)
  std::vector<std::string> args;             // input arg names, in signature order (fed as "<arg>:0")
  std::vector<tensorflow::DataType> arg_types;
  std::vector<std::string> rets;             // output arg k's tensor in `graph` ("node:index")
  std::vector<tensorflow::DataType> ret_types;
  std::vector<std::string> control_rets;     // nodes that must run (the FunctionDef's control_ret)
};

// The body of `f`. OpDefs come from `model_ops` (the MetaGraphDef's
// stripped_op_list) or the reader's own registry; a node whose op is another
// function of `library` is a direct call, whose outputs are that function's
// output args. InvalidArgument naming the function and node for an input
// that names no node, no output arg or an output out of range, and for
// duplicate or missing names.
Status InstantiateFunction(const tensorflow::FunctionDef& f, const tensorflow::FunctionDefLibrary& library,
                           const tensorflow::OpList& model_ops, FunctionBody* out);

}  // namespace pipeline
