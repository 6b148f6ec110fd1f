// pipeline inspect DIR: what `saved_model_cli show --all` prints, plus the
// variables, the ops used, the init op and the reader's warnings.
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "common/status.h"
#include "common/strings.h"
#include "serving/reader.h"

namespace pipeline::cli {

extern const char kInspectUsage[] =
    "usage: pipeline inspect DIR [--tag TAG]\n\n"
    "Reads the SavedModel version directory DIR (saved_model.pb and variables/, every checksum\n"
    "verified) and prints, for the MetaGraphDef tagged TAG (default serve): every signature with\n"
    "its method and its inputs and outputs (dtype, shape, tensor name), the init op, the\n"
    "checkpoint's variables with dtypes and shapes, the ops the graph uses, and warnings: signatures\n"
    "that disagree with the graph (e.g. a TensorInfo dtype that is not the tensor's), init ops that\n"
    "re-initialize restored variables, ops the interpreter cannot run.\n"
    "Exit codes: 0 printed, 1 unreadable model (missing files, cannot parse, checksum mismatch),\n"
    "2 usage error.\n";

namespace {

// A TensorInfo shape as saved_model_cli prints it (TF 2.21
// tools/saved_model_cli.py _print_tensor_info: '(' + ', '.join(dims) + ')'),
// so a vector is "(-1)", not Python's tuple "(-1,)".
std::string CliShape(const tensorflow::TensorShapeProto& shape) {
  if (shape.unknown_rank()) return "unknown_rank";
  std::string s = "(";
  for (int i = 0; i < shape.dim_size(); ++i) s += (i ? ", " : "") + std::to_string(shape.dim(i).size());
  return s + ")";
}

void PrintTensorInfo(const std::string& kind, const std::string& alias, const tensorflow::TensorInfo& info) {
  std::printf("    %s['%s'] tensor_info:\n", kind.c_str(), alias.c_str());
  std::printf("        dtype: %s\n", tensorflow::DataType_Name(info.dtype()).c_str());
  std::printf("        shape: %s\n",
              info.has_tensor_shape() ? CliShape(info.tensor_shape()).c_str() : "unknown_rank");
  if (info.encoding_case() == tensorflow::TensorInfo::kCooSparse) {
    std::printf("        sparse: values %s, indices %s, dense_shape %s\n", info.coo_sparse().values_tensor_name().c_str(),
                info.coo_sparse().indices_tensor_name().c_str(), info.coo_sparse().dense_shape_tensor_name().c_str());
  } else {
    std::printf("        name: %s\n", info.name().c_str());
  }
}

// What saved_model_cli show --all prints: the writer and every signature.
void PrintHeaderAndSignatures(const std::string& dir, const SavedModelReader& r) {
  const auto& mg = r.meta_graph();
  std::printf("SavedModel %s (schema version %lld, %d meta graph(s))\n", dir.c_str(),
              static_cast<long long>(r.saved_model().saved_model_schema_version()), r.saved_model().meta_graphs_size());
  const auto& info = mg.meta_info_def();
  std::vector<std::string> tags(info.tags().begin(), info.tags().end());
  std::printf("written by TensorFlow %s%s\n\n", info.tensorflow_version().empty() ? "(unknown)" : info.tensorflow_version().c_str(),
              info.tensorflow_git_version().empty() ? "" : (" (" + info.tensorflow_git_version() + ")").c_str());
  std::printf("MetaGraphDef with tag-set: '%s' contains the following SignatureDefs:\n", Join(tags, ", ").c_str());
  for (const auto& key : r.SignatureKeys()) {
    const auto* sig = r.FindSignature(key);
    std::printf("\nsignature_def['%s']:\n", key.c_str());
    std::printf("  The given SavedModel SignatureDef contains the following input(s):\n");
    // Sorted by alias, as saved_model_cli prints them: a protobuf map's order changes from run to run.
    const std::map<std::string, tensorflow::TensorInfo> inputs(sig->inputs().begin(), sig->inputs().end());
    const std::map<std::string, tensorflow::TensorInfo> outputs(sig->outputs().begin(), sig->outputs().end());
    for (const auto& [alias, ti] : inputs) PrintTensorInfo("inputs", alias, ti);
    std::printf("  The given SavedModel SignatureDef contains the following output(s):\n");
    for (const auto& [alias, ti] : outputs) PrintTensorInfo("outputs", alias, ti);
    std::printf("  Method name is: %s\n", sig->method_name().c_str());
  }
}

// The init and restore ops, and the checkpoint's variables.
void PrintInitAndVariables(const SavedModelReader& r) {
  const auto& mg = r.meta_graph();
  std::printf("\nInit op: %s\n", r.init_op().empty() ? "(none)" : r.init_op().c_str());
  if (mg.has_saver_def()) std::printf("Restore op: %s\n", mg.saver_def().restore_op_name().c_str());
  if (!r.has_checkpoint()) {
    std::printf("\nVariables: none (no variables/variables.index)\n");
    return;
  }
  std::printf("\nVariables (checkpoint %s, %zu tensors, all checksums verified):\n", r.variables_prefix().c_str(),
              r.checkpoint().size());
  for (const auto& [key, t] : r.checkpoint()) {
    std::string shape = "(";
    for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
    shape += t.shape.size() == 1 ? ",)" : ")";
    std::printf("  %s: %s %s\n", key.c_str(), tensorflow::DataType_Name(t.dtype).c_str(), shape.c_str());
  }
}

// The ops the graph uses (marking those the interpreter lacks) and its functions.
void PrintOps(const SavedModelReader& r) {
  auto ops = r.OpCounts();
  std::printf("\nOps used (%zu distinct, %d nodes):\n", ops.size(), r.meta_graph().graph_def().node_size());
  const auto& registry = OpRegistry();
  for (const auto& [op, n] : ops) {
    std::printf("  %-28s %4d%s\n", op.c_str(), n, registry.count(op) ? "" : "  (not supported by the interpreter)");
  }
  auto fns = r.Functions();
  if (!fns.empty()) std::printf("\nFunctions in the graph library (%zu): %s\n", fns.size(), Join(fns, ", ").c_str());
}

}  // namespace

int InspectCommand(const std::vector<std::string>& args) {
  std::string dir, tag = "serve";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--tag" && i + 1 < args.size()) {
      tag = args[++i];
    } else if (args[i].rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s (options: --tag)\n%s", args[i].c_str(), kInspectUsage);
      return 2;
    } else if (dir.empty()) {
      dir = args[i];
    } else {
      std::fprintf(stderr, "unexpected argument '%s'\n%s", args[i].c_str(), kInspectUsage);
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "missing DIR: the SavedModel version directory\n%s", kInspectUsage);
    return 2;
  }
  ReaderOptions options;
  options.tag = tag;
  std::unique_ptr<SavedModelReader> r;
  Status st = SavedModelReader::Open(dir, options, &r);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  // Restoring runs the graph; failing to is reported, not fatal, for inspect.
  Status restore = r->Restore();

  PrintHeaderAndSignatures(dir, *r);
  PrintInitAndVariables(*r);
  PrintOps(*r);

  std::printf("\nRestore and init: %s\n", restore.ok() ? "ok" : restore.message().c_str());
  if (!r->warnings().empty()) {
    std::printf("\nWarnings (%zu):\n", r->warnings().size());
    for (const auto& w : r->warnings()) std::printf("  warning: %s\n", w.c_str());
  }
  return 0;
}

}  // namespace pipeline::cli
