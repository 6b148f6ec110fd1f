// Kernels for constants, placeholders, pass-through ops, variables (reference
// and resource) and checkpoint restore.
#include "serving/interpreter.h"

namespace pipeline {
namespace {

using tensorflow::DataType;

Status ConstOp(OpContext& c) {
  const tensorflow::TensorProto* p;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("value", &p));
  TensorValue v;
  Status st = TensorValue::FromProto(*p, &v);
  if (!st.ok()) return c.Error(st.message());
  DataType dt;
  if (c.GetAttr("dtype", &dt).ok() && dt != v.dtype()) {
    return c.Error("value has dtype " + DataTypeName(v.dtype()) + ", attr dtype says " + DataTypeName(dt));
  }
  c.set_output(0, std::move(v));
  return Status::Ok();
}

Status PlaceholderOp(OpContext& c) {
  DataType dt = tensorflow::DT_INVALID;
  (void)c.GetAttr("dtype", &dt);
  std::string shape;
  const tensorflow::TensorShapeProto* sp;
  if (c.GetAttr("shape", &sp).ok()) shape = " and shape " + ShapeProtoString(*sp);
  return Status::InvalidArgument("You must feed a value for placeholder tensor '" + c.name() + "' with dtype " +
                                 DataTypeName(dt) + shape);
}

Status IdentityOp(OpContext& c) {
  if (c.num_inputs() < 1) return c.Error("needs an input");
  c.set_output(0, c.input(0));
  return Status::Ok();
}

Status NoOp(OpContext&) { return Status::Ok(); }

Status DeclareVariable(OpContext& c, bool resource, std::string* key) {
  *key = Interpreter::ResourceKey(c.node());
  DataType dt;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("dtype", &dt));
  auto& vars = c.interpreter().variables();
  auto it = vars.find(*key);
  if (it == vars.end()) {
    Variable v;
    v.dtype = dt;
    v.resource = resource;
    const tensorflow::TensorShapeProto* sp;
    if (c.GetAttr("shape", &sp).ok()) {
      v.shape_known = true;
      v.shape = *sp;
    }
    vars.emplace(*key, std::move(v));
  } else if (it->second.dtype != dt || it->second.resource != resource) {
    return c.Error("variable '" + *key + "' is declared twice with different dtypes or kinds");
  }
  return Status::Ok();
}

Status VariableOp(OpContext& c) {
  std::string key;
  PIPELINE_RETURN_IF_ERROR(DeclareVariable(c, false, &key));
  c.set_output_ref(0, key);
  return Status::Ok();
}

Status VarHandleOp(OpContext& c) {
  std::string key;
  PIPELINE_RETURN_IF_ERROR(DeclareVariable(c, true, &key));
  c.set_output(0, TensorValue::Handle(key));
  return Status::Ok();
}

Status ResourceVariable(OpContext& c, int i, Variable** var) {
  if (c.input(i).dtype() != tensorflow::DT_RESOURCE) return c.Error("input " + std::to_string(i) + " is not a resource handle");
  auto it = c.interpreter().variables().find(c.input(i).handle());
  if (it == c.interpreter().variables().end() || !it->second.resource) {
    return c.Error("resource '" + c.input(i).handle() + "' is not a resource variable");
  }
  *var = &it->second;
  return Status::Ok();
}

// Writes `value` into `var` (named key) after TensorFlow's checks.
Status WriteVariable(OpContext& c, const std::string& key, Variable* var, const TensorValue& value, bool validate_shape) {
  if (value.dtype() != var->dtype) {
    return c.Error("cannot assign a " + DataTypeName(value.dtype()) + " value to variable '" + key + "' of dtype " +
                   DataTypeName(var->dtype));
  }
  if (validate_shape) {
    if (var->initialized && var->value.shape() != value.shape()) {
      return c.Error("Assign requires shapes of both tensors to match. lhs shape= " +
                     ShapeString(var->value.shape()) + " rhs shape= " + ShapeString(value.shape()) + " (variable '" +
                     key + "')");
    }
    if (var->shape_known && !ShapeCompatible(var->shape, value.shape())) {
      return c.Error("value of shape " + ShapeString(value.shape()) + " does not match variable '" + key +
                     "' declared shape " + ShapeProtoString(var->shape));
    }
  }
  var->value = value;
  var->initialized = true;
  return Status::Ok();
}

Variable* RefVariable(OpContext& c, int i) {
  auto it = c.interpreter().variables().find(c.input_ref(i));
  return it == c.interpreter().variables().end() ? nullptr : &it->second;
}

Status AssignOp(OpContext& c) {
  Variable* var = RefVariable(c, 0);
  if (var == nullptr) return c.Error("unknown variable '" + c.input_ref(0) + "'");
  PIPELINE_RETURN_IF_ERROR(WriteVariable(c, c.input_ref(0), var, c.input(1), c.AttrOr("validate_shape", true)));
  c.set_output_ref(0, c.input_ref(0));
  return Status::Ok();
}

// var (op)= delta for numeric dtypes; shapes must match.
template <int Sign>
Status Accumulate(OpContext& c, const std::string& key, Variable* var, const TensorValue& delta) {
  if (!var->initialized) return c.Error("Attempting to use uninitialized value " + key);
  if (delta.dtype() != var->dtype) return c.Error("dtype mismatch updating variable '" + key + "'");
  if (delta.shape() != var->value.shape()) {
    return c.Error("shapes must match updating variable '" + key + "': " + ShapeString(var->value.shape()) + " vs " +
                   ShapeString(delta.shape()));
  }
  return DispatchNumeric(var->dtype, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      return c.Error("cannot accumulate bool variables");
    } else {
      T* v = var->value.template mutable_data<T>();
      const T* d = delta.template data<T>();
      for (int64_t i = 0, n = delta.NumElements(); i < n; ++i) v[i] = static_cast<T>(Sign > 0 ? v[i] + d[i] : v[i] - d[i]);
      return Status::Ok();
    }
  });
}

template <int Sign>
Status AssignAccumulateOp(OpContext& c) {
  Variable* var = RefVariable(c, 0);
  if (var == nullptr) return c.Error("unknown variable '" + c.input_ref(0) + "'");
  PIPELINE_RETURN_IF_ERROR(Accumulate<Sign>(c, c.input_ref(0), var, c.input(1)));
  c.set_output_ref(0, c.input_ref(0));
  return Status::Ok();
}

Status ReadVariableOp(OpContext& c) {
  Variable* var;
  PIPELINE_RETURN_IF_ERROR(ResourceVariable(c, 0, &var));
  if (!var->initialized) {
    // TF's own message is "Could not find variable X ... In TF1, it can also
    // mean the variable is uninitialized". The common cause in a SavedModel:
    // a Keras 3 model written by tf.saved_model.save restores copies of its
    // variables (Variable_N) while its signatures read the originals, so TF
    // Serving's loader fails on it the same way.
    return c.Error("Error while reading resource variable " + c.input(0).handle() +
                   ": the variable is uninitialized (neither the restore op nor the init op wrote it; TF Serving "
                   "fails the same way. A Keras model saved with tf.saved_model.save is served from model.export())");
  }
  DataType dt;
  if (c.GetAttr("dtype", &dt).ok() && dt != var->dtype) {
    return c.Error("reads " + DataTypeName(dt) + " from variable '" + c.input(0).handle() + "' of dtype " +
                   DataTypeName(var->dtype));
  }
  c.set_output(0, var->value);
  return Status::Ok();
}

Status AssignVariableOp(OpContext& c) {
  Variable* var;
  PIPELINE_RETURN_IF_ERROR(ResourceVariable(c, 0, &var));
  return WriteVariable(c, c.input(0).handle(), var, c.input(1), true);
}

template <int Sign>
Status AssignAccumulateVariableOp(OpContext& c) {
  Variable* var;
  PIPELINE_RETURN_IF_ERROR(ResourceVariable(c, 0, &var));
  return Accumulate<Sign>(c, c.input(0).handle(), var, c.input(1));
}

Status VarIsInitializedOp(OpContext& c) {
  Variable* var;
  PIPELINE_RETURN_IF_ERROR(ResourceVariable(c, 0, &var));
  c.set_output(0, TensorValue::Scalar<bool>(var->initialized));
  return Status::Ok();
}

Status IsVariableInitializedOp(OpContext& c) {
  Variable* var = RefVariable(c, 0);
  c.set_output(0, TensorValue::Scalar<bool>(var != nullptr && var->initialized));
  return Status::Ok();
}

// RestoreV2(prefix, tensor_names, shape_and_slices) -> tensors (attr dtypes).
Status RestoreV2Op(OpContext& c) {
  if (c.num_inputs() != 3) return c.Error("expects 3 inputs");
  PIPELINE_RETURN_IF_ERROR(c.ExpectDtype(0, tensorflow::DT_STRING));
  PIPELINE_RETURN_IF_ERROR(c.ExpectDtype(1, tensorflow::DT_STRING));
  PIPELINE_RETURN_IF_ERROR(c.ExpectDtype(2, tensorflow::DT_STRING));
  if (c.input(0).NumElements() != 1) return c.Error("prefix must be a single string");
  const auto& names = c.input(1).strings();
  const auto& slices = c.input(2).strings();
  std::vector<DataType> dtypes;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("dtypes", &dtypes));
  if (names.size() != dtypes.size() || slices.size() != dtypes.size()) {
    return c.Error("tensor_names (" + std::to_string(names.size()) + "), shape_and_slices (" +
                   std::to_string(slices.size()) + ") and dtypes (" + std::to_string(dtypes.size()) +
                   ") must have the same length");
  }
  const auto& source = c.interpreter().checkpoint_source();
  if (!source) return c.Error("no checkpoint is attached to the interpreter");
  const std::string& prefix = c.input(0).strings()[0];
  for (size_t i = 0; i < names.size(); ++i) {
    if (!slices[i].empty()) return Status::Unimplemented("restoring slice '" + slices[i] + "' of '" + names[i] + "'");
    TensorValue v;
    PIPELINE_RETURN_IF_ERROR(source(prefix, names[i], &v));
    if (v.dtype() != dtypes[i]) {
      return c.Error("checkpoint tensor '" + names[i] + "' has dtype " + DataTypeName(v.dtype()) + ", expected " +
                     DataTypeName(dtypes[i]));
    }
    c.set_output(static_cast<int>(i), std::move(v));
  }
  return Status::Ok();
}

}  // namespace

void RegisterStateOps(std::map<std::string, OpRegistration>* r) {
  (*r)["Const"] = {ConstOp, {}};
  (*r)["Placeholder"] = {PlaceholderOp, {}};
  (*r)["PlaceholderWithDefault"] = {IdentityOp, {}};
  (*r)["Identity"] = {IdentityOp, {}};
  (*r)["Snapshot"] = {IdentityOp, {}};
  (*r)["StopGradient"] = {IdentityOp, {}};
  (*r)["NoOp"] = {NoOp, {}};
  (*r)["VariableV2"] = {VariableOp, {}};
  (*r)["Variable"] = {VariableOp, {}};
  (*r)["Assign"] = {AssignOp, {0}};
  (*r)["AssignAdd"] = {AssignAccumulateOp<1>, {0}};
  (*r)["AssignSub"] = {AssignAccumulateOp<-1>, {0}};
  (*r)["IsVariableInitialized"] = {IsVariableInitializedOp, {0}};
  (*r)["VarHandleOp"] = {VarHandleOp, {}};
  (*r)["ReadVariableOp"] = {ReadVariableOp, {}};
  (*r)["AssignVariableOp"] = {AssignVariableOp, {}};
  (*r)["AssignAddVariableOp"] = {AssignAccumulateVariableOp<1>, {}};
  (*r)["AssignSubVariableOp"] = {AssignAccumulateVariableOp<-1>, {}};
  (*r)["VarIsInitializedOp"] = {VarIsInitializedOp, {}};
  (*r)["RestoreV2"] = {RestoreV2Op, {}};
}

}  // namespace pipeline
