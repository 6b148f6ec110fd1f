// ParseExample (V1, as TF1 serving graphs use it) and ParseExampleV2, dense
// features only: serialized tf.Examples -> one dense tensor per feature.
#include "tfformat/example_codec.h"
#include "serving/interpreter.h"

namespace pipeline {
namespace {

using tensorflow::DataType;

Status BuildSpecs(OpContext& c, const std::vector<std::string>& keys, int defaults_begin,
                  std::vector<DenseFeatureSpec>* specs) {
  std::vector<DataType> tdense;
  std::vector<tensorflow::TensorShapeProto> shapes;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("Tdense", &tdense));
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("dense_shapes", &shapes));
  if (tdense.size() != keys.size() || shapes.size() != keys.size()) {
    return c.Error("Tdense, dense_shapes and dense_keys disagree in length");
  }
  if (defaults_begin + static_cast<int>(keys.size()) > c.num_inputs()) return c.Error("missing dense_defaults inputs");
  for (size_t i = 0; i < keys.size(); ++i) {
    DenseFeatureSpec s;
    s.key = keys[i];
    s.dtype = tdense[i];
    if (shapes[i].unknown_rank()) return Status::Unimplemented("dense feature " + s.key + " of unknown rank");
    for (const auto& d : shapes[i].dim()) s.shape.push_back(d.size());
    s.default_value = c.input(defaults_begin + static_cast<int>(i));
    specs->push_back(std::move(s));
  }
  return Status::Ok();
}

Status Emit(OpContext& c, const TensorValue& serialized, const std::vector<DenseFeatureSpec>& specs, int first_output) {
  std::vector<TensorValue> dense;
  Status st = ParseDenseExamples(serialized.strings(), specs, &dense);
  if (!st.ok()) return c.Error(st.message());
  for (size_t i = 0; i < dense.size(); ++i) {
    if (serialized.rank() == 0) {  // V2 scalar input: no batch dimension
      TensorShape s(dense[i].shape().begin() + 1, dense[i].shape().end());
      dense[i] = dense[i].Reshaped(s);
    }
    c.set_output(first_output + static_cast<int>(i), std::move(dense[i]));
  }
  return Status::Ok();
}

// ParseExample(serialized, names, sparse_keys x Nsparse, dense_keys x Ndense,
//              dense_defaults x Ndense)
Status ParseExampleOp(OpContext& c) {
  int64_t ns = 0, nd = 0;
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("Nsparse", &ns));
  PIPELINE_RETURN_IF_ERROR(c.GetAttr("Ndense", &nd));
  if (ns != 0) return Status::Unimplemented("ParseExample with sparse features");
  if (c.num_inputs() != 2 + ns + 2 * nd) return c.Error("expects " + std::to_string(2 + ns + 2 * nd) + " inputs");
  const TensorValue& ser = c.input(0);
  if (ser.dtype() != tensorflow::DT_STRING || ser.rank() != 1) {
    return c.Error("Expected serialized to be a vector of strings, got " + DataTypeName(ser.dtype()) +
                   ShapeString(ser.shape()));
  }
  std::vector<std::string> keys;
  for (int64_t i = 0; i < nd; ++i) {
    const TensorValue& k = c.input(static_cast<int>(2 + ns + i));
    if (k.dtype() != tensorflow::DT_STRING || k.NumElements() != 1) return c.Error("dense keys must be string scalars");
    keys.push_back(k.strings()[0]);
  }
  std::vector<DenseFeatureSpec> specs;
  PIPELINE_RETURN_IF_ERROR(BuildSpecs(c, keys, static_cast<int>(2 + ns + nd), &specs));
  return Emit(c, ser, specs, static_cast<int>(3 * ns));
}

// ParseExampleV2(serialized, names, sparse_keys, dense_keys, ragged_keys,
//                dense_defaults x len(Tdense))
Status ParseExampleV2Op(OpContext& c) {
  if (c.AttrOr("num_sparse", int64_t{0}) != 0) return Status::Unimplemented("ParseExampleV2 with sparse features");
  std::vector<DataType> rv;
  if (c.GetAttr("ragged_value_types", &rv).ok() && !rv.empty()) {
    return Status::Unimplemented("ParseExampleV2 with ragged features");
  }
  if (c.num_inputs() < 5) return c.Error("expects at least 5 inputs");
  const TensorValue& ser = c.input(0);
  if (ser.dtype() != tensorflow::DT_STRING || ser.rank() > 1) {
    return c.Error("Expected serialized to be a scalar or vector of strings, got " + DataTypeName(ser.dtype()) +
                   ShapeString(ser.shape()));
  }
  const TensorValue& dk = c.input(3);
  if (dk.dtype() != tensorflow::DT_STRING) return c.Error("dense_keys must be strings");
  std::vector<DenseFeatureSpec> specs;
  PIPELINE_RETURN_IF_ERROR(BuildSpecs(c, dk.strings(), 5, &specs));
  return Emit(c, ser, specs, 0);
}

}  // namespace

void RegisterParseOps(std::map<std::string, OpRegistration>* r) {
  (*r)["ParseExample"] = {ParseExampleOp, {}};
  (*r)["ParseExampleV2"] = {ParseExampleV2Op, {}};
}

}  // namespace pipeline
