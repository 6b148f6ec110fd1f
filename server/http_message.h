// HTTP/1.1 messages as the model server sees them, and the incremental
// request parser (RFC 9112) the connection loop feeds with whatever bytes
// arrive. The parser is the REST API's outer wall: it bounds every size
// before allocating, refuses what it cannot frame, and is fuzzed
// (fuzz/http_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipeline::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... (case as sent)
  std::string target;  // request-target as sent: "/v1/models/m:predict?x=1"
  std::string path;    // target without the query, percent-decoded
  int version_minor = 1;  // HTTP/1.x
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
  std::string body;       // de-chunked
  bool keep_alive = true; // HTTP/1.1 default, Connection: close / HTTP/1.0 rules

  // The first header named `name` (lower-case), or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length and Connection are added by the server
  std::string body;
};

// The reason phrase of an HTTP status ("OK", "Bad Request", ...).
const char* HttpReason(int status);

struct HttpParserLimits {
  size_t max_header_bytes = 64 * 1024;        // request line + headers; beyond: 431
  size_t max_body_bytes = 256 * 1024 * 1024;  // Content-Length or de-chunked size; beyond: 413
};

class HttpRequestParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit HttpRequestParser(HttpParserLimits limits = {}) : limits_(limits) {}

  // Consumes bytes of [data, data + size) (sets *consumed, which may be
  // less than size when a request ends inside the buffer: the rest is the
  // next pipelined request). kDone: request() holds a full request; call
  // Reset() before the next one. kError: error_status() (400, 413, 431,
  // 501 for a transfer coding other than chunked, 505 for a version other
  // than HTTP/1.0 or 1.1) and error_message() say why; the connection
  // answers and closes.
  State Feed(const char* data, size_t size, size_t* consumed);
  void Reset();

  // Whether bytes of a request have arrived but the request is not complete
  // (what a read timeout distinguishes from an idle keep-alive connection).
  bool InProgress() const;

  // Whether the request asked for `Expect: 100-continue` (HTTP/1.1) and its
  // body has not started: the server answers "100 Continue" so that a client
  // waiting for it (curl does, for bodies over 1 KB) sends the body at once.
  bool ExpectsContinue() const;

  const HttpRequest& request() const { return request_; }
  HttpRequest& request() { return request_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  HttpParserLimits limits_;
  HttpRequest request_;
  int error_status_ = 0;
  std::string error_message_;
  // Parser state owned by http_message.cpp.
  int phase_ = 0;
  std::string buffer_;  // a head or chunk-size line split across Feeds
  size_t content_length_ = 0;
  size_t chunk_remaining_ = 0;
  bool chunked_ = false;
  size_t section_bytes_ = 0;  // head (or trailer) bytes so far, against max_header_bytes
  size_t line_len_ = 0;       // bytes of the current head/trailer line before its LF
  char line_first_ = 0;       // its first byte (a line of just "\r" is blank)
  bool seen_line_ = false;    // a non-blank head line arrived (blank ones before it are skipped)
  bool cr_seen_ = false;      // the CR of the CRLF after chunk data
  bool expect_continue_ = false;
  bool body_started_ = false;
};

// The bytes of `response` on the wire: status line, headers (with
// Content-Length, and Connection: close when !keep_alive), blank line, body.
std::string SerializeResponse(const HttpResponse& response, bool keep_alive, int version_minor);

// SerializeResponse appending to *out (the server reuses one buffer per
// connection). `head_only` leaves the body out (a HEAD request's answer keeps
// its Content-Length); `extra` is header lines already formatted, each ending
// in CRLF ("Date: ...\r\n").
void AppendResponse(const HttpResponse& response, bool keep_alive, int version_minor, bool head_only,
                    std::string_view extra, std::string* out);

}  // namespace pipeline::server
