// tf.Example encoding/decoding (proto/example.proto) and TFRecord framing,
// plus the dense-feature parsing that ParseExample / ParseExampleV2 perform.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/example.pb.h"
#include "tfformat/tensor_value.h"

namespace pipeline {

// A serialized tf.Example holding one float_list feature.
std::string EncodeFloatExample(const std::string& feature, const float* values, size_t n);
// Parses a serialized tf.Example; Corruption if it is not one.
Status DecodeExample(const std::string& serialized, tensorflow::Example* example);

// One dense feature to parse: float, int64 or string values reshaped to
// `shape` (fully defined). An empty/invalid default makes it required.
struct DenseFeatureSpec {
  std::string key;
  tensorflow::DataType dtype = tensorflow::DT_FLOAT;
  TensorShape shape;
  TensorValue default_value;
};

// Parses each serialized example; out[i] is [batch] + specs[i].shape.
// Errors name the example index and feature, in TensorFlow's words.
Status ParseDenseExamples(const std::vector<std::string>& serialized, const std::vector<DenseFeatureSpec>& specs,
                          std::vector<TensorValue>* out);

// TFRecord framing (tfformat/tfrecord.h): uint64 length, masked CRC-32C of
// the length bytes, data, masked CRC-32C of the data (all little-endian).
std::string FrameTFRecord(std::string_view record);
// Splits a whole TFRecord file's contents into records, verifying both CRCs
// of every record (Corruption naming the record index and offset).
Status ParseTFRecords(std::string_view contents, const std::string& name, std::vector<std::string>* records);
Status ReadTFRecordFile(const std::string& path, std::vector<std::string>* records);

}  // namespace pipeline
