// A tiny HTTP/1.1 server for tests: one std::thread, a POSIX socket bound to
// 127.0.0.1 on an ephemeral port, one request per connection (Connection:
// close). It serves files from a directory, or answers 404 to everything, or
// serves deliberately corrupted bytes, or redirects. Bounded: requests are
// capped at 8 KiB, sockets time out after 2 s, and the destructor stops it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pipeline::test {

class HttpServer {
 public:
  enum class Mode {
    kServe,     // 200 with the file under `root`, 404 when absent
    kNotFound,  // 404 for everything
    kCorrupt,   // 200 with the file's bytes, every 1000th byte flipped
    kRedirect,  // 302 to redirect_base + path
  };

  explicit HttpServer(std::string root, Mode mode = Mode::kServe, std::string redirect_base = "")
      : root_(std::move(root)), mode_(mode), redirect_base_(std::move(redirect_base)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~HttpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>/" -- usable as a mirror.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int requests() const { return requests_; }
  std::vector<std::string> paths() const {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      Handle(fd);
      ::close(fd);
    }
  }

  void Handle(int fd) {
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192 && !stop_) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return;
      request.append(buf, size_t(n));
    }
    ++requests_;
    std::istringstream line(request.substr(0, request.find("\r\n")));
    std::string method, path, version;
    line >> method >> path >> version;
    {
      std::lock_guard<std::mutex> lock(mu_);
      paths_.push_back(path);
    }
    if (method != "GET" || path.empty() || path[0] != '/' || path.find("..") != std::string::npos) {
      Respond(fd, 400, "Bad Request", "", "");
      return;
    }
    if (mode_ == Mode::kRedirect) {
      Respond(fd, 302, "Found", "", "Location: " + redirect_base_ + path.substr(1) + "\r\n");
      return;
    }
    std::ifstream in(root_ + path, std::ios::binary);
    if (mode_ == Mode::kNotFound || !in) {
      Respond(fd, 404, "Not Found", "not found\n", "");
      return;
    }
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (mode_ == Mode::kCorrupt) {
      for (size_t i = 0; i < body.size(); i += 1000) body[i] = char(body[i] ^ 0x5a);
    }
    Respond(fd, 200, "OK", body, "Content-Type: application/octet-stream\r\n");
  }

  void Respond(int fd, int code, const std::string& reason, const std::string& body, const std::string& headers) {
    std::string head = "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n" + headers + "Connection: close\r\n\r\n";
    if (!SendAll(fd, head)) return;
    SendAll(fd, body);
  }

  bool SendAll(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size() && !stop_) {
      ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += size_t(n);
    }
    return done == data.size();
  }

  std::string root_;
  Mode mode_;
  std::string redirect_base_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::string> paths_;
  std::thread thread_;
};

}  // namespace pipeline::test
