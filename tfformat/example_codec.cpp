#include "tfformat/example_codec.h"

#include "tfformat/tfrecord.h"
#include "common/files.h"
#include "tfformat/table_reader.h"

namespace pipeline {

using tensorflow::DataType;

std::string EncodeFloatExample(const std::string& feature, const float* values, size_t n) {
  tensorflow::Example ex;
  auto* list = (*ex.mutable_features()->mutable_feature())[feature].mutable_float_list();
  list->mutable_value()->Reserve(static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) list->add_value(values[i]);
  std::string out;
  ex.SerializeToString(&out);
  return out;
}

Status DecodeExample(const std::string& serialized, tensorflow::Example* example) {
  if (!example->ParseFromString(serialized)) {
    return Status::Corruption("Could not parse example input, value: '" +
                              serialized.substr(0, std::min<size_t>(serialized.size(), 40)) + "'");
  }
  return Status::Ok();
}

namespace {

DataType KindType(const tensorflow::Feature& f) {
  switch (f.kind_case()) {
    case tensorflow::Feature::kFloatList: return tensorflow::DT_FLOAT;
    case tensorflow::Feature::kInt64List: return tensorflow::DT_INT64;
    case tensorflow::Feature::kBytesList: return tensorflow::DT_STRING;
    default: return tensorflow::DT_INVALID;
  }
}

int64_t KindSize(const tensorflow::Feature& f) {
  switch (f.kind_case()) {
    case tensorflow::Feature::kFloatList: return f.float_list().value_size();
    case tensorflow::Feature::kInt64List: return f.int64_list().value_size();
    case tensorflow::Feature::kBytesList: return f.bytes_list().value_size();
    default: return 0;
  }
}

}  // namespace

Status ParseDenseExamples(const std::vector<std::string>& serialized, const std::vector<DenseFeatureSpec>& specs,
                          std::vector<TensorValue>* out) {
  const int64_t batch = static_cast<int64_t>(serialized.size());
  out->clear();
  std::vector<int64_t> per_example;
  for (const auto& s : specs) {
    if (s.dtype != tensorflow::DT_FLOAT && s.dtype != tensorflow::DT_INT64 && s.dtype != tensorflow::DT_STRING) {
      return Status::InvalidArgument("dense feature " + s.key + ": dtype " + DataTypeName(s.dtype) +
                                     " is not one of float, int64, string");
    }
    for (int64_t d : s.shape)
      if (d < 0) return Status::Unimplemented("dense feature " + s.key + " with a variable-length shape");
    const int64_t n = NumElementsOf(s.shape);
    if (s.default_value.valid() && s.default_value.NumElements() > 0) {
      if (s.default_value.dtype() != s.dtype || s.default_value.NumElements() != n) {
        return Status::InvalidArgument("dense feature " + s.key + ": default value " +
                                       s.default_value.DebugString(3) + " does not match dtype " +
                                       DataTypeName(s.dtype) + " and shape " + ShapeString(s.shape));
      }
    }
    TensorShape shape{batch};
    shape.insert(shape.end(), s.shape.begin(), s.shape.end());
    out->emplace_back(s.dtype, shape);
    per_example.push_back(n);
  }
  std::vector<float*> fp(specs.size(), nullptr);
  std::vector<int64_t*> ip(specs.size(), nullptr);
  for (size_t k = 0; k < specs.size(); ++k) {
    if (specs[k].dtype == tensorflow::DT_FLOAT) fp[k] = (*out)[k].mutable_data<float>();
    if (specs[k].dtype == tensorflow::DT_INT64) ip[k] = (*out)[k].mutable_data<int64_t>();
  }
  tensorflow::Example ex;
  for (int64_t i = 0; i < batch; ++i) {
    PIPELINE_RETURN_IF_ERROR(DecodeExample(serialized[static_cast<size_t>(i)], &ex));
    const auto& fmap = ex.features().feature();
    for (size_t k = 0; k < specs.size(); ++k) {
      const DenseFeatureSpec& s = specs[k];
      const int64_t n = per_example[k];
      const int64_t off = i * n;
      auto it = fmap.find(s.key);
      if (it == fmap.end() || KindType(it->second) == tensorflow::DT_INVALID) {
        if (!s.default_value.valid() || s.default_value.NumElements() == 0) {
          return Status::Runtime("Name: <unknown>, Feature: " + s.key + " (data type: " + DataTypeName(s.dtype) +
                                 ") is required but could not be found. (example " + std::to_string(i) + ")");
        }
        const TensorValue& d = s.default_value;
        if (s.dtype == tensorflow::DT_STRING) {
          auto& dst = (*out)[k].mutable_strings();
          for (int64_t j = 0; j < n; ++j) dst[static_cast<size_t>(off + j)] = d.strings()[static_cast<size_t>(j)];
        } else {
          std::memcpy((*out)[k].mutable_raw() + off * static_cast<int64_t>(DataTypeSize(s.dtype)), d.raw(), d.raw_size());
        }
        continue;
      }
      const tensorflow::Feature& f = it->second;
      if (KindType(f) != s.dtype) {
        return Status::Runtime("Name: <unknown>, Feature: " + s.key + ".  Data types don't match. Data type: " +
                               DataTypeName(KindType(f)) + " but expected type: " + DataTypeName(s.dtype) +
                               " (example " + std::to_string(i) + ")");
      }
      if (KindSize(f) != n) {
        TensorShape os{batch};
        os.insert(os.end(), s.shape.begin(), s.shape.end());
        return Status::Runtime("Name: <unknown>, Key: " + s.key + ", Index: " + std::to_string(i) + ".  Number of " +
                               DataTypeName(s.dtype) + " values != expected.  Values size: " +
                               std::to_string(KindSize(f)) + " but output shape: " + ShapeString(s.shape));
      }
      if (s.dtype == tensorflow::DT_FLOAT) {
        std::copy(f.float_list().value().begin(), f.float_list().value().end(), fp[k] + off);
      } else if (s.dtype == tensorflow::DT_INT64) {
        std::copy(f.int64_list().value().begin(), f.int64_list().value().end(), ip[k] + off);
      } else {
        auto& dst = (*out)[k].mutable_strings();
        for (int64_t j = 0; j < n; ++j) dst[static_cast<size_t>(off + j)] = f.bytes_list().value(static_cast<int>(j));
      }
    }
  }
  return Status::Ok();
}

std::string FrameTFRecord(std::string_view record) {
  std::string out;
  tfrecord::AppendRecord(record, &out);
  return out;
}

Status ParseTFRecords(std::string_view in, const std::string& name, std::vector<std::string>* records) {
  Status st = tfrecord::Decode(in, records);
  if (!st.ok()) return Status::Corruption(name + ": " + st.message());
  return Status::Ok();
}

Status ReadTFRecordFile(const std::string& path, std::vector<std::string>* records) {
  std::string contents;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kTFRecordFile, &contents));
  return ParseTFRecords(contents, path, records);
}

}  // namespace pipeline
