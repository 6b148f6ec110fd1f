#include "serving/interpreter.h"

#include <algorithm>

#include "serving/flush_denormals.h"
#include "serving/function_library.h"

namespace pipeline {

using tensorflow::NodeDef;

const std::map<std::string, OpRegistration>& OpRegistry() {
  static const std::map<std::string, OpRegistration> registry = [] {
    std::map<std::string, OpRegistration> r;
    RegisterStateOps(&r);
    RegisterMathOps(&r);
    RegisterArrayOps(&r);
    RegisterTableOps(&r);
    RegisterParseOps(&r);
    RegisterFunctionOps(&r);
    return r;
  }();
  return registry;
}

static Status UnsupportedOp(const NodeDef& n) {
  return Status::Unimplemented("op " + n.op() + " (node " + n.name() + ") is not supported by this interpreter");
}

// One instantiated library function: its body and the interpreter that runs it.
struct Interpreter::Function {
  FunctionBody body;
  std::unique_ptr<Interpreter> interp;
};

Interpreter::Interpreter(const tensorflow::GraphDef& graph) : graph_(graph), owner_(this) {}
Interpreter::~Interpreter() = default;

Status Interpreter::Create(const tensorflow::GraphDef& graph, std::unique_ptr<Interpreter>* out,
                           const tensorflow::OpList* model_ops) {
  std::unique_ptr<Interpreter> in(new Interpreter(graph));
  const tensorflow::OpList no_ops;
  for (const auto& f : graph.library().function()) {
    auto fn = std::make_unique<Function>();
    PIPELINE_RETURN_IF_ERROR(InstantiateFunction(f, graph.library(), model_ops ? *model_ops : no_ops, &fn->body));
    if (in->functions_.count(fn->body.name)) {
      return Status::InvalidArgument("the function library defines " + fn->body.name + " twice");
    }
    Status st = Create(fn->body.graph, &fn->interp);
    if (!st.ok()) return Status::InvalidArgument("function " + fn->body.name + ": " + st.message());
    fn->interp->owner_ = in.get();
    in->functions_.emplace(fn->body.name, std::move(fn));
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const NodeDef& n = graph.node(i);
    if (n.name().empty()) return Status::InvalidArgument("graph node " + std::to_string(i) + " has no name");
    if (!in->index_.emplace(n.name(), i).second) {
      return Status::InvalidArgument("graph has two nodes named '" + n.name() + "'");
    }
  }
  in->inputs_.resize(static_cast<size_t>(graph.node_size()));
  for (int i = 0; i < graph.node_size(); ++i) {
    const NodeDef& n = graph.node(i);
    for (const auto& s : n.input()) {
      TensorName t;
      if (!ParseTensorName(s, &t)) {
        return Status::InvalidArgument("node " + n.name() + " has a malformed input '" + s + "'");
      }
      if (!in->index_.count(t.node)) {
        return Status::InvalidArgument("node " + n.name() + " has input '" + s + "' naming no node of the graph");
      }
      in->inputs_[static_cast<size_t>(i)].push_back(t);
    }
  }
  *out = std::move(in);
  return Status::Ok();
}

int Interpreter::NodeIndex(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

const NodeDef* Interpreter::FindNode(const std::string& name) const {
  int i = NodeIndex(name);
  return i < 0 ? nullptr : &graph_.node(i);
}

std::string Interpreter::ResourceKey(const NodeDef& node) {
  auto it = node.attr().find("shared_name");
  std::string name = (it != node.attr().end() && !it->second.s().empty()) ? it->second.s() : node.name();
  auto c = node.attr().find("container");
  if (c != node.attr().end() && !c->second.s().empty()) name = c->second.s() + "/" + name;
  return name;
}

bool Interpreter::AssignmentTarget(const NodeDef& node, std::string* variable) const {
  static const std::set<std::string> kAssign = {"Assign", "AssignAdd", "AssignSub", "AssignVariableOp",
                                                "AssignAddVariableOp", "AssignSubVariableOp"};
  if (!kAssign.count(node.op()) || node.input_size() < 1) return false;
  TensorName t;
  if (!ParseTensorName(node.input(0), &t)) return false;
  // Follow pass-through nodes (RefIdentity, Identity of a handle) to the variable.
  for (int hops = 0; hops < 16; ++hops) {
    const NodeDef* p = FindNode(t.node);
    if (p == nullptr) return false;
    if (p->op() == "VariableV2" || p->op() == "Variable" || p->op() == "VarHandleOp") {
      *variable = ResourceKey(*p);
      return true;
    }
    if ((p->op() != "Identity" && p->op() != "RefIdentity") || p->input_size() < 1 ||
        !ParseTensorName(p->input(0), &t)) {
      return false;
    }
  }
  return false;
}

Status Interpreter::Plan(const std::vector<std::string>& fed_tensors, const std::vector<std::string>& roots,
                         std::vector<const NodeDef*>* order, const std::set<std::string>& skip,
                         bool check_supported) const {
  std::set<std::pair<std::string, int>> fed;
  for (const auto& f : fed_tensors) {
    TensorName t;
    if (!ParseTensorName(f, &t) || t.control) return Status::InvalidArgument("malformed feed tensor name '" + f + "'");
    fed.emplace(t.node, t.index);
  }
  const auto& registry = OpRegistry();
  std::vector<uint8_t> state(static_cast<size_t>(graph_.node_size()), 0);  // 0 new, 1 expanded, 2 done
  std::vector<int> stack;
  order->clear();
  for (const auto& r : roots) {
    TensorName t;
    if (!ParseTensorName(r, &t)) return Status::InvalidArgument("malformed tensor or node name '" + r + "'");
    const int root = NodeIndex(t.node);
    if (root < 0) return Status::NotFound("no node named '" + t.node + "' in the graph (from '" + r + "')");
    if (!t.control && fed.count({t.node, t.index})) continue;  // a fetched feed needs nothing
    stack.push_back(root);
    while (!stack.empty()) {
      const int n = stack.back();
      const size_t un = static_cast<size_t>(n);
      if (state[un] == 2) {
        stack.pop_back();
        continue;
      }
      const NodeDef& node = graph_.node(n);
      if (state[un] == 0) {
        state[un] = 1;
        if (skip.count(node.name())) continue;  // no inputs pulled
        if (check_supported && !registry.count(node.op()) && !HasFunction(node.op())) return UnsupportedOp(node);
        const auto& ins = inputs_[un];
        for (auto it = ins.rbegin(); it != ins.rend(); ++it) {
          if (!it->control && fed.count({it->node, it->index})) continue;
          const int d = index_.at(it->node);
          if (state[static_cast<size_t>(d)] == 1) {
            return Status::InvalidArgument("the graph has a cycle through node " + it->node +
                                           " (control flow is not supported)");
          }
          if (state[static_cast<size_t>(d)] == 0) stack.push_back(d);
        }
        continue;
      }
      state[un] = 2;
      order->push_back(&node);
      stack.pop_back();
    }
  }
  return Status::Ok();
}

namespace {

struct Slot {
  TensorValue value;
  std::string ref;  // variable key when the output is a reference
};

// A kernel's failure as Run reports it: prefixed with its node and op (once),
// NotFound, Corruption and Unimplemented kept, anything else Runtime.
Status KernelError(const NodeDef& node, const Status& st) {
  const std::string prefix = "node " + node.name() + " (op " + node.op() + "): ";
  if (st.message().rfind(prefix, 0) == 0) return st;
  switch (st.code()) {
    case Status::Code::kNotFound: return Status::NotFound(prefix + st.message());
    case Status::Code::kCorruption: return Status::Corruption(prefix + st.message());
    case Status::Code::kUnimplemented: return Status::Unimplemented(prefix + st.message());
    default: return Status::Runtime(prefix + st.message());
  }
}

Status Deref(Interpreter& in, const Slot& s, const std::string& what, TensorValue* out) {
  if (s.ref.empty()) {
    if (!s.value.valid()) return Status::Runtime(what + " has no value");
    *out = s.value;
    return Status::Ok();
  }
  auto it = in.variables().find(s.ref);
  if (it == in.variables().end() || !it->second.initialized) {
    return Status::Runtime("Attempting to use uninitialized value " + s.ref + " (reading " + what + ")");
  }
  *out = it->second.value;
  return Status::Ok();
}

}  // namespace

Status Interpreter::Run(const std::vector<std::pair<std::string, TensorValue>>& feeds,
                        const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                        std::vector<TensorValue>* outputs, const RunOptions& options) {
  const ScopedFlushDenormal flush_denormals;
  std::map<std::pair<std::string, int>, TensorValue> fed;
  std::vector<std::string> fed_names;
  for (const auto& [name, value] : feeds) {
    TensorName t;
    if (!ParseTensorName(name, &t) || t.control) {
      return Status::InvalidArgument("malformed feed tensor name '" + name + "'");
    }
    const NodeDef* n = FindNode(t.node);
    if (n == nullptr) return Status::NotFound("feed '" + name + "' names no node of the graph");
    if (!value.valid()) return Status::InvalidArgument("feed '" + name + "' has no value");
    if (n->op() == "Placeholder" || n->op() == "PlaceholderWithDefault") {
      auto d = n->attr().find("dtype");
      if (d != n->attr().end() && d->second.type() != value.dtype()) {
        return Status::Runtime("feed '" + name + "': placeholder " + n->name() + " has dtype " +
                               DataTypeName(d->second.type()) + ", the fed value is " +
                               DataTypeName(value.dtype()));
      }
      auto s = n->attr().find("shape");
      // GraphDefs before producer 22 wrote "unknown shape" as a scalar shape.
      const bool legacy_unknown = graph_.versions().producer() <= 21 && s != n->attr().end() &&
                                  s->second.shape().dim_size() == 0;
      if (s != n->attr().end() && s->second.has_shape() && !legacy_unknown &&
          !ShapeCompatible(s->second.shape(), value.shape())) {
        return Status::Runtime("feed '" + name + "': shape " + ShapeString(value.shape()) +
                               " is incompatible with placeholder " + n->name() + "'s shape " +
                               ShapeProtoString(s->second.shape()));
      }
    }
    fed[{t.node, t.index}] = value;
    fed_names.push_back(name);
  }
  std::vector<std::string> roots = fetches;
  roots.insert(roots.end(), targets.begin(), targets.end());
  std::vector<const NodeDef*> order;
  PIPELINE_RETURN_IF_ERROR(Plan(fed_names, roots, &order, options.skip_nodes));

  const auto& registry = OpRegistry();
  std::unordered_map<const NodeDef*, std::vector<Slot>> values;
  for (const NodeDef* node : order) {
    if (options.skip_nodes.count(node->name())) {
      values[node];  // executed as a no-op: no outputs
      continue;
    }
    static const OpRegistration kDirectCall = {CallNamedFunction, {}};
    auto found = registry.find(node->op());
    const OpRegistration& reg = found != registry.end() ? found->second : kDirectCall;
    OpContext ctx(this, node);
    const auto& ins = inputs_[static_cast<size_t>(index_.at(node->name()))];
    for (size_t i = 0; i < ins.size(); ++i) {
      const TensorName& t = ins[i];
      if (t.control) continue;
      const int pos = static_cast<int>(ctx.inputs_.size());
      const bool by_ref = std::find(reg.ref_inputs.begin(), reg.ref_inputs.end(), pos) != reg.ref_inputs.end();
      Slot slot;
      auto f = fed.find({t.node, t.index});
      if (f != fed.end()) {
        slot.value = f->second;
      } else {
        const auto& outs = values.at(FindNode(t.node));
        if (t.index >= static_cast<int>(outs.size())) {
          return Status::Runtime("node " + node->name() + " (op " + node->op() + "): input '" + node->input(static_cast<int>(i)) +
                                 "' does not exist (node " + t.node + " has " + std::to_string(outs.size()) +
                                 " outputs here)");
        }
        slot = outs[static_cast<size_t>(t.index)];
      }
      if (by_ref) {
        if (slot.ref.empty()) {
          return Status::Runtime("node " + node->name() + " (op " + node->op() + "): input " + std::to_string(pos) +
                                 " must be a variable reference, got '" + node->input(static_cast<int>(i)) + "'");
        }
        ctx.inputs_.emplace_back();
        ctx.input_refs_.push_back(slot.ref);
      } else {
        TensorValue v;
        PIPELINE_RETURN_IF_ERROR(Deref(*this, slot, "input '" + node->input(static_cast<int>(i)) + "' of node " + node->name(), &v));
        ctx.inputs_.push_back(std::move(v));
        ctx.input_refs_.emplace_back();
      }
    }
    Status st = reg.kernel(ctx);
    if (!st.ok()) return KernelError(*node, st);
    auto& slots = values[node];
    slots.resize(std::max(ctx.outputs_.size(), ctx.output_refs_.size()));
    for (size_t k = 0; k < slots.size(); ++k) {
      if (k < ctx.outputs_.size()) slots[k].value = std::move(ctx.outputs_[k]);
      if (k < ctx.output_refs_.size()) slots[k].ref = std::move(ctx.output_refs_[k]);
    }
  }

  outputs->clear();
  for (const auto& name : fetches) {
    TensorName t;
    ParseTensorName(name, &t);
    if (t.control) return Status::InvalidArgument("cannot fetch a control dependency '" + name + "'");
    auto f = fed.find({t.node, t.index});
    if (f != fed.end()) {
      outputs->push_back(f->second);
      continue;
    }
    const auto& outs = values.at(FindNode(t.node));
    if (t.index >= static_cast<int>(outs.size())) {
      return Status::Runtime("fetch '" + name + "': node " + t.node + " has no output " + std::to_string(t.index));
    }
    TensorValue v;
    PIPELINE_RETURN_IF_ERROR(Deref(*this, outs[static_cast<size_t>(t.index)], "fetch '" + name + "'", &v));
    outputs->push_back(std::move(v));
  }
  return Status::Ok();
}

Status Interpreter::RunKernel(const NodeDef& node, std::vector<TensorValue> inputs, std::vector<TensorValue>* outputs) {
  auto found = OpRegistry().find(node.op());
  if (found == OpRegistry().end()) return UnsupportedOp(node);
  if (!found->second.ref_inputs.empty()) {
    return Status::Unimplemented("op " + node.op() + " (node " + node.name() + ") takes a variable reference");
  }
  OpContext ctx(this, &node);
  ctx.input_refs_.resize(inputs.size());
  ctx.inputs_ = std::move(inputs);
  Status st = found->second.kernel(ctx);
  if (!st.ok()) return KernelError(node, st);
  if (!ctx.output_refs_.empty()) {
    return Status::Unimplemented("op " + node.op() + " (node " + node.name() + ") outputs a variable reference");
  }
  *outputs = std::move(ctx.outputs_);
  return Status::Ok();
}

Status Interpreter::CallFunction(const std::string& name, const std::vector<TensorValue>& inputs,
                                 std::vector<TensorValue>* outputs) {
  auto it = owner_->functions_.find(name);
  if (it == owner_->functions_.end()) return Status::NotFound("no function named " + name + " in the graph's library");
  const FunctionBody& body = it->second->body;
  if (inputs.size() != body.args.size()) {
    return Status::InvalidArgument("function " + name + " takes " + std::to_string(body.args.size()) + " inputs, got " +
                                   std::to_string(inputs.size()));
  }
  std::vector<std::pair<std::string, TensorValue>> feeds;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].dtype() != body.arg_types[k]) {
      return Status::InvalidArgument("function " + name + ": input arg '" + body.args[k] + "' is " +
                                     DataTypeName(body.arg_types[k]) + ", got " + DataTypeName(inputs[k].dtype()));
    }
    feeds.emplace_back(body.args[k] + ":0", inputs[k]);
  }
  // Per thread: concurrent runs of one interpreter each have their own call chain.
  static thread_local int call_depth = 0;
  if (call_depth >= kMaxCallDepth) {
    return Status::InvalidArgument("function " + name + ": calls nest deeper than " + std::to_string(kMaxCallDepth) +
                                   " (a recursive function library)");
  }
  ++call_depth;
  Status st = it->second->interp->Run(feeds, body.rets, body.control_rets, outputs);
  --call_depth;
  return st.WithPrefix("in function " + name + ": ");
}

const dnnl::engine& Interpreter::engine() {
  if (owner_ != this) return owner_->engine();
  if (!engine_) engine_ = std::make_unique<dnnl::engine>(dnnl::engine::kind::cpu, 0);
  return *engine_;
}

dnnl::stream& Interpreter::stream() {
  if (owner_ != this) return owner_->stream();
  if (!stream_) stream_ = std::make_unique<dnnl::stream>(engine());
  return *stream_;
}

// ---- OpContext ----

void OpContext::set_output(int i, TensorValue v) {
  if (outputs_.size() <= static_cast<size_t>(i)) outputs_.resize(static_cast<size_t>(i) + 1);
  outputs_[static_cast<size_t>(i)] = std::move(v);
}

void OpContext::set_output_ref(int i, std::string variable) {
  if (output_refs_.size() <= static_cast<size_t>(i)) output_refs_.resize(static_cast<size_t>(i) + 1);
  output_refs_[static_cast<size_t>(i)] = std::move(variable);
}

Status OpContext::Error(const std::string& msg) const {
  return Status::Runtime("node " + node_->name() + " (op " + node_->op() + "): " + msg);
}

Status OpContext::ExpectDtype(int i, tensorflow::DataType dtype) const {
  if (input(i).dtype() == dtype) return Status::Ok();
  return Error("input " + std::to_string(i) + " must be " + DataTypeName(dtype) + ", got " +
               DataTypeName(input(i).dtype()));
}

bool OpContext::HasAttr(const std::string& name) const { return node_->attr().count(name) > 0; }

#define PIPELINE_FIND_ATTR(kind_check, kind_name)                                              \
  auto it = node_->attr().find(name);                                                         \
  if (it == node_->attr().end()) return Error("missing attr '" + name + "'");                 \
  const tensorflow::AttrValue& a = it->second;                                                \
  if (!(kind_check)) return Error("attr '" + name + "' is not a " + std::string(kind_name));

Status OpContext::GetAttr(const std::string& name, int64_t* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kI, "int");
  *v = a.i();
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, bool* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kB, "bool");
  *v = a.b();
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, std::string* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kS, "string");
  *v = a.s();
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, tensorflow::DataType* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kType, "type");
  *v = a.type();
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, std::vector<tensorflow::DataType>* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kList || a.value_case() == 0, "list(type)");
  v->clear();
  for (int t : a.list().type()) v->push_back(static_cast<tensorflow::DataType>(t));
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, std::vector<int64_t>* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kList || a.value_case() == 0, "list(int)");
  v->assign(a.list().i().begin(), a.list().i().end());
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, std::vector<tensorflow::TensorShapeProto>* v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kList || a.value_case() == 0, "list(shape)");
  v->assign(a.list().shape().begin(), a.list().shape().end());
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, const tensorflow::TensorShapeProto** v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kShape, "shape");
  *v = &a.shape();
  return Status::Ok();
}
Status OpContext::GetAttr(const std::string& name, const tensorflow::TensorProto** v) const {
  PIPELINE_FIND_ATTR(a.value_case() == tensorflow::AttrValue::kTensor, "tensor");
  *v = &a.tensor();
  return Status::Ok();
}
#undef PIPELINE_FIND_ATTR

bool OpContext::AttrOr(const std::string& name, bool def) const {
  auto it = node_->attr().find(name);
  return it == node_->attr().end() || it->second.value_case() != tensorflow::AttrValue::kB ? def : it->second.b();
}
int64_t OpContext::AttrOr(const std::string& name, int64_t def) const {
  auto it = node_->attr().find(name);
  return it == node_->attr().end() || it->second.value_case() != tensorflow::AttrValue::kI ? def : it->second.i();
}
float OpContext::AttrOr(const std::string& name, float def) const {
  auto it = node_->attr().find(name);
  return it == node_->attr().end() || it->second.value_case() != tensorflow::AttrValue::kF ? def : it->second.f();
}

}  // namespace pipeline
