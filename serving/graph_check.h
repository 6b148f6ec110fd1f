// What TensorFlow checks when it imports a GraphDef, before anything runs:
// every node's attrs against its op's OpDef (ValidateNodeDef in
// core/framework/node_def_util.cc), and -- our addition, since the
// interpreter materializes constants -- that every Const's declared shape
// agrees with the bytes it holds. A model failing either is refused at load,
// naming the node, instead of running a kernel on a type it was never
// defined for or allocating a size nobody wrote.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "proto/graph.pb.h"
#include "proto/op_def.pb.h"

namespace pipeline::savedmodel {

// The OpDef a node is checked against: the registry the reader carries
// (opdefs.h; authoritative, as TensorFlow's own registry is at import), else
// the model's stripped_op_list entry; nullptr when neither knows the op (the
// interpreter then says the op is unsupported if it is ever run).
const tensorflow::OpDef* OpDefFor(const std::string& op, const tensorflow::OpList& model_ops);

// The dtypes of `node`'s outputs per output arg of `def` (an arg with a
// number_attr or type_list_attr has several; a ref output is its dtype + 100,
// as in TensorFlow's DataType enum); false when a needed attr is missing.
bool OutputArgDtypes(const tensorflow::NodeDef& node, const tensorflow::OpDef& def,
                     std::vector<std::vector<tensorflow::DataType>>* per_arg);
// The same, flattened: output k's dtype.
bool OutputDtypes(const tensorflow::NodeDef& node, const tensorflow::OpDef& def, std::vector<tensorflow::DataType>* out);

// Checks one node's attrs against `def`: every attr without a default is
// set, none is unknown (names starting '_' are TensorFlow-internal and
// exempt), each value has the attr's kind, types and strings are among the
// allowed values, ints and list lengths reach their minimum. The message
// follows TensorFlow's ("Value for attr 'T' of string is not in the list of
// allowed values: ...").
Status CheckNodeAttrs(const tensorflow::NodeDef& node, const tensorflow::OpDef& def);

// Every node: its attrs (when an OpDef is known) and, for Const, its value
// (tensor_value.h CheckTensorProto). Corruption "<where>: node 'N' (op O): ...".
Status CheckGraph(const tensorflow::GraphDef& graph, const tensorflow::OpList& model_ops, const std::string& where);

}  // namespace pipeline::savedmodel
