// The REST API's HTTP/1.1 transport: the incremental request parser
// (server/http_message.h) on hand-made bytes, and the event-loop server
// (server/http_server.h) over real loopback sockets on an ephemeral port.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/http_message.h"
#include "server/http_server.h"

using pipeline::Status;
using pipeline::server::HttpParserLimits;
using pipeline::server::HttpRequest;
using pipeline::server::HttpRequestParser;
using pipeline::server::HttpResponse;
using pipeline::server::HttpServerOptions;
using State = pipeline::server::HttpRequestParser::State;

namespace {

// Feeds all of `text` (resetting after each request) and returns the last state.
State FeedAll(HttpRequestParser* p, const std::string& text, size_t* consumed = nullptr) {
  size_t used = 0;
  const State s = p->Feed(text.data(), text.size(), &used);
  if (consumed) *consumed = used;
  return s;
}

// Feeds `text` in two pieces split at `at`; the state after the second.
State FeedSplit(HttpRequestParser* p, const std::string& text, size_t at) {
  size_t used = 0;
  State s = p->Feed(text.data(), at, &used);
  if (s != State::kNeedMore) return s;
  REQUIRE(used == at);
  s = p->Feed(text.data() + at, text.size() - at, &used);
  return s;
}

int ErrorOf(const std::string& text, HttpParserLimits limits = {}) {
  HttpRequestParser p(limits);
  const State s = FeedAll(&p, text);
  if (s != State::kError) return s == State::kDone ? 0 : -1;
  return p.error_status();
}

const std::string kPost =
    "POST /v1/models/m:predict?x=1 HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "Content-Type:  application/json \r\n"
    "Content-Length: 26\r\n"
    "\r\n"
    "{\"instances\": [1.0, 2.0]}\n";

const std::string kChunked =
    "POST /echo HTTP/1.1\r\n"
    "Host: x\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5;name=value\r\n"
    "hello\r\n"
    "7 ; a=\"b\"\r\n"
    ", world\r\n"
    "0\r\n"
    "X-Checksum: 1\r\n"
    "\r\n";

void CheckPost(const HttpRequest& r) {
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/models/m:predict?x=1");
  CHECK(r.path == "/v1/models/m:predict");
  CHECK(r.version_minor == 1);
  CHECK(r.keep_alive);
  REQUIRE(r.Header("content-type") != nullptr);
  CHECK(*r.Header("content-type") == "application/json");
  CHECK(r.body == "{\"instances\": [1.0, 2.0]}\n");
}

// ---------------------------------------------------------------------------
// A blocking loopback client with a receive timeout, so a broken server fails
// a test instead of hanging it.

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers) {
      std::string lk = k;
      for (char& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lk == lower_name) return v;
    }
    return "";
  }
};

class Client {
 public:
  explicit Client(int port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

  bool Send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // One response (Content-Length framed); status 0 when the connection
  // closed or timed out first.
  Response Read() {
    Response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return r;
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 9, "HTTP/1.1 ") != 0) return r;
    const int status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
      line_end = next;
    }
    const std::string length = r.Header("content-length");
    const size_t n = length.empty() ? 0 : std::stoul(length);
    while (buf_.size() < n)
      if (!Fill()) return r;
    r.body = buf_.substr(0, n);
    buf_.erase(0, n);
    r.status = status;
    return r;
  }

  // Raw bytes through the first `marker` (all there is on EOF/timeout).
  std::string ReadUntil(const std::string& marker) {
    size_t at;
    while ((at = buf_.find(marker)) == std::string::npos)
      if (!Fill()) break;
    return ReadBytes(at == std::string::npos ? buf_.size() : at + marker.size());
  }

  // Raw bytes until at least `n` are buffered (or EOF/timeout); consumes them.
  std::string ReadBytes(size_t n) {
    while (buf_.size() < n)
      if (!Fill()) break;
    std::string out = buf_.substr(0, n);
    buf_.erase(0, std::min(n, buf_.size()));
    return out;
  }

  // True when the server closed the connection (EOF or reset) with nothing
  // more buffered, within the receive timeout.
  bool Closed() {
    if (!buf_.empty()) return false;
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n > 0) buf_.push_back(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool Fill() {
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// Answers "METHOD PATH BODY" as text/plain.
void Echo(const HttpRequest& req, HttpResponse* resp) {
  resp->headers.emplace_back("Content-Type", "text/plain");
  resp->body = req.method + " " + req.path + " " + req.body;
}

std::unique_ptr<pipeline::server::HttpServer> StartServer(HttpServerOptions o = {},
                                                          pipeline::server::HttpHandler handler = Echo) {
  o.host = "127.0.0.1";
  o.port = 0;
  if (o.num_threads == 0) o.num_threads = 2;
  std::unique_ptr<pipeline::server::HttpServer> server;
  const Status st = pipeline::server::HttpServer::Start(o, std::move(handler), &server);
  INFO(st.ToString());
  REQUIRE(st.ok());
  REQUIRE(server->port() > 0);
  return server;
}

std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

std::string Post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra + "\r\n" + body;
}

int64_t MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

// ---------------------------------------------------------------------------
// The parser.

TEST_CASE("server http: the parser reads a request split at every byte boundary") {
  for (size_t at = 0; at <= kPost.size(); ++at) {
    INFO("split at " << at);
    HttpRequestParser p;
    REQUIRE(FeedSplit(&p, kPost, at) == State::kDone);
    CheckPost(p.request());
  }
  HttpRequestParser p;  // and one byte at a time
  State s = State::kNeedMore;
  for (size_t i = 0; i < kPost.size(); ++i) {
    CHECK(s == State::kNeedMore);
    CHECK(p.InProgress() == (i > 0));
    size_t used = 0;
    s = p.Feed(kPost.data() + i, 1, &used);
    CHECK(used == 1);
  }
  REQUIRE(s == State::kDone);
  CheckPost(p.request());
  CHECK(!p.InProgress());
  p.Reset();
  CHECK(!p.InProgress());
  CHECK(p.request().body.empty());
}

TEST_CASE("server http: the parser lower-cases header names and trims values") {
  HttpRequestParser p;
  // Empty lines before the request line are skipped (RFC 9112 section 2.2); bare LF ends lines too.
  REQUIRE(FeedAll(&p, "\r\n\r\nGET /a HTTP/1.1\r\nHOST: h\r\nX-Mixed-Case: \t a b \t\r\nEmpty:\r\nx-last: 1\n\n") ==
          State::kDone);
  const HttpRequest& r = p.request();
  CHECK(r.method == "GET");
  CHECK(r.path == "/a");
  REQUIRE(r.headers.size() == 4);
  CHECK(r.headers[0] == std::pair<std::string, std::string>("host", "h"));
  CHECK(r.headers[1] == std::pair<std::string, std::string>("x-mixed-case", "a b"));
  CHECK(r.headers[2] == std::pair<std::string, std::string>("empty", ""));
  CHECK(*r.Header("x-last") == "1");
  CHECK(r.Header("missing") == nullptr);
  CHECK(r.body.empty());
}

TEST_CASE("server http: the parser de-chunks bodies with extensions and trailers") {
  for (size_t at = 0; at <= kChunked.size(); ++at) {
    INFO("split at " << at);
    HttpRequestParser p;
    REQUIRE(FeedSplit(&p, kChunked, at) == State::kDone);
    CHECK(p.request().body == "hello, world");
    CHECK(p.request().path == "/echo");
    CHECK(p.request().Header("x-checksum") == nullptr);  // trailers are not headers
  }
  HttpRequestParser p;
  size_t used = 0;
  // Upper-case hex, no trailers, a pipelined request after it.
  const std::string two = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  REQUIRE(FeedAll(&p, two, &used) == State::kDone);
  CHECK(p.request().body == "0123456789");
  CHECK(two.substr(used) == "GET / HTTP/1.1\r\n\r\n");
  for (const char* bad : {"zz\r\n", "\r\n", "5 x\r\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "-1\r\n"}) {
    INFO(bad);
    CHECK(ErrorOf(std::string("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") + bad) == 400);
  }
}

TEST_CASE("server http: Feed stops at the end of the first of two pipelined requests") {
  const std::string first = Post("/one", "abc");
  const std::string second = Get("/two");
  const std::string both = first + second;
  HttpRequestParser p;
  size_t used = 0;
  REQUIRE(p.Feed(both.data(), both.size(), &used) == State::kDone);
  CHECK(used == first.size());
  CHECK(p.request().path == "/one");
  CHECK(p.request().body == "abc");
  // Until Reset, the finished request stays and nothing more is consumed.
  size_t again = 1;
  CHECK(p.Feed(both.data() + used, both.size() - used, &again) == State::kDone);
  CHECK(again == 0);
  p.Reset();
  size_t used2 = 0;
  REQUIRE(p.Feed(both.data() + used, both.size() - used, &used2) == State::kDone);
  CHECK(used2 == second.size());
  CHECK(p.request().path == "/two");
  CHECK(p.request().method == "GET");
  CHECK(p.request().body.empty());
}

TEST_CASE("server http: a body over the limit is refused with 413 before it arrives") {
  HttpParserLimits limits;
  limits.max_body_bytes = 100;
  {
    HttpRequestParser p(limits);
    // Only the head: the refusal cannot wait for (or buffer) the body.
    CHECK(FeedAll(&p, "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n") == State::kError);
    CHECK(p.error_status() == 413);
    CHECK(p.request().body.capacity() < 101);
  }
  CHECK(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", limits) == 413);
  CHECK(ErrorOf(Post("/", std::string(100, 'x')), limits) == 0);  // exactly the limit
  // Chunked: each chunk size is checked against what is left before its data.
  HttpRequestParser p(limits);
  CHECK(FeedAll(&p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'x') +
                        "\r\n25\r\n") == State::kError);
  CHECK(p.error_status() == 413);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\n", limits) == 413);
}

TEST_CASE("server http: a header section over the limit is refused with 431") {
  HttpParserLimits limits;
  limits.max_header_bytes = 1024;
  HttpRequestParser p(limits);
  const std::string start = "GET / HTTP/1.1\r\nX-Big: ";
  size_t used = 0;
  REQUIRE(p.Feed(start.data(), start.size(), &used) == State::kNeedMore);
  // Fed a byte at a time with no end in sight: refused at the limit, not at the blank line.
  State s = State::kNeedMore;
  size_t fed = start.size();
  while (s == State::kNeedMore && fed < 10 * 1024) {
    s = p.Feed("a", 1, &used);
    ++fed;
  }
  CHECK(s == State::kError);
  CHECK(p.error_status() == 431);
  CHECK(fed == 1025);
  const std::string exact = "GET / HTTP/1.1\r\nX: " + std::string(1024 - 23, 'a') + "\r\n\r\n";
  REQUIRE(exact.size() == 1024);
  CHECK(ErrorOf(exact, limits) == 0);
  CHECK(ErrorOf("GET / HTTP/1.1\r\nX: " + std::string(1024 - 22, 'a') + "\r\n\r\n", limits) == 431);
  // Leading empty lines count too, and so do chunked trailers.
  CHECK(ErrorOf(std::string(2000, '\n'), limits) == 431);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + std::string(2000, 't'), limits) == 431);
}

TEST_CASE("server http: versions other than HTTP/1.0 and HTTP/1.1 get 505") {
  CHECK(ErrorOf("GET / HTTP/2.0\r\n\r\n") == 505);
  CHECK(ErrorOf("GET / HTTP/1.2\r\n\r\n") == 505);
  CHECK(ErrorOf("GET / HTTP/0.9\r\n\r\n") == 505);
  CHECK(ErrorOf("GET / HTTP/1.0\r\n\r\n") == 0);
  CHECK(ErrorOf("GET / HTTP/1.1\r\n\r\n") == 0);
  // Not a version at all: a malformed request line.
  CHECK(ErrorOf("GET /\r\n\r\n") == 400);
  CHECK(ErrorOf("GET / http/1.1\r\n\r\n") == 400);
  CHECK(ErrorOf("GET / HTTP/1.10\r\n\r\n") == 400);
  CHECK(ErrorOf("GET  / HTTP/1.1\r\n\r\n") == 400);
  CHECK(ErrorOf("G(T / HTTP/1.1\r\n\r\n") == 400);
  CHECK(ErrorOf("GET /\x7f HTTP/1.1\r\n\r\n") == 400);
}

TEST_CASE("server http: transfer codings other than chunked get 501") {
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == 501);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n\r\n") == 501);
  // chunked must be there once and last; with Content-Length as well it is refused.
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") == 400);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") == 400);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n") == 400);
  CHECK(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n") == 0);
}

TEST_CASE("server http: the path is percent-decoded and a bad escape is 400") {
  HttpRequestParser p;
  REQUIRE(FeedAll(&p, "GET /v1/models/a%20b%2Fc:predict?q=%zz HTTP/1.1\r\n\r\n") == State::kDone);
  CHECK(p.request().path == "/v1/models/a b/c:predict");
  CHECK(p.request().target == "/v1/models/a%20b%2Fc:predict?q=%zz");  // the query is left as sent
  p.Reset();
  REQUIRE(FeedAll(&p, "GET http://example.com:8501/v1/models/m?x HTTP/1.1\r\n\r\n") == State::kDone);
  CHECK(p.request().path == "/v1/models/m");  // absolute-form
  p.Reset();
  REQUIRE(FeedAll(&p, "OPTIONS * HTTP/1.1\r\n\r\n") == State::kDone);
  CHECK(p.request().path == "*");
  for (const char* bad : {"/a%zz", "/a%2", "/a%", "/%g0"}) {
    INFO(bad);
    HttpRequestParser q;
    CHECK(FeedAll(&q, std::string("GET ") + bad + " HTTP/1.1\r\n\r\n") == State::kError);
    CHECK(q.error_status() == 400);
    CHECK(q.error_message().find("percent") != std::string::npos);
  }
}

TEST_CASE("server http: keep-alive follows the HTTP/1.0 and HTTP/1.1 rules") {
  auto keep = [](const std::string& text) {
    HttpRequestParser p;
    REQUIRE(FeedAll(&p, text) == State::kDone);
    return p.request().keep_alive;
  };
  CHECK(keep("GET / HTTP/1.1\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
  // HTTP/1.0 with Transfer-Encoding: framing it cannot trust (RFC 9112 section 6.1), so never reused.
  CHECK(!keep("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
}

TEST_CASE("server http: malformed framing and headers are 400") {
  for (const char* bad : {
           "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n",
           "GET / HTTP/1.1\r\n folded-first: a\r\n\r\n",
           "GET / HTTP/1.1\r\nX : a\r\n\r\n",
           "GET / HTTP/1.1\r\nno colon\r\n\r\n",
           "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n",
       }) {
    INFO(bad);
    CHECK(ErrorOf(bad) == 400);
  }
  // obs-fold would also fail as a bad header name: the message says what it is.
  HttpRequestParser fold;
  REQUIRE(FeedAll(&fold, "GET / HTTP/1.1\r\nX: a\r\n\tfolded: b\r\n\r\n") == State::kError);
  CHECK(fold.error_message().find("folding") != std::string::npos);
  // Repeats of one length are allowed (RFC 9112 section 6.3).
  HttpRequestParser p;
  REQUIRE(FeedAll(&p, "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc") == State::kDone);
  CHECK(p.request().body == "abc");
}

TEST_CASE("server http: after an error the parser consumes nothing more") {
  HttpRequestParser p;
  size_t used = 0;
  const std::string bad = "BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  REQUIRE(p.Feed(bad.data(), bad.size(), &used) == State::kError);
  CHECK(used <= bad.size());
  CHECK(p.error_status() == 400);
  CHECK(!p.error_message().empty());
  size_t again = 99;
  CHECK(p.Feed(bad.data(), bad.size(), &again) == State::kError);
  CHECK(again == 0);
  p.Reset();  // Reset makes it usable again
  CHECK(p.error_status() == 0);
  CHECK(FeedAll(&p, Get("/")) == State::kDone);
}

TEST_CASE("server http: Expect 100-continue is reported until the body starts") {
  HttpRequestParser p;
  const std::string head = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
  REQUIRE(FeedAll(&p, head) == State::kNeedMore);
  CHECK(p.ExpectsContinue());
  size_t used = 0;
  REQUIRE(p.Feed("ab", 2, &used) == State::kNeedMore);
  CHECK(!p.ExpectsContinue());
  REQUIRE(p.Feed("cd", 2, &used) == State::kDone);
  CHECK(!p.ExpectsContinue());
  HttpRequestParser q;  // HTTP/1.0 has no 100 Continue
  REQUIRE(FeedAll(&q, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n") == State::kNeedMore);
  CHECK(!q.ExpectsContinue());
}

TEST_CASE("server http: responses are serialized with Content-Length and Connection") {
  HttpResponse r;
  r.status = 404;
  r.headers = {{"Content-Type", "application/json"}, {"Content-Length", "999"}, {"X-Bad", "a\r\nInjected: 1"}};
  r.body = "{}";
  CHECK(pipeline::server::SerializeResponse(r, true, 1) ==
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-Bad: a  Injected: 1\r\n"
        "Content-Length: 2\r\n\r\n{}");
  CHECK(pipeline::server::SerializeResponse(r, false, 1).find("Content-Length: 2\r\nConnection: close\r\n\r\n{}") !=
        std::string::npos);
  CHECK(pipeline::server::SerializeResponse(r, true, 0).find("Connection: keep-alive\r\n") != std::string::npos);
  HttpResponse empty;
  empty.status = 204;
  empty.body = "ignored";
  CHECK(pipeline::server::SerializeResponse(empty, true, 1) == "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(std::string(pipeline::server::HttpReason(200)) == "OK");
  CHECK(std::string(pipeline::server::HttpReason(400)) == "Bad Request");
  CHECK(std::string(pipeline::server::HttpReason(408)) == "Request Timeout");
  CHECK(std::string(pipeline::server::HttpReason(413)) == "Content Too Large");
  CHECK(std::string(pipeline::server::HttpReason(431)) == "Request Header Fields Too Large");
  CHECK(std::string(pipeline::server::HttpReason(503)) == "Service Unavailable");
  CHECK(std::string(pipeline::server::HttpReason(505)) == "HTTP Version Not Supported");
  CHECK(std::string(pipeline::server::HttpReason(499)) == "Client Error");
}

// ---------------------------------------------------------------------------
// The server.

TEST_CASE("server http: GET and POST round trip on one keep-alive connection") {
  auto server = StartServer();
  Client c(server->port());
  REQUIRE(c.connected());
  REQUIRE(c.Send(Get("/v1/models/m")));
  Response r = c.Read();
  CHECK(r.status == 200);
  CHECK(r.body == "GET /v1/models/m ");
  CHECK(r.Header("content-type") == "text/plain");
  CHECK(!r.Header("date").empty());
  CHECK(r.Header("connection").empty());
  REQUIRE(c.Send(Post("/v1/models/m:predict", "{\"instances\": [1]}")));
  r = c.Read();
  CHECK(r.status == 200);
  CHECK(r.body == "POST /v1/models/m:predict {\"instances\": [1]}");
  // HEAD: the headers of the answer, no body.
  REQUIRE(c.Send("HEAD /h HTTP/1.1\r\n\r\n" + Get("/after")));
  const std::string head = c.ReadUntil("\r\n\r\n");
  CHECK(head.find("Content-Length: 8\r\n") != std::string::npos);  // of "HEAD /h ", which is not sent
  r = c.Read();
  CHECK(r.status == 200);
  CHECK(r.body == "GET /after ");
  // Connection: close is honoured: answered, then closed.
  Client d(server->port());
  REQUIRE(d.Send(Get("/bye", "Connection: close\r\n")));
  r = d.Read();
  CHECK(r.status == 200);
  CHECK(r.Header("connection") == "close");
  CHECK(d.Closed());
  // HTTP/1.0 without keep-alive: closed after the answer too.
  Client e(server->port());
  REQUIRE(e.Send("GET /old HTTP/1.0\r\n\r\n"));
  CHECK(e.Read().status == 200);
  CHECK(e.Closed());
}

TEST_CASE("server http: pipelined requests are answered in order") {
  auto server = StartServer();
  Client c(server->port());
  std::string batch;
  for (int i = 0; i < 50; ++i) batch += (i % 2) ? Post("/p" + std::to_string(i), std::string(i, 'b')) : Get("/g" + std::to_string(i));
  REQUIRE(c.Send(batch));
  for (int i = 0; i < 50; ++i) {
    const Response r = c.Read();
    REQUIRE(r.status == 200);
    CHECK(r.body == ((i % 2) ? "POST /p" + std::to_string(i) + " " + std::string(i, 'b') : "GET /g" + std::to_string(i) + " "));
  }
  // A batch whose answers exceed the socket buffers: written across partial
  // sends while the client is slow to read.
  auto big = StartServer({}, [](const HttpRequest& req, HttpResponse* resp) { resp->body.assign(1 << 20, req.path[1]); });
  Client b(big->port());
  std::string many;
  for (char ch = 'a'; ch <= 'h'; ++ch) many += Get(std::string("/") + ch);
  REQUIRE(b.Send(many));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (char ch = 'a'; ch <= 'h'; ++ch) {
    const Response r = b.Read();
    REQUIRE(r.status == 200);
    CHECK(r.body == std::string(1 << 20, ch));
  }
}

TEST_CASE("server http: a client that pipelines without reading does not make the server buffer without end") {
  auto rss_mb = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    return 0L;
  };
  auto server = StartServer({}, [](const HttpRequest&, HttpResponse* resp) { resp->body.assign(1 << 20, 'r'); });
  Client c(server->port());
  std::string many;
  for (int i = 0; i < 150; ++i) many += Get("/big");  // 150 MB of answers
  const long before = rss_mb();
  REQUIRE(c.Send(many));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Only about one read's worth of answers is queued (plus socket buffers).
  const long grown = rss_mb() - before;
  INFO("resident memory grew by " << grown << " MB");
  CHECK(grown < 40);
  for (int i = 0; i < 150; ++i) REQUIRE(c.Read().body.size() == (1u << 20));
}

TEST_CASE("server http: a client dribbling bytes gets 408 while another is served") {
  HttpServerOptions o;
  o.num_threads = 1;  // one loop: the slow client must not hold it
  o.request_timeout_ms = 300;
  auto server = StartServer(o);
  Client slow(server->port());
  REQUIRE(slow.connected());
  std::atomic<bool> done{false};
  std::atomic<int> sent{0};
  const auto start = std::chrono::steady_clock::now();
  std::thread dribble([&] {
    const std::string req = Get("/slow");
    for (char ch : req) {
      if (done || !slow.Send(std::string(1, ch))) break;
      ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  {
    Client fast(server->port());
    const auto t = std::chrono::steady_clock::now();
    REQUIRE(fast.Send(Get("/fast")));
    const Response r = fast.Read();
    CHECK(r.status == 200);
    // Not held behind the slow client, whose 408 is due ~180 ms from here.
    CHECK(MsSince(t) < 150);
  }
  const Response r = slow.Read();
  const int64_t elapsed = MsSince(start);
  done = true;
  dribble.join();
  CHECK(r.status == 408);
  CHECK(r.body == "{ \"error\": \"request timed out\" }");
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.Header("connection") == "close");
  CHECK(elapsed >= 300);
  CHECK(elapsed < 1500);
  CHECK(sent < static_cast<int>(Get("/slow").size()));
  CHECK(slow.Closed());
}

TEST_CASE("server http: an idle keep-alive connection is closed silently") {
  HttpServerOptions o;
  o.idle_timeout_ms = 200;
  auto server = StartServer(o);
  Client c(server->port());
  REQUIRE(c.Send(Get("/")));
  CHECK(c.Read().status == 200);
  const auto t = std::chrono::steady_clock::now();
  CHECK(c.Closed());  // EOF, no 408
  CHECK(MsSince(t) >= 150);
  // A connection that never sends a byte is idle too.
  Client quiet(server->port());
  CHECK(quiet.Closed());
}

TEST_CASE("server http: 1000 concurrent connections are all answered") {
  rlimit lim{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
  if (lim.rlim_cur < 2200 && lim.rlim_max > lim.rlim_cur) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
  REQUIRE(lim.rlim_cur >= 2100);  // the client's 1000 sockets and the server's
  auto server = StartServer();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 1000; ++i) {
    clients.push_back(std::make_unique<Client>(server->port()));
    REQUIRE(clients.back()->connected());
  }
  for (int i = 0; i < 1000; ++i) REQUIRE(clients[i]->Send(Get("/c" + std::to_string(i))));
  // Stops at the first miss: each read would wait out its timeout.
  int answered = 0;
  while (answered < 1000) {
    const Response r = clients[answered]->Read();
    if (r.status != 200 || r.body != "GET /c" + std::to_string(answered) + " ") break;
    ++answered;
  }
  CHECK(answered == 1000);
  // All still open (keep-alive): a second round on each.
  for (int i = 0; i < answered; ++i) REQUIRE(clients[i]->Send(Get("/again")));
  int again = 0;
  while (again < answered && clients[again]->Read().status == 200) ++again;
  CHECK(again == 1000);
}

TEST_CASE("server http: Expect 100-continue gets 100 Continue before the body") {
  auto server = StartServer();
  Client c(server->port());
  const std::string body(2000, 'z');
  // What curl sends for a body over 1 KB: the head, then it waits (up to 1 s) for 100 Continue.
  REQUIRE(c.Send("POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n"));
  const auto t = std::chrono::steady_clock::now();
  CHECK(c.ReadBytes(25) == "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(MsSince(t) < 500);
  REQUIRE(c.Send(body));
  Response r = c.Read();
  CHECK(r.status == 200);
  CHECK(r.body == "POST /up " + body);
  // A client that sends the body without waiting gets no 100 Continue.
  REQUIRE(c.Send("POST /up HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"));
  r = c.Read();
  CHECK(r.status == 200);
  CHECK(r.body == "POST /up abc");
  // Too large: refused at once, without 100 Continue.
  HttpServerOptions o;
  o.limits.max_body_bytes = 1000;
  auto small = StartServer(o);
  Client s(small->port());
  REQUIRE(s.Send("POST /up HTTP/1.1\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n"));
  r = s.Read();
  CHECK(r.status == 413);
  CHECK(s.Closed());
}

TEST_CASE("server http: a parse error is answered with a JSON error and the connection closed") {
  auto server = StartServer();
  Client c(server->port());
  REQUIRE(c.Send("GET /%zz HTTP/1.1\r\n\r\n"));
  Response r = c.Read();
  CHECK(r.status == 400);
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.Header("connection") == "close");
  CHECK(r.body.rfind("{ \"error\": \"", 0) == 0);
  CHECK(r.body.find("percent") != std::string::npos);
  CHECK(c.Closed());
  Client v(server->port());
  REQUIRE(v.Send("GET / HTTP/2.0\r\n\r\n"));
  CHECK(v.Read().status == 505);
  // A handler that throws is a 500, and the loop lives on.
  auto throwing = StartServer({}, [](const HttpRequest&, HttpResponse*) { throw std::runtime_error("boom"); });
  Client t(throwing->port());
  REQUIRE(t.Send(Get("/") + Get("/")));
  CHECK(t.Read().status == 500);
  CHECK(t.Read().status == 500);
}

TEST_CASE("server http: connections over max_connections are closed at once") {
  HttpServerOptions o;
  o.max_connections = 2;
  auto server = StartServer(o);
  Client a(server->port());
  Client b(server->port());
  REQUIRE(a.Send(Get("/a")));
  REQUIRE(b.Send(Get("/b")));
  CHECK(a.Read().status == 200);
  CHECK(b.Read().status == 200);
  Client c(server->port(), 2000);
  CHECK(c.Closed());
  // A closed connection frees its slot.
  REQUIRE(a.Send(Get("/x", "Connection: close\r\n")));
  CHECK(a.Read().status == 200);
  CHECK(a.Closed());
  a.Close();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {  // the server sees a's close asynchronously
    Client d(server->port(), 2000);
    served = d.Send(Get("/d")) && d.Read().status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(served);
}

TEST_CASE("server http: a port in use is an IOError naming host and port") {
  auto first = StartServer();
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = first->port();
  std::unique_ptr<pipeline::server::HttpServer> second;
  // The first listens with SO_REUSEPORT: the second must still be refused.
  const Status st = pipeline::server::HttpServer::Start(o, Echo, &second);
  CHECK(!st.ok());
  CHECK(st.code() == Status::Code::kIOError);
  CHECK(st.message().rfind("cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": ", 0) == 0);
  CHECK(second == nullptr);
  o.host = "192.0.2.1";  // TEST-NET-1: no interface of this machine has it
  o.port = 0;
  const Status other = pipeline::server::HttpServer::Start(o, Echo, &second);
  CHECK(other.code() == Status::Code::kIOError);
  CHECK(other.message().rfind("cannot listen on 192.0.2.1:0: ", 0) == 0);
}

TEST_CASE("server http: Stop with open connections finishes the request being handled") {
  std::atomic<bool> in_handler{false}, handler_done{false};
  auto server = StartServer({}, [&](const HttpRequest& req, HttpResponse* resp) {
    if (req.path == "/slow") {
      in_handler = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      handler_done = true;
    }
    resp->body = "done " + req.path;
  });
  Client idle(server->port());
  REQUIRE(idle.Send(Get("/warm")));
  REQUIRE(idle.Read().status == 200);
  Client partial(server->port());
  REQUIRE(partial.Send("GET /never-finished HTTP/1.1\r\n"));
  Client busy(server->port());
  REQUIRE(busy.Send(Get("/slow")));
  while (!in_handler) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t = std::chrono::steady_clock::now();
  server->Stop();
  CHECK(handler_done);  // Stop waited for the request being handled
  // Idle and half-sent connections are closed at once, not after a grace period.
  CHECK(MsSince(t) < 800);
  const Response r = busy.Read();
  CHECK(r.status == 200);
  CHECK(r.body == "done /slow");
  CHECK(r.Header("connection") == "close");
  CHECK(busy.Closed());
  CHECK(idle.Closed());
  CHECK(partial.Closed());
  server->Stop();  // idempotent; the destructor calls it once more
  Client refused(server->port(), 500);
  CHECK(!refused.connected());
}
