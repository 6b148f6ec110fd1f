#include "common/status.h"

namespace pipeline {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: name = "Invalid argument"; break;
    case Code::kNotFound: name = "Not found"; break;
    case Code::kCorruption: name = "Corruption"; break;
    case Code::kIOError: name = "IO error"; break;
    case Code::kUnimplemented: name = "Unimplemented"; break;
    case Code::kRuntime: name = "Runtime error"; break;
    case Code::kUnavailable: name = "Unavailable"; break;
    case Code::kFailedPrecondition: name = "Failed precondition"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace pipeline
