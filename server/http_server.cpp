// The event loops. Each loop owns its epoll set, its listening socket and its
// connections, and touches nothing of another loop's: the only shared state is
// the connection count (one atomic add per accept) and the stop flag, so the
// request path takes no lock.
//
// Listening: one SO_REUSEPORT socket per loop rather than one shared listener
// with EPOLLEXCLUSIVE. The kernel hashes each new connection to one loop's
// accept queue, so connections spread evenly and no two loops race for one
// accept; with a shared listener an awakened loop tends to accept a whole
// burst of connections itself. The price of SO_REUSEPORT is that a second
// process of the same user may bind the same port silently and take half the
// connections; Start therefore first binds the port once without it, which
// fails as "address in use" whenever anything already listens there.
//
// Sockets are level-triggered: a loop reads once per readiness (a read that
// fills the buffer is repeated), answers every complete request in what it
// read (pipelining) and sends all the answers in one send. EPOLLOUT is asked
// for only while a send could not finish; reading pauses meanwhile, so a
// client that pipelines without reading cannot make us buffer without end.
//
// Timeouts: every connection is on exactly one of three lists, each with one
// fixed timeout, so each list is in deadline order by construction and expiry
// only looks at its head: `request` (bytes of a request have arrived:
// request_timeout_ms from the first), `idle` (between requests, or while an
// answer waits for the client to read it: idle_timeout_ms from the last
// progress) and `linger` (answered with Connection: close, write side shut,
// reading what the client still sends so that closing does not reset the
// connection and destroy the answer before the client read it).
#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/json.h"

namespace pipeline::server {

namespace {

constexpr size_t kReadBytes = 64 * 1024;
// Answers queued beyond this stop the parsing of further pipelined requests
// until the client has read some.
constexpr size_t kMaxOutBacklog = 256 * 1024;
constexpr size_t kMaxKeptOutCapacity = 1024 * 1024;
constexpr int kMaxEvents = 256;
constexpr int kAcceptsPerWakeup = 64;
constexpr int kBacklog = 4096;  // the kernel caps it at net.core.somaxconn
constexpr int64_t kLingerMs = 2000;
// Stop() lets queued answers reach their clients for at most this long.
constexpr int64_t kStopGraceMs = 1000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string HostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string ErrorBody(const std::string& message) { return "{ \"error\": " + json::Quote(message) + " }"; }

struct Conn;

// An intrusive list of connections in deadline order (see the top).
struct TimerList {
  int64_t timeout_ms = kNever;
  Conn* head = nullptr;
  Conn* tail = nullptr;
};

struct Conn {
  enum class State {
    kOpen,     // reading and answering requests
    kClosing,  // the last answer is queued: close once it is sent
    kLinger,   // sent; write side shut; discarding input until EOF or timeout
  };

  Conn(int fd, const HttpParserLimits& limits) : fd(fd), parser(limits) {}

  int fd;
  State state = State::kOpen;
  HttpRequestParser parser;
  std::string out;        // answers not yet sent, from out_sent on
  size_t out_sent = 0;
  std::string in;         // bytes read but not parsed while answers backed up
  uint32_t events = 0;    // what epoll watches for
  bool timing_request = false;  // on the request list since this request's first byte
  bool continue_sent = false;
  bool peer_eof = false;
  // The timer list this connection is on.
  TimerList* list = nullptr;
  Conn* prev = nullptr;
  Conn* next = nullptr;
  int64_t deadline = kNever;

  bool OutPending() const { return out_sent < out.size(); }
};

}  // namespace

namespace {

// What the loops share: read-only after Start, but the connection count.
struct Shared {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<int> connections{0};
  // Set by Stop() before it wakes the loops, so that an answer finished
  // meanwhile already says Connection: close.
  std::atomic<bool> stopping{false};
};

void Unlink(Conn* c) {
  TimerList* l = c->list;
  if (!l) return;
  (c->prev ? c->prev->next : l->head) = c->next;
  (c->next ? c->next->prev : l->tail) = c->prev;
  c->prev = c->next = nullptr;
  c->list = nullptr;
}

// Puts c at the tail of l with a deadline `now + l's timeout`.
void MoveTo(Conn* c, TimerList* l, int64_t now) {
  Unlink(c);
  c->list = l;
  c->deadline = l->timeout_ms == kNever ? kNever : now + l->timeout_ms;
  c->prev = l->tail;
  (l->tail ? l->tail->next : l->head) = c;
  l->tail = c;
}

// One event loop: its thread runs Run() until Stop.
class Loop {
 public:
  Loop(Shared* server, int listen_fd, int epoll_fd, int wake_fd)
      : server_(server), listen_fd_(listen_fd), epoll_fd_(epoll_fd), wake_fd_(wake_fd) {
    const auto& o = server->options;
    request_.timeout_ms = o.request_timeout_ms > 0 ? o.request_timeout_ms : kNever;
    idle_.timeout_ms = o.idle_timeout_ms > 0 ? o.idle_timeout_ms : kNever;
    linger_.timeout_ms = o.idle_timeout_ms > 0 ? std::min(kLingerMs, o.idle_timeout_ms) : kLingerMs;
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  ~Loop() {
    for (TimerList* l : {&request_, &idle_, &linger_})
      while (l->head) Close(l->head);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }

  // Registers the listener and the wake-up eventfd (before the thread starts).
  bool Register() {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_tag_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) return false;
    ev.data.ptr = &wake_tag_;
    return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) == 0;
  }

  // From any thread.
  void RequestStop() {
    const uint64_t one = 1;
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  void Run() {
    epoll_event events[kMaxEvents];
    bool stop_requested = false;
    now_ = NowMs();
    while (!(stopping_ && (conns_ == 0 || now_ >= stop_deadline_))) {
      const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, WaitMs());
      now_ = NowMs();
      if (accept_resume_at_ != kNever && now_ >= accept_resume_at_) ResumeAccepting();
      for (int i = 0; i < n; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == &listen_tag_) {
          Accept();
        } else if (tag == &wake_tag_) {
          uint64_t v;
          while (::read(wake_fd_, &v, sizeof v) < 0 && errno == EINTR) {
          }
          stop_requested = true;  // after the batch: it closes connections later events name
        } else {
          OnEvent(static_cast<Conn*>(tag), events[i].events);
        }
      }
      if (stop_requested) BeginStop();
      Expire();
    }
    for (TimerList* l : {&request_, &idle_, &linger_})
      while (l->head) Close(l->head);
  }

 private:
  int WaitMs() const {
    int64_t next = kNever;
    for (const TimerList* l : {&request_, &idle_, &linger_})
      if (l->head) next = std::min(next, l->head->deadline);
    if (stopping_) next = std::min(next, stop_deadline_);
    next = std::min(next, accept_resume_at_);
    if (next == kNever) return -1;
    const int64_t ms = next - now_;
    return ms <= 0 ? 0 : static_cast<int>(std::min<int64_t>(ms + 1, 60000));
  }

  // Out of descriptors with no spare: the listener leaves the epoll set for
  // kAcceptPauseMs, then is tried again.
  static constexpr int64_t kAcceptPauseMs = 50;
  void PauseAccepting() {
    if (listen_fd_ < 0 || accept_resume_at_ != kNever) return;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    accept_resume_at_ = now_ + kAcceptPauseMs;
  }
  void ResumeAccepting() {
    accept_resume_at_ = kNever;
    if (listen_fd_ < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_tag_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  }

  void Accept() {
    for (int i = 0; i < kAcceptsPerWakeup && listen_fd_ >= 0; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors, the pending connection would keep the
          // level-triggered listener ready forever: give up the spare
          // descriptor to accept it and close it at once.
          if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          if (reserve_fd_ >= 0) {
            ::close(reserve_fd_);
            const int shed = ::accept(listen_fd_, nullptr, nullptr);
            if (shed >= 0) ::close(shed);
            reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            continue;
          }
          // Another thread took the freed slot and the spare is gone: stop
          // listening for a moment rather than spin on a ready listener;
          // closing connections frees descriptors meanwhile.
          PauseAccepting();
        }
        return;  // EAGAIN, or nothing to do about it
      }
      if (server_->connections.fetch_add(1, std::memory_order_relaxed) >= server_->options.max_connections) {
        server_->connections.fetch_sub(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Conn* c = new Conn(fd, server_->options.limits);
      c->events = EPOLLIN;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        delete c;
        server_->connections.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      ++conns_;
      MoveTo(c, &idle_, now_);
    }
  }

  void BeginStop() {
    if (stopping_) return;
    stopping_ = true;
    stop_deadline_ = now_ + kStopGraceMs;
    if (listen_fd_ >= 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    // Answers already queued may still be sent; everything else closes now.
    std::vector<Conn*> all;
    for (TimerList* l : {&request_, &idle_, &linger_})
      for (Conn* c = l->head; c; c = c->next) all.push_back(c);
    for (Conn* c : all) {
      if (c->state != Conn::State::kLinger && c->OutPending()) {
        c->state = Conn::State::kClosing;
        c->in.clear();
      } else {
        Close(c);
      }
    }
  }

  void OnEvent(Conn* c, uint32_t events) {
    if (events & (EPOLLERR | EPOLLHUP)) {
      Close(c);
      return;
    }
    if ((events & EPOLLIN) && !OnReadable(c)) return;
    Pump(c);
  }

  // Reads what arrived and answers what it completes; false when c was closed.
  bool OnReadable(Conn* c) {
    if (c->state == Conn::State::kLinger) {
      for (int i = 0; i < 4; ++i) {
        const ssize_t n = ::recv(c->fd, buf_, kReadBytes, 0);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
        Close(c);  // EOF: the client has read what we sent
        return false;
      }
      return true;
    }
    if (c->state != Conn::State::kOpen) return true;
    for (int reads = 0; reads < 4 && c->state == Conn::State::kOpen && c->in.empty(); ++reads) {
      const ssize_t n = ::recv(c->fd, buf_, kReadBytes, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return true;
        Close(c);
        return false;
      }
      if (n == 0) {
        c->peer_eof = true;
        // Answers to what the client sent before its FIN are still sent
        // (a half-closed client, `printf ... | nc`, reads them); a request cut
        // short is not answered.
        if (!c->OutPending()) {
          Close(c);
          return false;
        }
        c->state = Conn::State::kClosing;
        return true;
      }
      Consume(c, buf_, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < kReadBytes) break;  // drained; a full buffer may have more
    }
    return true;
  }

  // Parses [data, data+n) and queues the answers; what is left while the
  // answers back up is kept in c->in. Never sends (Pump does).
  void Consume(Conn* c, const char* data, size_t n) {
    size_t off = 0;
    while (off < n && c->state == Conn::State::kOpen) {
      if (c->out.size() - c->out_sent >= kMaxOutBacklog) {
        c->in.assign(data + off, n - off);
        return;
      }
      size_t used = 0;
      const HttpRequestParser::State st = c->parser.Feed(data + off, n - off, &used);
      off += used;
      if (st == HttpRequestParser::State::kNeedMore) {
        if (!c->continue_sent && c->parser.ExpectsContinue()) {
          c->out.append(kContinue, sizeof kContinue - 1);
          c->continue_sent = true;
        }
        return;
      }
      if (st == HttpRequestParser::State::kError) {
        QueueError(c, c->parser.error_status(), c->parser.error_message());
        return;
      }
      Answer(c);
      c->parser.Reset();
      c->continue_sent = false;
      c->timing_request = false;
    }
  }

  void Answer(Conn* c) {
    const HttpRequest& req = c->parser.request();
    HttpResponse& resp = response_;
    resp.status = 200;
    resp.headers.clear();
    resp.body.clear();
    if (resp.body.capacity() > kMaxKeptOutCapacity) std::string().swap(resp.body);
    try {
      server_->handler(req, &resp);
    } catch (const std::exception& e) {
      // The handler is meant to answer every failure itself; one that throws
      // must not take the loop (and every connection on it) down.
      resp.status = 500;
      resp.headers.assign({{"Content-Type", "application/json"}});
      resp.body = ErrorBody(std::string("internal error: ") + e.what());
    } catch (...) {
      resp.status = 500;
      resp.headers.assign({{"Content-Type", "application/json"}});
      resp.body = ErrorBody("internal error");
    }
    now_ = NowMs();  // a handler may take a while: timers set after it start now
    const bool keep_alive = req.keep_alive && !server_->stopping.load(std::memory_order_relaxed);
    AppendResponse(resp, keep_alive, req.version_minor, req.method == "HEAD", DateLine(), &c->out);
    if (!keep_alive) c->state = Conn::State::kClosing;
  }

  void QueueError(Conn* c, int status, const std::string& message) {
    HttpResponse resp;
    resp.status = status;
    resp.headers.emplace_back("Content-Type", "application/json");
    resp.body = ErrorBody(message);
    AppendResponse(resp, /*keep_alive=*/false, 1, false, DateLine(), &c->out);
    c->state = Conn::State::kClosing;
    c->in.clear();
  }

  // Sends what is queued and moves c on: back to reading, on to the next
  // backed-up requests, or to closing. Sets the epoll interest and the timer.
  void Pump(Conn* c) {
    while (true) {
      if (c->OutPending() && !Send(c)) return;
      if (c->OutPending()) {
        Watch(c, EPOLLOUT);
        break;
      }
      if (c->state == Conn::State::kClosing) {
        if (c->peer_eof || stopping_) {
          Close(c);
          return;
        }
        // Shut our side and read until the client closes: closing with its
        // unread bytes pending would reset the connection, and a reset can
        // discard the answer before the client reads it.
        ::shutdown(c->fd, SHUT_WR);
        c->state = Conn::State::kLinger;
        Watch(c, EPOLLIN);
        MoveTo(c, &linger_, now_);
        return;
      }
      if (c->state == Conn::State::kLinger) return;
      if (c->in.empty() || stopping_) {
        Watch(c, stopping_ ? 0u : static_cast<uint32_t>(EPOLLIN));
        break;
      }
      // Requests that arrived while answers backed up.
      pending_.swap(c->in);
      Consume(c, pending_.data(), pending_.size());
      pending_.clear();
    }
    if (c->state == Conn::State::kOpen && c->parser.InProgress()) {
      if (!c->timing_request) {
        c->timing_request = true;
        MoveTo(c, &request_, now_);
      }
    } else {
      MoveTo(c, &idle_, now_);  // idle, or waiting for the client to read
    }
  }

  // Sends from c->out; false when the connection failed and was closed.
  bool Send(Conn* c) {
    while (c->OutPending()) {
      const ssize_t n = ::send(c->fd, c->out.data() + c->out_sent, c->out.size() - c->out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c->out_sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      Close(c);
      return false;
    }
    c->out.clear();
    c->out_sent = 0;
    if (c->out.capacity() > kMaxKeptOutCapacity) std::string().swap(c->out);
    return true;
  }

  void Watch(Conn* c, uint32_t events) {
    if (c->events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
  }

  void Expire() {
    while (request_.head && request_.head->deadline <= now_) {
      Conn* c = request_.head;
      c->timing_request = false;
      MoveTo(c, &idle_, now_);
      QueueError(c, 408, "request timed out");
      Pump(c);
    }
    for (TimerList* l : {&idle_, &linger_})
      while (l->head && l->head->deadline <= now_) Close(l->head);
  }

  void Close(Conn* c) {
    Unlink(c);
    ::close(c->fd);  // also leaves the epoll set
    delete c;
    --conns_;
    server_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  // "Date: ...\r\n" (RFC 9110 §6.6.1), formatted once a second.
  std::string_view DateLine() {
    const time_t t = ::time(nullptr);
    if (t != date_time_) {
      date_time_ = t;
      tm parts;
      ::gmtime_r(&t, &parts);
      char text[64];
      const size_t n = std::strftime(text, sizeof text, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &parts);
      date_line_.assign(text, n);
    }
    return date_line_;
  }

  Shared* server_;
  int listen_fd_;
  int epoll_fd_;
  int wake_fd_;
  int reserve_fd_ = -1;
  char listen_tag_ = 0;
  char wake_tag_ = 0;
  TimerList request_, idle_, linger_;
  int conns_ = 0;
  bool stopping_ = false;
  int64_t stop_deadline_ = kNever;
  int64_t now_ = 0;
  int64_t accept_resume_at_ = kNever;  // PauseAccepting
  char buf_[kReadBytes];
  std::string pending_;
  HttpResponse response_;
  time_t date_time_ = 0;
  std::string date_line_;
};

}  // namespace

struct HttpServer::Impl {
  Shared shared;
  int port = 0;
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
  bool stopped = false;
};

namespace {

// A listening socket on `addr`, non-blocking; errno is left set on failure.
int Listen(const addrinfo* ai, int port, bool reuse_port) {
  sockaddr_storage addr{};
  std::memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  if (addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(static_cast<uint16_t>(port));
  }
  const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  // SO_REUSEADDR: a restart binds over the last run's TIME_WAIT connections.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if ((reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), ai->ai_addrlen) != 0 ||
      (reuse_port && ::listen(fd, kBacklog) != 0)) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

Status HttpServer::Start(const HttpServerOptions& options, HttpHandler handler, std::unique_ptr<HttpServer>* out) {
  if (!handler) return Status::InvalidArgument("the HTTP server needs a handler");
  if (options.port < 0 || options.port > 65535)
    return Status::InvalidArgument("port " + std::to_string(options.port) + " is not in 0..65535");
  if (options.num_threads < 0)
    return Status::InvalidArgument("num_threads must be 0 (one per hardware thread) or more");
  const std::string where = HostPort(options.host, options.port);
  int threads = options.num_threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  const std::string service = std::to_string(options.port);
  if (const int rc = ::getaddrinfo(options.host.empty() ? nullptr : options.host.c_str(), service.c_str(), &hints, &ai);
      rc != 0)
    return Status::IOError("cannot listen on " + where + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> ai_owner(ai, ::freeaddrinfo);

  auto impl = std::make_unique<Impl>();
  impl->shared.options = options;
  impl->shared.handler = std::move(handler);
  auto fail = [&](const std::string& what) { return Status::IOError("cannot listen on " + where + ": " + what); };

  // See the top of the file: without SO_REUSEPORT this bind fails if anything
  // holds the port, also another server's SO_REUSEPORT group. (A port taken in
  // the instant between this probe and the group's bind would be missed.)
  if (options.port != 0) {
    const int probe = Listen(ai, options.port, /*reuse_port=*/false);
    if (probe < 0) return fail(std::strerror(errno));
    ::close(probe);
  }
  std::vector<int> listeners;
  auto close_all = [&] {
    for (int fd : listeners) ::close(fd);
  };
  int port = options.port;
  for (int i = 0; i < threads; ++i) {
    const int fd = Listen(ai, port, /*reuse_port=*/true);
    if (fd < 0) {
      const std::string err = std::strerror(errno);
      close_all();
      return fail(err);
    }
    listeners.push_back(fd);
    if (i == 0) port = BoundPort(fd);  // port 0: the rest join the port the kernel picked
  }
  impl->port = port;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    const int wake = ep >= 0 ? ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
    if (wake < 0) {
      const std::string err = std::strerror(errno);
      if (ep >= 0) ::close(ep);
      for (size_t j = i; j < listeners.size(); ++j) ::close(listeners[j]);
      return fail(err);  // impl's loops close their own descriptors
    }
    impl->loops.push_back(std::make_unique<Loop>(&impl->shared, listeners[i], ep, wake));
    if (!impl->loops.back()->Register()) {
      const std::string err = std::strerror(errno);
      for (size_t j = i + 1; j < listeners.size(); ++j) ::close(listeners[j]);
      return fail(err);
    }
  }
  for (size_t i = 0; i < impl->loops.size(); ++i) {
    impl->threads.emplace_back([loop = impl->loops[i].get()] { loop->Run(); });
    const std::string name = "http-loop-" + std::to_string(i);
    ::pthread_setname_np(impl->threads.back().native_handle(), name.substr(0, 15).c_str());
  }
  out->reset(new HttpServer());
  (*out)->impl_ = std::move(impl);
  return Status::Ok();
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_ ? impl_->port : 0; }

void HttpServer::Stop() {
  if (!impl_) return;
  // From a handler (a loop thread), which cannot join itself: only signal;
  // the owner's Stop() or the destructor joins.
  for (const auto& t : impl_->threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      impl_->shared.stopping = true;
      for (auto& loop : impl_->loops) loop->RequestStop();
      return;
    }
  }
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (!impl_->stopped) {
    impl_->stopped = true;
    impl_->shared.stopping = true;
    for (auto& loop : impl_->loops) loop->RequestStop();
  }
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

}  // namespace pipeline::server
