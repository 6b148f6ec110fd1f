// In-memory tensors of the checkpoint layer (TensorFlow "tensor bundle",
// the V2 checkpoint format: <prefix>.index + <prefix>.data-00000-of-00001).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/types.pb.h"

namespace pipeline {

// A dense tensor as stored in a checkpoint. Numeric dtypes keep their
// elements as raw little-endian bytes in `bytes` (row-major); DT_STRING keeps
// one std::string per element in `strings` (and `bytes` stays empty).
struct BundleTensor {
  tensorflow::DataType dtype = tensorflow::DT_INVALID;
  std::vector<int64_t> shape;  // empty = scalar
  std::string bytes;
  std::vector<std::string> strings;

  int64_t NumElements() const;  // product of shape (1 for a scalar)

  static BundleTensor Floats(std::vector<int64_t> shape, const std::vector<float>& values);
  static BundleTensor Strings(std::vector<int64_t> shape, std::vector<std::string> values);
  // Element i of a DT_FLOAT tensor (no bounds or dtype check).
  float FloatAt(int64_t i) const;

  bool operator==(const BundleTensor&) const = default;
};

using BundleTensors = std::map<std::string, BundleTensor>;  // key -> tensor, sorted

// Bytes per element of a fixed-size dtype; 0 for DT_STRING and for dtypes the
// bundle layer does not support (resource, variant, 4-bit types, refs).
size_t DataTypeSize(tensorflow::DataType dtype);

// "<prefix>.index" and "<prefix>.data-<shard:05>-of-<num_shards:05>".
std::string BundleIndexPath(const std::string& prefix);
std::string BundleDataPath(const std::string& prefix, int shard = 0, int num_shards = 1);

}  // namespace pipeline
