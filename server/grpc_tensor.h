// Tensors in gRPC answers as TF Serving writes them: its Predict replies use
// Tensor::AsProtoField (typed repeated fields: float_val, int64_val,
// string_val, ...), not tensor_content, unless asked otherwise. Clients read
// either (tf.make_ndarray does), but some read only the typed lists, so the
// gRPC server answers in TF Serving's default form. TensorValue::ToProto
// (tensor_content) stays what the files we write use.
#pragma once

#include "proto/tensor.pb.h"
#include "tfformat/tensor_value.h"

namespace pipeline::server {

// `value` as a TensorProto with TensorFlow's typed field for its dtype:
//   float -> float_val, double -> double_val, int64 -> int64_val,
//   bool -> bool_val, string -> string_val, uint32 -> uint32_val,
//   uint64 -> uint64_val, int32/int16/int8/uint8/uint16 and the quantized
//   types -> int_val, half/bfloat16 -> half_val (the 16 bits, zero-extended),
//   complex64/128 -> scomplex_val/dcomplex_val (re, im pairs),
//   float8 -> float8_val (the bytes).
// Every element is written (no fill-with-last compression), and the shape
// always (a scalar's is present and empty), as AsProtoField does. A dtype
// with no typed field (resource, variant) falls back to TensorValue::ToProto.
void TensorToTypedProto(const TensorValue& value, tensorflow::TensorProto* proto);

}  // namespace pipeline::server
