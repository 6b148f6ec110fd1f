#include "server/text_proto.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace pipeline::server {
namespace {

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty()) first = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  std::string first;
};

}  // namespace

Status ParseTextProtoFile(const std::string& text, const std::string& file, const std::string& example,
                          google::protobuf::Message* out) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(text, out)) return Status::Ok();
  return Status::InvalidArgument(file + ": " + (errors.first.empty() ? "cannot parse" : errors.first) +
                                 " (expected a " + out->GetDescriptor()->name() + " text proto: " + example + ")");
}

}  // namespace pipeline::server
