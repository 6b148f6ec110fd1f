// Function-call kernels (TF2 SavedModels): StatefulPartitionedCall and
// PartitionedCall name their function in attr `f`; a node whose op is a
// library function calls it directly. The body runs in the interpreter's
// function library (function_library.h).
#include "serving/interpreter.h"

namespace pipeline {

namespace {

Status Call(OpContext& c, const std::string& function) {
  std::vector<TensorValue> inputs;
  for (int i = 0; i < c.num_inputs(); ++i) inputs.push_back(c.input(i));
  std::vector<TensorValue> outputs;
  PIPELINE_RETURN_IF_ERROR(c.interpreter().CallFunction(function, inputs, &outputs));
  std::vector<tensorflow::DataType> tout;
  if (c.HasAttr("Tout")) {
    PIPELINE_RETURN_IF_ERROR(c.GetAttr("Tout", &tout));
    if (tout.size() != outputs.size()) {
      return c.Error("attr Tout lists " + std::to_string(tout.size()) + " outputs, function " + function + " returns " +
                     std::to_string(outputs.size()));
    }
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!tout.empty() && outputs[k].dtype() != tout[k]) {
      return c.Error("output " + std::to_string(k) + " of function " + function + " is " +
                     DataTypeName(outputs[k].dtype()) + ", attr Tout says " + DataTypeName(tout[k]));
    }
    c.set_output(static_cast<int>(k), std::move(outputs[k]));
  }
  return Status::Ok();
}

Status PartitionedCall(OpContext& c) {
  auto f = c.node().attr().find("f");
  if (f == c.node().attr().end() || f->second.value_case() != tensorflow::AttrValue::kFunc) {
    return c.Error("missing attr 'f' naming the function to call");
  }
  return Call(c, f->second.func().name());
}

// _Arg nodes of a function body are always fed by the call.
Status ArgOp(OpContext& c) { return c.Error("a function argument was not fed"); }

}  // namespace

Status CallNamedFunction(OpContext& c) { return Call(c, c.node().op()); }

void RegisterFunctionOps(std::map<std::string, OpRegistration>* r) {
  (*r)["StatefulPartitionedCall"] = {PartitionedCall, {}};
  (*r)["PartitionedCall"] = {PartitionedCall, {}};
  (*r)["_Arg"] = {ArgOp, {}};
}

}  // namespace pipeline
