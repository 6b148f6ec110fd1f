#include "serving/function_library.h"

#include <algorithm>
#include <map>
#include <set>

#include "serving/graph_check.h"
#include "serving/tensor_name.h"

namespace pipeline {

namespace {

const tensorflow::FunctionDef* FindFunction(const tensorflow::FunctionDefLibrary& library, const std::string& name) {
  for (const auto& f : library.function())
    if (f.signature().name() == name) return &f;
  return nullptr;
}

// Output arg name -> (first flat output index, count) of one body node.
using OutputArgIndex = std::map<std::string, std::pair<int, int>>;

Status IndexOutputs(const tensorflow::NodeDef& node, const tensorflow::FunctionDefLibrary& library,
                    const tensorflow::OpList& model_ops, OutputArgIndex* out) {
  out->clear();
  if (const tensorflow::FunctionDef* callee = FindFunction(library, node.op())) {
    int k = 0;
    for (const auto& arg : callee->signature().output_arg()) (*out)[arg.name()] = {k++, 1};
    return Status::Ok();
  }
  const tensorflow::OpDef* def = savedmodel::OpDefFor(node.op(), model_ops);
  if (def == nullptr) return Status::InvalidArgument("op " + node.op() + " has no OpDef in the model");
  std::vector<std::vector<tensorflow::DataType>> per_arg;
  if (!savedmodel::OutputArgDtypes(node, *def, &per_arg)) {
    return Status::InvalidArgument("cannot count the outputs of op " + node.op() + " (an attr is missing)");
  }
  int first = 0;
  for (int a = 0; a < def->output_arg_size(); ++a) {
    const int count = static_cast<int>(per_arg[static_cast<size_t>(a)].size());
    (*out)[def->output_arg(a).name()] = {first, count};
    first += count;
  }
  return Status::Ok();
}

}  // namespace

Status InstantiateFunction(const tensorflow::FunctionDef& f, const tensorflow::FunctionDefLibrary& library,
                           const tensorflow::OpList& model_ops, FunctionBody* out) {
  const std::string fname = f.signature().name();
  auto error = [&](const std::string& msg) { return Status::InvalidArgument("function " + fname + ": " + msg); };
  FunctionBody body;
  body.name = fname;
  std::set<std::string> names;
  for (const auto& arg : f.signature().input_arg()) {
    if (arg.name().empty() || !names.insert(arg.name()).second) return error("duplicate or empty input arg '" + arg.name() + "'");
    if (arg.type() == tensorflow::DT_INVALID) {
      return error("input arg '" + arg.name() + "' has no concrete type (a polymorphic function is not instantiable here)");
    }
    tensorflow::NodeDef* n = body.graph.add_node();
    n->set_name(arg.name());
    n->set_op("_Arg");
    (*n->mutable_attr())["T"].set_type(arg.type());
    (*n->mutable_attr())["index"].set_i(static_cast<int64_t>(body.args.size()));
    body.args.push_back(arg.name());
    body.arg_types.push_back(arg.type());
  }
  std::map<std::string, OutputArgIndex> outputs;  // body node -> its output args
  for (const auto& node : f.node_def()) {
    if (node.name().empty() || !names.insert(node.name()).second) return error("duplicate or empty node name '" + node.name() + "'");
    Status st = IndexOutputs(node, library, model_ops, &outputs[node.name()]);
    if (!st.ok()) return error("node " + node.name() + ": " + st.message());
  }
  // "arg" -> "arg:0"; "node:out_arg:i" -> "node:<flat index>"; "^node" stays.
  auto resolve = [&](const std::string& in, const std::string& where, std::string* flat) -> Status {
    TensorName t;  // "node:out_arg:i" parses as node "node:out_arg", index i
    const bool parsed = ParseTensorName(in, &t);
    if (parsed && t.control) {
      if (!names.count(t.node)) return error(where + ": control input '" + in + "' names no node of the function");
      *flat = in;
      return Status::Ok();
    }
    if (parsed && in.find(':') == std::string::npos) {
      if (std::find(body.args.begin(), body.args.end(), in) == body.args.end()) {
        return error(where + ": input '" + in + "' names no input arg of the function");
      }
      *flat = in + ":0";
      return Status::Ok();
    }
    const size_t colon = parsed ? t.node.rfind(':') : std::string::npos;
    auto node = colon == std::string::npos ? outputs.end() : outputs.find(t.node.substr(0, colon));
    if (node == outputs.end()) {
      return error(where + ": input '" + in + "' is not of the form node:output_arg:index over a node of the function");
    }
    const std::string out_arg = t.node.substr(colon + 1);
    auto arg = node->second.find(out_arg);
    if (arg == node->second.end()) return error(where + ": node " + node->first + " has no output arg '" + out_arg + "'");
    if (t.index >= arg->second.second) {
      return error(where + ": output " + out_arg + ":" + std::to_string(t.index) + " of node " + node->first +
                   " is out of range (it has " + std::to_string(arg->second.second) + ")");
    }
    *flat = node->first + ":" + std::to_string(arg->second.first + t.index);
    return Status::Ok();
  };
  for (const auto& node : f.node_def()) {
    tensorflow::NodeDef* n = body.graph.add_node();
    *n = node;
    n->clear_input();
    for (const auto& in : node.input()) {
      std::string flat;
      PIPELINE_RETURN_IF_ERROR(resolve(in, "node " + node.name(), &flat));
      n->add_input(flat);
    }
  }
  for (const auto& arg : f.signature().output_arg()) {
    auto r = f.ret().find(arg.name());
    if (r == f.ret().end()) return error("output arg '" + arg.name() + "' has no ret");
    std::string flat;
    PIPELINE_RETURN_IF_ERROR(resolve(r->second, "ret " + arg.name(), &flat));
    body.rets.push_back(flat);
    body.ret_types.push_back(arg.type());
  }
  // Every control_ret node runs (sorted: the proto map has no order).
  for (const auto& [name, node] : f.control_ret()) {
    if (!outputs.count(node)) return error("control output '" + name + "' names no node of the function");
    body.control_rets.push_back(node);
  }
  std::sort(body.control_rets.begin(), body.control_rets.end());
  *out = std::move(body);
  return Status::Ok();
}

}  // namespace pipeline
