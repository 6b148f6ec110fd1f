// The model server's config files are protobuf text (TF Serving's
// --model_config_file, --monitoring_config_file): one parse with the first
// error's position, so every file's error reads the same.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace pipeline::server {

// Parses `text` into `out`; false with *error = "line L, column C: what".
bool ParseTextProto(const std::string& text, google::protobuf::Message* out, std::string* error);

}  // namespace pipeline::server
