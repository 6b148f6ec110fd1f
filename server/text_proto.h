// The model server's config files are protobuf text (TF Serving's
// --model_config_file, --monitoring_config_file, --batching_parameters_file):
// one parse with the first error's position, so every file's error reads the
// same.
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "common/status.h"

namespace pipeline::server {

// Parses `text`, read from `file`, into `out`. InvalidArgument
// "FILE: line L, column C: what (expected a <message> text proto: EXAMPLE)",
// the message named by its type, with `example` a minimal good text.
Status ParseTextProtoFile(const std::string& text, const std::string& file, const std::string& example,
                          google::protobuf::Message* out);

}  // namespace pipeline::server
