#include "serving/compiled_signature.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <set>
#include <unordered_map>
#include <utility>

#include "common/strings.h"
#include "serving/flush_denormals.h"
#include "serving/tensor_name.h"

namespace pipeline::serving {
namespace {

using dnnl::memory;
using tensorflow::NodeDef;
using TensorKey = std::pair<std::string, int>;  // (node, output index)

const dnnl::engine& CpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Ops whose value cannot depend on a request, evaluated once at compile time
// (a variable's read, a table's handle). Anything stateful or random is not
// here: freezing it would change what the graph means.
const std::set<std::string>& FoldableOps() {
  static const std::set<std::string> ops = {"Const",       "Identity",    "Snapshot", "VariableV2", "Variable",
                                            "VarHandleOp", "ReadVariableOp", "HashTable", "HashTableV2", "NoOp"};
  return ops;
}

// Request-dependent ops the interpreter's kernels run inside a compiled
// signature: each reads only its inputs (a lookup also reads its restored
// table), so concurrent runs need no lock.
const std::set<std::string>& KernelOps() {
  static const std::set<std::string> ops = {
      "Identity", "Snapshot", "Softmax", "TopKV2", "Cast", "LookupTableFind", "LookupTableFindV2", "ParseExample", "ParseExampleV2",
      "BiasAdd",  "Add",      "AddV2",   "Relu",   "Relu6", "Sigmoid",           "Tanh",         "Elu", "LeakyRelu",
      "Softplus", "Mul",      "Neg",     "Erfc"};  // the last three: gelu (export/activation_ops.cpp)
  return ops;
}

// A memory object whose buffer each run sets (set_data_handle).
void* const kNoHandle = nullptr;

bool IsFloatMatrix(const TensorValue& v) { return v.dtype() == tensorflow::DT_FLOAT && v.rank() == 2; }

}  // namespace

struct CompiledSignature::Program {
  struct Input {
    std::string alias;
    int slot = 0;
    tensorflow::DataType dtype = tensorflow::DT_INVALID;
    const tensorflow::TensorShapeProto* shape = nullptr;  // the placeholder's, when it states one
  };
  // One matmul: out = in · kernel + bias.
  struct Dense {
    int in = 0, out = 0;  // slots
    int64_t k = 0, n = 0;
    bool transpose_b = false;
    TensorValue kernel;  // [k, n], or [n, k] with transpose_b
    TensorValue bias;    // [n], or invalid
    std::string what;  // "MatMul 784x256 + BiasAdd"
  };
  struct Step {
    int dense = -1;                     // index into `dense`, or -1: a kernel
    const NodeDef* node = nullptr;      // the kernel's node
    std::vector<int> ins, outs;         // slots
  };

  Interpreter* interpreter = nullptr;
  std::vector<Input> inputs;
  std::vector<TensorValue> initial;  // the slots, constants filled in
  std::vector<Dense> dense;
  std::vector<Step> steps;
  std::map<std::string, int> outputs;  // alias -> slot
};

// The primitives of one batch size, and the workspaces of the runs using them.
struct CompiledSignature::BatchPlan {
  struct Workspace {
    dnnl::stream stream;
    // Per dense layer: its memory objects (whose handles each run sets), its
    // scratchpad, and the argument map naming them, built once (a
    // dnnl::memory is a handle: the map's copies see set_data_handle).
    // Nothing here is shared with another run.
    std::vector<memory> src, dst;
    std::vector<std::unordered_map<int, memory>> args;
  };

  int64_t batch = 0;
  uint64_t last_use = 0;
  std::vector<dnnl::matmul> matmuls;
  std::vector<memory::desc> src_md, weights_md, bias_md, dst_md, scratchpad_md;
  std::mutex mu;
  std::vector<std::unique_ptr<Workspace>> free;

  std::unique_ptr<Workspace> Acquire(const Program& p) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free.empty()) {
        std::unique_ptr<Workspace> ws = std::move(free.back());
        free.pop_back();
        return ws;
      }
    }
    const dnnl::engine& e = CpuEngine();
    auto ws = std::make_unique<Workspace>();
    ws->stream = dnnl::stream(e);
    for (size_t d = 0; d < matmuls.size(); ++d) {
      const Program::Dense& layer = p.dense[d];
      ws->src.emplace_back(src_md[d], e, kNoHandle);
      ws->dst.emplace_back(dst_md[d], e, kNoHandle);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, ws->src.back()},
          {DNNL_ARG_WEIGHTS, memory(weights_md[d], e, const_cast<char*>(layer.kernel.raw()))},
          {DNNL_ARG_DST, ws->dst.back()},
          {DNNL_ARG_SCRATCHPAD, memory(scratchpad_md[d], e)}};  // allocated by oneDNN, owned by the memory
      if (layer.bias.valid()) args.emplace(DNNL_ARG_BIAS, memory(bias_md[d], e, const_cast<char*>(layer.bias.raw())));
      ws->args.push_back(std::move(args));
    }
    return ws;
  }
  void Release(std::unique_ptr<Workspace> ws) {
    std::lock_guard<std::mutex> lock(mu);
    free.push_back(std::move(ws));
  }
};

CompiledSignature::CompiledSignature() = default;
CompiledSignature::~CompiledSignature() = default;

std::unique_ptr<CompiledSignature> CompiledSignature::Compile(SavedModelReader& reader, const std::string& key,
                                                              std::string* why_not) {
  const tensorflow::SignatureDef* sig = reader.FindSignature(key);
  if (sig == nullptr) {
    *why_not = "no signature '" + key + "'";
    return nullptr;
  }
  if (!reader.restored()) {
    *why_not = "the variables are not restored";
    return nullptr;
  }
  Interpreter& interp = reader.interpreter();
  auto program = std::make_unique<Program>();
  program->interpreter = &interp;
  std::map<TensorKey, int> slots;
  auto slot_of = [&](const TensorKey& t) {
    auto [it, added] = slots.emplace(t, static_cast<int>(program->initial.size()));
    if (added) program->initial.emplace_back();
    return it->second;
  };
  auto parse = [](const std::string& name, TensorName* t) { return ParseTensorName(name, t) && !t->control; };

  // Inputs: fed tensors, checked against their placeholder's dtype and shape
  // before a run (a mismatch goes to the interpreter, for its error text).
  std::vector<std::string> fed, roots;
  std::set<TensorKey> fed_keys;
  for (const auto& [alias, info] : sig->inputs()) {
    TensorName t;
    if (info.encoding_case() != tensorflow::TensorInfo::kName || !parse(info.name(), &t)) {
      *why_not = "input '" + alias + "' is not a dense tensor";
      return nullptr;
    }
    const NodeDef* node = interp.FindNode(t.node);
    if (node == nullptr) {
      *why_not = "input '" + alias + "' names no node";
      return nullptr;
    }
    Program::Input in;
    in.alias = alias;
    in.slot = slot_of({t.node, t.index});
    in.dtype = info.dtype();
    reader.TensorDtype(info.name(), &in.dtype);  // the graph's word wins, as the interpreter's kernels see it
    // A fed Placeholder checks its shape (as the interpreter does); a fed
    // inner tensor (our `x`, the Identity after ParseExample) only its dtype.
    auto shape = node->attr().find("shape");
    if (node->op() == "Placeholder" && shape != node->attr().end() && shape->second.has_shape() &&
        shape->second.shape().dim_size() > 0)
      in.shape = &shape->second.shape();
    program->inputs.push_back(in);
    fed.push_back(info.name());
    fed_keys.insert({t.node, t.index});
  }
  for (const auto& [alias, info] : sig->outputs()) {
    if (info.encoding_case() != tensorflow::TensorInfo::kName) {
      *why_not = "output '" + alias + "' is not a dense tensor";
      return nullptr;
    }
    roots.push_back(info.name());
  }
  std::vector<const NodeDef*> order;
  Status planned = interp.Plan(fed, roots, &order);
  if (!planned.ok()) {
    *why_not = planned.message();
    return nullptr;
  }

  // Which nodes depend on a request, and who reads each tensor.
  std::set<std::string> dynamic;
  std::map<TensorKey, std::vector<const NodeDef*>> readers;
  for (const NodeDef* node : order) {
    bool depends = false;
    for (const auto& input : node->input()) {
      TensorName t;
      if (!parse(input, &t)) continue;
      readers[{t.node, t.index}].push_back(node);
      if (fed_keys.count({t.node, t.index}) || dynamic.count(t.node)) depends = true;
    }
    if (depends) dynamic.insert(node->name());
    else if (!FoldableOps().count(node->op())) {
      *why_not = "op " + node->op() + " (node " + node->name() + ") is not compiled";
      return nullptr;
    }
  }
  std::set<TensorKey> output_keys;
  for (const auto& [alias, info] : sig->outputs()) {
    TensorName t;
    parse(info.name(), &t);
    output_keys.insert({t.node, t.index});
  }
  // A constant tensor's value, computed now by the interpreter.
  auto constant = [&](const TensorKey& t, int* slot) -> bool {
    *slot = slot_of(t);
    TensorValue& v = program->initial[static_cast<size_t>(*slot)];
    if (v.valid()) return true;
    std::vector<TensorValue> values;
    Status st = interp.Run({}, {t.first + ":" + std::to_string(t.second)}, {}, &values);
    if (!st.ok() || values.size() != 1) {
      *why_not = "cannot evaluate " + t.first + ": " + st.message();
      return false;
    }
    v = values[0];
    return true;
  };
  auto input_slot = [&](const std::string& input, int* slot) -> bool {
    TensorName t;
    parse(input, &t);
    const TensorKey k{t.node, t.index};
    if (fed_keys.count(k) || dynamic.count(t.node)) {
      *slot = slot_of(k);
      return true;
    }
    return constant(k, slot);
  };
  // The node reading `t` when it is the only reader and `t` is no output.
  auto sole_reader = [&](const TensorKey& t) -> const NodeDef* {
    auto it = readers.find(t);
    if (output_keys.count(t) || it == readers.end() || it->second.size() != 1) return nullptr;
    return it->second[0];
  };

  std::set<const NodeDef*> fused;
  for (const NodeDef* node : order) {
    if (!dynamic.count(node->name()) || fused.count(node)) continue;
    Program::Step step;
    if (node->op() == "MatMul" && node->input_size() >= 2) {
      auto attr_true = [&](const char* name) {
        auto it = node->attr().find(name);
        return it != node->attr().end() && it->second.b();
      };
      TensorName a, b;
      parse(node->input(0), &a);
      parse(node->input(1), &b);
      const bool weights_constant = !fed_keys.count({b.node, b.index}) && !dynamic.count(b.node);
      int kernel_slot = -1;
      if (!attr_true("transpose_a") && weights_constant && constant({b.node, b.index}, &kernel_slot) &&
          IsFloatMatrix(program->initial[static_cast<size_t>(kernel_slot)])) {
        Program::Dense d;
        d.kernel = program->initial[static_cast<size_t>(kernel_slot)];
        d.transpose_b = attr_true("transpose_b");
        d.k = d.transpose_b ? d.kernel.dim(1) : d.kernel.dim(0);
        d.n = d.transpose_b ? d.kernel.dim(0) : d.kernel.dim(1);
        d.what = "MatMul " + std::to_string(d.k) + "x" + std::to_string(d.n);
        if (!input_slot(node->input(0), &d.in)) return nullptr;
        TensorKey last{node->name(), 0};
        // + bias: BiasAdd(x, b) or Add(x, b) / Add(b, x) of a constant [n].
        if (const NodeDef* add = sole_reader(last);
            add != nullptr && (add->op() == "BiasAdd" || add->op() == "Add" || add->op() == "AddV2") &&
            add->input_size() == 2) {
          TensorName x0, x1;
          parse(add->input(0), &x0);
          parse(add->input(1), &x1);
          const bool first_is_x = x0.node == node->name() && x0.index == 0;
          const TensorName& other = first_is_x ? x1 : x0;
          int bias_slot = -1;
          if ((first_is_x || add->op() != "BiasAdd") && !fed_keys.count({other.node, other.index}) &&
              !dynamic.count(other.node) && constant({other.node, other.index}, &bias_slot)) {
            const TensorValue& bias = program->initial[static_cast<size_t>(bias_slot)];
            if (bias.dtype() == tensorflow::DT_FLOAT && bias.rank() == 1 && bias.dim(0) == d.n) {
              d.bias = bias;
              d.what += " + " + add->op();
              fused.insert(add);
              last = {add->name(), 0};
            }
          }
        }
        d.out = slot_of(last);
        step.dense = static_cast<int>(program->dense.size());
        program->dense.push_back(std::move(d));
        program->steps.push_back(std::move(step));
        continue;
      }
    }
    if (!KernelOps().count(node->op())) {
      *why_not = "op " + node->op() + " (node " + node->name() + ") is not compiled";
      return nullptr;
    }
    step.node = node;
    for (const auto& input : node->input()) {
      TensorName t;
      if (!parse(input, &t)) continue;  // control inputs order nothing here: every node above is pure
      int slot = -1;
      if (!input_slot(input, &slot)) return nullptr;
      step.ins.push_back(slot);
    }
    // Outputs the run keeps: every index some reader or the signature uses.
    int outs = 1;
    for (const auto& [t, r] : readers)
      if (t.first == node->name()) outs = std::max(outs, t.second + 1);
    for (const auto& t : output_keys)
      if (t.first == node->name()) outs = std::max(outs, t.second + 1);
    for (int k = 0; k < outs; ++k) step.outs.push_back(slot_of({node->name(), k}));
    program->steps.push_back(std::move(step));
  }
  if (program->dense.empty()) {
    *why_not = "no MatMul of a constant kernel";
    return nullptr;
  }
  for (const auto& [alias, info] : sig->outputs()) {
    int slot = -1;
    if (!input_slot(info.name(), &slot)) return nullptr;
    program->outputs[alias] = slot;
  }
  std::unique_ptr<CompiledSignature> compiled(new CompiledSignature());
  compiled->program_ = std::move(program);
  return compiled;
}

std::shared_ptr<CompiledSignature::BatchPlan> CompiledSignature::PlanFor(int64_t batch) const {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = plans_.find(batch);
    if (it != plans_.end()) {
      it->second->last_use = ++clock_;
      return it->second;
    }
  }
  // A new batch size: create its primitives outside the lock (milliseconds),
  // so runs of cached sizes never wait for it.
  const dnnl::engine& e = CpuEngine();
  auto plan = std::make_shared<BatchPlan>();
  plan->batch = batch;
  for (const Program::Dense& d : program_->dense) {
    const memory::desc src({batch, d.k}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc weights = d.transpose_b ? memory::desc({d.k, d.n}, memory::data_type::f32, memory::dims{1, d.k})
                                               : memory::desc({d.k, d.n}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc bias({1, d.n}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc dst({batch, d.n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // each run brings its own: concurrent runs
    const dnnl::matmul::desc desc = d.bias.valid() ? dnnl::matmul::desc(src, weights, bias, dst)
                                                   : dnnl::matmul::desc(src, weights, dst);
    const dnnl::matmul::primitive_desc pd(desc, attr, e);
    plan->matmuls.emplace_back(pd);
    plan->src_md.push_back(src);
    plan->weights_md.push_back(weights);
    plan->bias_md.push_back(bias);
    plan->dst_md.push_back(dst);
    plan->scratchpad_md.push_back(pd.scratchpad_desc());
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  auto [it, added] = plans_.emplace(batch, plan);
  it->second->last_use = ++clock_;
  if (added && plans_.size() > kMaxBatchSizes) {
    // Evict the least recently used size; runs holding it finish with it.
    auto oldest = plans_.begin();
    for (auto p = plans_.begin(); p != plans_.end(); ++p)
      if (p->second->last_use < oldest->second->last_use) oldest = p;
    plans_.erase(oldest);
  }
  return it->second;
}

bool CompiledSignature::TryRun(const std::map<std::string, TensorValue>& inputs,
                               const std::vector<std::string>& output_aliases,
                               std::map<std::string, TensorValue>* outputs) const {
  const Program& p = *program_;
  if (inputs.size() != p.inputs.size()) return false;
  std::vector<TensorValue> slots = p.initial;
  for (const Program::Input& in : p.inputs) {
    auto it = inputs.find(in.alias);
    if (it == inputs.end() || it->second.dtype() != in.dtype) return false;
    if (in.shape != nullptr && !ShapeCompatible(*in.shape, it->second.shape())) return false;
    slots[static_cast<size_t>(in.slot)] = it->second;
  }
  for (const auto& alias : output_aliases)
    if (!p.outputs.count(alias)) return false;

  const ScopedFlushDenormal flush_denormals;  // as the interpreter runs: TensorFlow's rule
  std::shared_ptr<BatchPlan> plan;
  std::unique_ptr<BatchPlan::Workspace> ws;
  struct ReturnWorkspace {  // on every way out
    std::shared_ptr<BatchPlan>& plan;
    std::unique_ptr<BatchPlan::Workspace>& ws;
    ~ReturnWorkspace() {
      if (plan && ws) plan->Release(std::move(ws));
    }
  } return_workspace{plan, ws};

  for (const Program::Step& step : p.steps) {
    if (step.dense < 0) {
      std::vector<TensorValue> ins;
      ins.reserve(step.ins.size());
      for (int s : step.ins) ins.push_back(slots[static_cast<size_t>(s)]);
      std::vector<TensorValue> outs;
      if (!p.interpreter->RunKernel(*step.node, std::move(ins), &outs).ok()) return false;
      if (outs.size() < step.outs.size()) return false;
      for (size_t k = 0; k < step.outs.size(); ++k) slots[static_cast<size_t>(step.outs[k])] = std::move(outs[k]);
      continue;
    }
    const Program::Dense& d = p.dense[static_cast<size_t>(step.dense)];
    const TensorValue& x = slots[static_cast<size_t>(d.in)];
    if (!IsFloatMatrix(x) || x.dim(1) != d.k || x.dim(0) <= 0) return false;
    const int64_t batch = x.dim(0);
    if (!plan) {
      plan = PlanFor(batch);
      ws = plan->Acquire(p);
    } else if (plan->batch != batch) {
      return false;  // branches of different batch sizes: not a graph of ours
    }
    TensorValue y(tensorflow::DT_FLOAT, {batch, d.n});
    const size_t i = static_cast<size_t>(step.dense);
    ws->src[i].set_data_handle(const_cast<char*>(x.raw()));
    ws->dst[i].set_data_handle(y.mutable_raw());
    plan->matmuls[i].execute(ws->stream, ws->args[i]);
    ws->stream.wait();
    slots[static_cast<size_t>(d.out)] = std::move(y);
  }
  outputs->clear();
  if (output_aliases.empty()) {
    for (const auto& [alias, slot] : p.outputs) (*outputs)[alias] = slots[static_cast<size_t>(slot)];
  } else {
    for (const auto& alias : output_aliases) (*outputs)[alias] = slots[static_cast<size_t>(p.outputs.at(alias))];
  }
  for (const auto& [alias, v] : *outputs)
    if (!v.valid()) return false;
  return true;
}

std::string CompiledSignature::Describe() const {
  std::vector<std::string> parts;
  for (const Program::Step& step : program_->steps)
    parts.push_back(step.dense >= 0 ? program_->dense[static_cast<size_t>(step.dense)].what : step.node->op());
  return Join(parts, ", ");
}

size_t CompiledSignature::CachedBatchSizes() const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  return plans_.size();
}

}  // namespace pipeline::serving
