// libFuzzer target: the HTTP/1.1 request parser (server/http_message.h), the
// REST API's outer wall. The input's first byte says how many of the next
// bytes are piece sizes; the rest is fed in pieces of those sizes (cycled),
// Reset() after each finished request, the way the connection loop feeds
// whatever each read returned. The same bytes are then fed in one piece:
// both runs must see the same requests and the same error, since where TCP
// happens to split a stream must never change what it means. Invariants:
// Feed never consumes more than it was given, consumes everything when it
// needs more, finishes a request only by consuming a byte of it, consumes
// nothing after kError or kDone (until Reset), and no body exceeds its limit.
// Small limits so that the 413 and 431 paths are reached.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "server/http_message.h"

namespace {

using pipeline::server::HttpParserLimits;
using pipeline::server::HttpRequest;
using pipeline::server::HttpRequestParser;
using State = HttpRequestParser::State;

// What one run saw: each finished request, then the error or the partial end.
struct Outcome {
  std::vector<HttpRequest> requests;
  int error_status = 0;
  std::string error_message;
  bool in_progress = false;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

HttpParserLimits Limits() {
  HttpParserLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 4096;
  return limits;
}

Outcome Run(const char* data, size_t size, const std::vector<size_t>& pieces) {
  HttpRequestParser parser(Limits());
  Outcome out;
  size_t pos = 0, piece = 0;
  while (pos < size) {
    const size_t want = pieces.empty() ? size - pos : pieces[piece++ % pieces.size()];
    size_t len = want < size - pos ? want : size - pos;
    const char* p = data + pos;
    pos += len;
    while (len > 0) {  // one piece may hold the end of a request and more
      size_t consumed = ~size_t{0};
      const State s = parser.Feed(p, len, &consumed);
      Check(consumed <= len);
      if (s == State::kNeedMore) {
        Check(consumed == len);
        break;
      }
      if (s == State::kError) {
        Check(parser.error_status() >= 400 && parser.error_status() <= 599 && !parser.error_message().empty());
        size_t again = 1;
        Check(parser.Feed(p, len, &again) == State::kError && again == 0);
        out.error_status = parser.error_status();
        out.error_message = parser.error_message();
        return out;
      }
      Check(consumed > 0);
      const HttpRequest& r = parser.request();
      Check(r.body.size() <= Limits().max_body_bytes);
      Check(!r.method.empty() && !r.target.empty());
      Check(r.version_minor == 0 || r.version_minor == 1);
      Check(!parser.InProgress() && !parser.ExpectsContinue());
      size_t again = 1;
      Check(parser.Feed(p + consumed, len - consumed, &again) == State::kDone && again == 0);
      out.requests.push_back(r);
      parser.Reset();
      Check(!parser.InProgress() && parser.request().body.empty() && parser.request().headers.empty());
      p += consumed;
      len -= consumed;
    }
  }
  out.in_progress = parser.InProgress();
  return out;
}

bool Same(const HttpRequest& a, const HttpRequest& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.version_minor == b.version_minor &&
         a.headers == b.headers && a.body == b.body && a.keep_alive == b.keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 1 << 16) return -1;
  const size_t count = data[0] % 16;
  if (size < 1 + count) return -1;
  std::vector<size_t> pieces;
  for (size_t i = 0; i < count; ++i) pieces.push_back(size_t{data[1 + i]} + 1);  // 1..256 bytes
  const char* text = reinterpret_cast<const char*>(data + 1 + count);
  const size_t text_size = size - 1 - count;

  const Outcome split = Run(text, text_size, pieces);
  const Outcome whole = Run(text, text_size, {});
  Check(split.requests.size() == whole.requests.size());
  for (size_t i = 0; i < split.requests.size(); ++i) Check(Same(split.requests[i], whole.requests[i]));
  Check(split.error_status == whole.error_status && split.error_message == whole.error_message);
  Check(split.in_progress == whole.in_progress);
  return 0;
}
