// Status: the result of an operation that can fail, in LevelDB's style.
// Named constructors say what went wrong; the code decides the exit code:
// InvalidArgument (usage or config errors) exits 2, everything else exits 1.
#pragma once

#include <string>
#include <utility>

namespace pipeline {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,
    kNotFound,
    kCorruption,
    kIOError,
    kUnimplemented,
    kRuntime,
    // TF Serving's codes the model server answers with and nothing else makes:
    // a full batching queue (gRPC UNAVAILABLE, HTTP 503) and a batched run
    // whose outputs cannot be split back (FAILED_PRECONDITION, 400).
    kUnavailable,
    kFailedPrecondition,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Unimplemented(std::string msg) { return Status(Code::kUnimplemented, std::move(msg)); }
  static Status Runtime(std::string msg) { return Status(Code::kRuntime, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) { return Status(Code::kFailedPrecondition, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }

  // Process exit code for this status: 0 ok, 2 usage/config, 1 anything else.
  int ExitCode() const { return ok() ? 0 : (IsInvalidArgument() ? 2 : 1); }

  // The same code with `prefix` before the message (context added on the way up).
  Status WithPrefix(const std::string& prefix) const { return ok() ? *this : Status(code_, prefix + message_); }

  // "Corruption: <message>" etc., for logs.
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Returns early from the enclosing function when `expr` is not ok.
#define PIPELINE_RETURN_IF_ERROR(expr)      \
  do {                                      \
    ::pipeline::Status _st = (expr);        \
    if (!_st.ok()) return _st;              \
  } while (0)

}  // namespace pipeline
