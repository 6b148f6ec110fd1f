#pragma once
// Protobuf writes map fields (NodeDef.attr, SignatureDef.inputs, Features.feature)
// in hash order, which changes from one process to the next. Everything we write
// to disk goes through here instead, so that the same config and seed give the
// same saved_model.pb and warmup bytes (TensorFlow's own writers are deterministic too).
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

namespace pipeline::savedmodel {

inline std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace pipeline::savedmodel
