// The HTTP/1.1 transport of the REST API: N event loops (epoll, one thread
// each, SO_REUSEPORT listeners so the kernel spreads connections), each
// reading and parsing non-blocking sockets and running the handler inline
// (REST requests are short and CPU-bound; a slow client only costs its own
// socket). Keep-alive and pipelining; Content-Length and chunked bodies.
//
// Timeouts: a request whose bytes started arriving must be complete within
// request_timeout_ms (a client dribbling bytes is answered 408 and closed,
// without blocking anyone); an idle keep-alive connection is closed after
// idle_timeout_ms. Over max_connections, new connections are accepted and
// closed at once. Stop() stops accepting, finishes requests in flight
// (answers already parsed ones), then closes every connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http_message.h"

namespace pipeline::server {

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8501;        // 0: pick a free port (port() tells which)
  int num_threads = 0;    // event loops; 0 = hardware threads (TF Serving's --rest_api_num_threads default)
  int64_t request_timeout_ms = 30000;  // TF Serving's --rest_api_timeout_in_ms default; <= 0: none
  int64_t idle_timeout_ms = 60000;     // <= 0: none
  int max_connections = 10000;
  HttpParserLimits limits;
};

class HttpServer {
 public:
  // Binds and listens (IOError naming host:port when it cannot), then starts
  // the loops; the handler is called from the loop threads concurrently.
  static Status Start(const HttpServerOptions& options, HttpHandler handler, std::unique_ptr<HttpServer>* out);
  ~HttpServer();  // Stop()

  int port() const;
  void Stop();

 private:
  HttpServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipeline::server
