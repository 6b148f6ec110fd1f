#include "server/http_message.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace pipeline::server {

namespace {

// Where Feed is in a request. The head is scanned line by line for the blank
// line that ends it; it is copied into buffer_ only when it spans Feeds (the
// usual request arrives whole and is parsed in place).
enum Phase : int {
  kHead = 0,
  kBody,           // content_length_ bytes
  kChunkSize,      // "1a;ext=v\r\n"
  kChunkData,      // chunk_remaining_ bytes
  kChunkDataEnd,   // the CRLF after a chunk's data
  kTrailer,        // trailer fields (discarded) up to a blank line
  kFinished,
  kFailed,
};

// A chunk-size line is hex digits and extensions nobody sends long; the bound
// keeps a client from making the parser buffer one without end.
constexpr size_t kMaxChunkLineBytes = 4096;
// A body is reserved up front only this far: Content-Length is a claim, and
// a connection that claims 256 MB and sends nothing must not cost 256 MB.
constexpr size_t kMaxBodyReserve = 64 * 1024;
// Reset() keeps buffers' capacity for the next request on the connection,
// but not a large body's.
constexpr size_t kMaxKeptCapacity = 1024 * 1024;

bool IsTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!IsTchar(c)) return false;
  return true;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls f on each element of a comma-separated list (RFC 9110 §5.6.1),
// trimmed, skipping empty ones.
template <typename F>
void ForEachListElement(std::string_view value, F f) {
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view item = TrimOws(value.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

// A field value may hold VCHAR, obs-text, SP and HTAB; any other control
// byte (NUL, a bare CR) is refused rather than passed to the handler.
bool ValidFieldValue(std::string_view v) {
  for (unsigned char c : v)
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
  return true;
}

// The path of a request-target: origin-form "/p?q", absolute-form
// "http://host/p?q" (RFC 9112 §3.2.2: a server must accept it), else the
// target itself ("*" for OPTIONS, host:port for CONNECT), each without the query.
std::string_view RawPath(std::string_view target) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (!path.empty() && path.front() != '/') {
    const size_t scheme_end = path.find("://");
    if (scheme_end != std::string_view::npos && scheme_end > 0) {
      // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
      bool scheme = IsAlpha(path[0]);
      for (char c : path.substr(0, scheme_end))
        scheme = scheme && (IsAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
      if (scheme) {
        const size_t slash = path.find('/', scheme_end + 3);
        return slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
      }
    }
  }
  return path;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return &value;
  return nullptr;
}

const char* HttpReason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: break;
  }
  if (status >= 100 && status < 200) return "Informational";
  if (status >= 200 && status < 300) return "Success";
  if (status >= 300 && status < 400) return "Redirection";
  if (status >= 400 && status < 500) return "Client Error";
  return "Server Error";
}

// ---------------------------------------------------------------------------
// The parser.

bool HttpRequestParser::InProgress() const {
  if (phase_ == kHead) return section_bytes_ > 0;
  return phase_ != kFinished && phase_ != kFailed;
}

bool HttpRequestParser::ExpectsContinue() const {
  return expect_continue_ && !body_started_ && (phase_ == kBody || phase_ == kChunkSize);
}

void HttpRequestParser::Reset() {
  request_.method.clear();
  request_.target.clear();
  request_.path.clear();
  request_.version_minor = 1;
  request_.headers.clear();
  request_.body.clear();
  if (request_.body.capacity() > kMaxKeptCapacity) std::string().swap(request_.body);
  request_.keep_alive = true;
  error_status_ = 0;
  error_message_.clear();
  phase_ = kHead;
  buffer_.clear();
  if (buffer_.capacity() > kMaxKeptCapacity) std::string().swap(buffer_);
  content_length_ = 0;
  chunk_remaining_ = 0;
  chunked_ = false;
  section_bytes_ = 0;
  line_len_ = 0;
  line_first_ = 0;
  seen_line_ = false;
  cr_seen_ = false;
  expect_continue_ = false;
  body_started_ = false;
}

namespace {

// Everything about one request's head, parsed from its complete text, as a
// free function over the request so the parser class keeps only its state.
struct HeadResult {
  bool ok = true;
  int status = 0;
  std::string message;
  bool chunked = false;
  size_t content_length = 0;
  bool expect_continue = false;
};

HeadResult Refuse(int status, std::string message) {
  HeadResult r;
  r.ok = false;
  r.status = status;
  r.message = std::move(message);
  return r;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

HeadResult ParseRequestLine(std::string_view line, HttpRequest* req) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return Refuse(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view rest = line.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos) return Refuse(400, "malformed request line");
  const std::string_view target = rest.substr(0, sp2);
  const std::string_view version = rest.substr(sp2 + 1);
  if (!IsToken(method)) return Refuse(400, "malformed request line: bad method");
  if (target.empty()) return Refuse(400, "malformed request line");
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f) return Refuse(400, "malformed request line: bad character in the request target");
  // HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive, RFC 9112 §2.3).
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return Refuse(400, "malformed request line: bad HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return Refuse(505, "HTTP version " + std::string(version.substr(5)) + " is not supported (HTTP/1.0 and HTTP/1.1 are)");
  req->method.assign(method);
  req->target.assign(target);
  req->version_minor = version[7] - '0';
  if (!PercentDecode(RawPath(target), &req->path))
    return Refuse(400, "invalid percent-encoding in the request target");
  return {};
}

HeadResult ParseHead(std::string_view head, const HttpParserLimits& limits, HttpRequest* req) {
  HeadResult result;
  bool first = true;
  bool have_length = false, have_te = false, close = false, keep_alive = false;
  bool chunked_last = false;
  int chunked_count = 0;
  std::string_view unknown_coding;
  bool length_too_large = false;
  size_t length = 0;
  while (!head.empty()) {
    const size_t nl = head.find('\n');  // the head ends in a blank line: always found
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A bare CR is never a line ending here (RFC 9112 §2.2).
    if (line.find('\r') != std::string_view::npos) return Refuse(400, "bare CR in the request head");
    if (first) {
      first = false;
      HeadResult r = ParseRequestLine(line, req);
      if (!r.ok) return r;
      continue;
    }
    if (line.empty()) break;  // the blank line
    if (line.front() == ' ' || line.front() == '\t')
      return Refuse(400, "obsolete line folding in a header is not accepted");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Refuse(400, "malformed header line (no colon)");
    const std::string_view name = line.substr(0, colon);
    // Whitespace before the colon is refused (RFC 9112 §5.1): it is how
    // requests are smuggled past proxies that read the name differently.
    if (!IsToken(name)) return Refuse(400, "malformed header name");
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (!ValidFieldValue(value)) return Refuse(400, "invalid character in a header value");
    req->headers.emplace_back(std::string(name), std::string(value));
    std::string& key = req->headers.back().first;
    for (char& c : key) c = Lower(c);

    if (key == "content-length") {
      bool bad = false;
      int items = 0;
      ForEachListElement(value, [&](std::string_view item) {
        ++items;
        size_t v = 0;
        bool big = false;
        for (char c : item) {
          if (c < '0' || c > '9') {
            bad = true;
            return;
          }
          if (!big) {
            v = v * 10 + static_cast<size_t>(c - '0');
            if (v > limits.max_body_bytes) big = true;  // before v*10 could overflow
          }
        }
        // Repeats of one value are allowed (RFC 9112 §6.3); differing ones are not.
        if (have_length && (big != length_too_large || (!big && v != length))) bad = true;
        have_length = true;
        length = v;
        length_too_large = big;
      });
      if (bad || items == 0) return Refuse(400, "invalid Content-Length");
    } else if (key == "transfer-encoding") {
      have_te = true;
      ForEachListElement(value, [&](std::string_view item) {
        const std::string_view coding = TrimOws(item.substr(0, item.find(';')));
        if (EqualsIgnoreCase(coding, "chunked")) {
          ++chunked_count;
          chunked_last = true;
        } else {
          if (unknown_coding.empty()) unknown_coding = coding;
          chunked_last = false;
        }
      });
    } else if (key == "connection") {
      ForEachListElement(value, [&](std::string_view item) {
        if (EqualsIgnoreCase(item, "close")) close = true;
        if (EqualsIgnoreCase(item, "keep-alive")) keep_alive = true;
      });
    } else if (key == "expect") {
      if (EqualsIgnoreCase(value, "100-continue")) result.expect_continue = req->version_minor >= 1;
    }
  }
  if (have_te) {
    // Both framings in one request is the classic smuggling vector: refused
    // (RFC 9112 §6.1 allows it, but only with the connection closed after).
    if (have_length) return Refuse(400, "both Transfer-Encoding and Content-Length are set");
    if (!unknown_coding.empty())
      return Refuse(501, "transfer coding '" + std::string(unknown_coding) + "' is not supported (only chunked is)");
    if (chunked_count != 1 || !chunked_last) return Refuse(400, "invalid Transfer-Encoding");
    result.chunked = true;
  }
  if (length_too_large)
    return Refuse(413, "the request body exceeds the limit of " + std::to_string(limits.max_body_bytes) + " bytes");
  result.content_length = length;
  // An HTTP/1.0 message with Transfer-Encoding has faulty framing by
  // definition (RFC 9112 §6.1): it is read, answered, and the connection closed.
  req->keep_alive = !close && (req->version_minor >= 1 || keep_alive) && !(have_te && req->version_minor == 0);
  return result;
}

}  // namespace

HttpRequestParser::State HttpRequestParser::Feed(const char* data, size_t size, size_t* consumed) {
  *consumed = 0;
  if (phase_ == kFailed) return State::kError;
  if (phase_ == kFinished) return State::kDone;
  auto fail = [&](int status, std::string message) {
    error_status_ = status;
    error_message_ = std::move(message);
    phase_ = kFailed;
  };
  size_t pos = 0;
  while (phase_ != kFinished && phase_ != kFailed) {
    if (pos == size) {
      *consumed = pos;
      return State::kNeedMore;
    }
    const char* p = data + pos;
    const size_t n = size - pos;
    if (phase_ != kHead) body_started_ = true;
    switch (phase_) {
      case kHead:
      case kTrailer: {
        // Scan line by line for the blank line that ends the section.
        const bool head = phase_ == kHead;
        size_t i = 0, start = 0;
        bool ended = false;
        while (i < n) {
          const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
          const size_t end = nl ? static_cast<size_t>(nl - p) + 1 : n;
          if (section_bytes_ + (end - i) > limits_.max_header_bytes) {
            fail(431, std::string(head ? "the request line and headers" : "the chunked trailer") + " exceed " +
                          std::to_string(limits_.max_header_bytes) + " bytes");
            break;
          }
          section_bytes_ += end - i;
          if (!nl) {
            if (line_len_ == 0) line_first_ = p[i];
            line_len_ += end - i;
            i = end;
            break;
          }
          const size_t len = line_len_ + static_cast<size_t>(nl - (p + i));
          const char first = line_len_ ? line_first_ : p[i];
          line_len_ = 0;
          i = end;
          const bool blank = len == 0 || (len == 1 && first == '\r');
          if (!blank) {
            seen_line_ = true;
            continue;
          }
          if (head && !seen_line_) {
            // Empty lines before the request line are skipped (RFC 9112 §2.2);
            // they still count against the limit.
            buffer_.clear();
            start = i;
            continue;
          }
          ended = true;
          break;
        }
        if (phase_ == kFailed) break;
        if (!head) {  // trailer fields are read and dropped: nothing to keep
          pos += i;
          if (ended) phase_ = kFinished;
          break;
        }
        if (!ended) {
          buffer_.append(p + start, i - start);
          pos += i;
          break;
        }
        std::string_view text(p + start, i - start);
        if (!buffer_.empty()) {
          buffer_.append(text);
          text = buffer_;
        }
        HeadResult r = ParseHead(text, limits_, &request_);
        buffer_.clear();
        pos += i;
        if (!r.ok) {
          fail(r.status, std::move(r.message));
          break;
        }
        chunked_ = r.chunked;
        content_length_ = r.content_length;
        expect_continue_ = r.expect_continue;
        if (chunked_) {
          phase_ = kChunkSize;
        } else if (content_length_ > 0) {
          request_.body.reserve(std::min(content_length_, kMaxBodyReserve));
          phase_ = kBody;
        } else {
          phase_ = kFinished;
        }
        break;
      }
      case kBody: {
        const size_t take = std::min(n, content_length_ - request_.body.size());
        request_.body.append(p, take);
        pos += take;
        if (request_.body.size() == content_length_) phase_ = kFinished;
        break;
      }
      case kChunkSize: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
        const size_t end = nl ? static_cast<size_t>(nl - p) + 1 : n;
        if (buffer_.size() + end > kMaxChunkLineBytes) {
          fail(400, "chunk-size line longer than " + std::to_string(kMaxChunkLineBytes) + " bytes");
          break;
        }
        pos += end;
        if (!nl) {
          buffer_.append(p, end);
          break;
        }
        std::string_view line(p, end - 1);
        if (!buffer_.empty()) {
          buffer_.append(line);
          line = buffer_;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        size_t i = 0, value = 0;
        bool big = false;
        for (; i < line.size() && HexValue(line[i]) >= 0; ++i) {
          if (!big) {
            value = value * 16 + static_cast<size_t>(HexValue(line[i]));
            if (value > limits_.max_body_bytes) big = true;  // before value*16 could overflow
          }
        }
        std::string_view rest = line.substr(i);
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        // chunk-ext = *( BWS ";" BWS name [ "=" value ] ): read and ignored,
        // but control bytes in it are refused like in a header value.
        const bool ext_ok = rest.empty() || (rest.front() == ';' && ValidFieldValue(rest));
        buffer_.clear();
        if (i == 0 || !ext_ok) {
          fail(400, "invalid chunk size line");
          break;
        }
        if (big || value > limits_.max_body_bytes - request_.body.size()) {
          fail(413, "the request body exceeds the limit of " + std::to_string(limits_.max_body_bytes) + " bytes");
          break;
        }
        if (value == 0) {
          section_bytes_ = 0;
          line_len_ = 0;
          phase_ = kTrailer;
        } else {
          chunk_remaining_ = value;
          phase_ = kChunkData;
        }
        break;
      }
      case kChunkData: {
        const size_t take = std::min(n, chunk_remaining_);
        request_.body.append(p, take);
        chunk_remaining_ -= take;
        pos += take;
        if (chunk_remaining_ == 0) {
          cr_seen_ = false;
          phase_ = kChunkDataEnd;
        }
        break;
      }
      case kChunkDataEnd: {
        const char c = *p;
        ++pos;
        if (c == '\r' && !cr_seen_) {
          cr_seen_ = true;
        } else if (c == '\n') {
          phase_ = kChunkSize;
        } else {
          fail(400, "chunk data not followed by CRLF");
        }
        break;
      }
      default:
        break;
    }
  }
  *consumed = pos;
  return phase_ == kFinished ? State::kDone : State::kError;
}

// ---------------------------------------------------------------------------
// Responses.

void AppendResponse(const HttpResponse& response, bool keep_alive, int version_minor, bool head_only,
                    std::string_view extra, std::string* out) {
  // Always "HTTP/1.1", also to a 1.0 client (RFC 9110 §2.5: the highest
  // version we conform to); the framing below is one a 1.0 client reads.
  const int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
  char num[24];
  out->append("HTTP/1.1 ");
  out->append(num, std::to_chars(num, num + sizeof num, status).ptr);
  out->push_back(' ');
  out->append(HttpReason(status));
  out->append("\r\n");
  for (const auto& [name, value] : response.headers) {
    // The server frames the body and owns the connection: the handler's own
    // values for these would contradict what is sent.
    if (!IsToken(name) || EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "connection") ||
        EqualsIgnoreCase(name, "transfer-encoding"))
      continue;
    out->append(name);
    out->append(": ");
    const size_t at = out->size();
    out->append(value);
    // No CR or LF from a value may end the line early (response splitting).
    for (size_t i = at; i < out->size(); ++i)
      if ((*out)[i] == '\r' || (*out)[i] == '\n' || (*out)[i] == '\0') (*out)[i] = ' ';
    out->append("\r\n");
  }
  out->append(extra);
  // 1xx, 204 and 304 have no body, and 1xx and 204 no Content-Length (RFC 9110 §8.6).
  const bool bodiless = status < 200 || status == 204 || status == 304;
  if (!bodiless) {
    out->append("Content-Length: ");
    out->append(num, std::to_chars(num, num + sizeof num, response.body.size()).ptr);
    out->append("\r\n");
  }
  if (!keep_alive) {
    out->append("Connection: close\r\n");
  } else if (version_minor == 0) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
  if (!bodiless && !head_only) out->append(response.body);
}

std::string SerializeResponse(const HttpResponse& response, bool keep_alive, int version_minor) {
  std::string out;
  out.reserve(128 + response.body.size());
  AppendResponse(response, keep_alive, version_minor, /*head_only=*/false, {}, &out);
  return out;
}

}  // namespace pipeline::server
