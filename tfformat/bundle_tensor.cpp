#include "tfformat/bundle_tensor.h"

#include <cstdio>
#include <cstring>

namespace pipeline {

int64_t BundleTensor::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

BundleTensor BundleTensor::Floats(std::vector<int64_t> shape, const std::vector<float>& values) {
  BundleTensor t;
  t.dtype = tensorflow::DT_FLOAT;
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());  // host is little-endian
  return t;
}

BundleTensor BundleTensor::Strings(std::vector<int64_t> shape, std::vector<std::string> values) {
  BundleTensor t;
  t.dtype = tensorflow::DT_STRING;
  t.shape = std::move(shape);
  t.strings = std::move(values);
  return t;
}

float BundleTensor::FloatAt(int64_t i) const {
  float f;
  std::memcpy(&f, bytes.data() + i * sizeof(float), sizeof(float));
  return f;
}

size_t DataTypeSize(tensorflow::DataType dtype) {
  using namespace tensorflow;
  switch (dtype) {
    case DT_BOOL:
    case DT_INT8:
    case DT_UINT8:
    case DT_QINT8:
    case DT_QUINT8:
    case DT_FLOAT8_E5M2:
    case DT_FLOAT8_E4M3FN:
      return 1;
    case DT_INT16:
    case DT_UINT16:
    case DT_QINT16:
    case DT_QUINT16:
    case DT_HALF:
    case DT_BFLOAT16:
      return 2;
    case DT_FLOAT:
    case DT_INT32:
    case DT_UINT32:
    case DT_QINT32:
      return 4;
    case DT_DOUBLE:
    case DT_INT64:
    case DT_UINT64:
    case DT_COMPLEX64:
      return 8;
    case DT_COMPLEX128:
      return 16;
    default:
      return 0;
  }
}

std::string BundleIndexPath(const std::string& prefix) { return prefix + ".index"; }

std::string BundleDataPath(const std::string& prefix, int shard, int num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", shard, num_shards);
  return prefix + buf;
}

}  // namespace pipeline
