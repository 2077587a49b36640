#include "serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"

namespace tsft::http {
namespace {

using Clock = std::chrono::steady_clock;

// Writes all of data; false once the peer is gone or the write timed out (SO_SNDTIMEO).
// MSG_NOSIGNAL: a closed peer gives EPIPE instead of a SIGPIPE that would kill the process.
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Closing a socket with unread input makes the kernel send RST, which can destroy the response
// we just wrote before the client reads it (an early 413 while the body is still coming, or a
// pipelined request after "Connection: close"). So half-close, then discard input briefly until
// the client closes too. The caller closes the fd.
void linger_before_close(int fd) {
  ::shutdown(fd, SHUT_WR);
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  char sink[16384];
  size_t drained = 0;
  while (drained < (8u << 20)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    const ssize_t n = ::recv(fd, sink, sizeof(sink), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

bool only_whitespace(std::string_view s) {
  for (char c : s)
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') return false;
  return true;
}

class SocketResponder : public Responder {
 public:
  SocketResponder(int fd, bool http11, bool keep_alive)
      : fd_(fd), http11_(http11), keep_alive_(keep_alive) {}

  bool respond(int status, std::string_view content_type, std::string_view body,
               const std::vector<std::pair<std::string, std::string>>& extra_headers) override {
    if (state_ != State::kNothingSent) return false;
    state_ = State::kDone;
    return write(format_response(status, content_type, body, extra_headers, keep_alive_));
  }

  bool start_stream(
      int status, std::string_view content_type,
      const std::vector<std::pair<std::string, std::string>>& extra_headers) override {
    if (state_ != State::kNothingSent) return false;
    state_ = State::kStreaming;
    // An HTTP/1.0 client knows no chunked encoding: its body runs until we close.
    if (!http11_) keep_alive_ = false;
    return write(format_stream_head(status, content_type, extra_headers, http11_, keep_alive_));
  }

  bool send_chunk(std::string_view data) override {
    if (state_ != State::kStreaming) return false;
    if (data.empty()) return !failed_;
    return http11_ ? write(format_chunk(data)) : write(data);
  }

  bool end_stream() override {
    if (state_ != State::kStreaming) return false;
    state_ = State::kDone;
    return http11_ ? write("0\r\n\r\n") : !failed_;
  }

  bool client_gone() override {
    if (gone_) return true;
    pollfd p{fd_, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0)
      gone_ = true;
    return gone_;
  }

  bool nothing_sent() const { return state_ == State::kNothingSent; }
  bool streaming() const { return state_ == State::kStreaming; }
  bool failed() const { return failed_; }
  bool keep_alive() const { return keep_alive_; }
  // For the server's own 500 after a handler failure: the connection closes after it.
  void respond_error(int status, std::string_view message, std::string_view type) {
    keep_alive_ = false;
    respond(status, "application/json", error_body(message, type), {});
  }

 private:
  enum class State { kNothingSent, kStreaming, kDone };

  bool write(std::string_view data) {
    if (failed_) return false;
    if (!send_all(fd_, data)) failed_ = gone_ = true;
    return !failed_;
  }

  int fd_;
  bool http11_;
  bool keep_alive_;
  State state_ = State::kNothingSent;
  bool failed_ = false;
  bool gone_ = false;
};

// The self-pipe that SIGINT/SIGTERM write to while run_until_signal waits on it; a signal
// handler may only call async-signal-safe functions, and write() is one. Made once and never
// closed: restoring the old handler does not wait for one already running on another thread,
// which could otherwise write into a closed (or reused) descriptor.
int g_signal_pipe[2] = {-1, -1};
// The write end as the handler sees it: published with release after the pipe exists (the
// handler may run on any thread; a lock-free atomic is signal-safe).
std::atomic<int> g_signal_write_fd{-1};

void on_stop_signal(int) {
  const int saved = errno;
  const char c = 1;
  const int fd = g_signal_write_fd.load(std::memory_order_acquire);
  if (fd >= 0) (void)!::write(fd, &c, 1);
  errno = saved;
}

// The process-wide signal pipe, emptied of signals from an earlier run_until_signal.
int signal_pipe_read_end() {
  static const bool made = ::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) == 0;
  if (!made) fail("serve: cannot create the signal pipe: ", std::strerror(errno));
  g_signal_write_fd.store(g_signal_pipe[1], std::memory_order_release);
  char sink[64];
  while (::read(g_signal_pipe[0], sink, sizeof(sink)) > 0) {
  }
  return g_signal_pipe[0];
}

}  // namespace

std::string error_body(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code) {
  nlohmann::ordered_json j;
  j["error"]["message"] = message;
  j["error"]["type"] = type;
  j["error"]["param"] = param.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(param);
  j["error"]["code"] = code.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(code);
  // Messages may quote request bytes; invalid UTF-8 must not make dump() throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

HttpServer::HttpServer(ServerOptions opt, Handler handler)
    : opt_(std::move(opt)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  stop();
  for (int& fd : wake_pipe_)
    if (fd >= 0) ::close(fd), fd = -1;
}

int HttpServer::port() const {
  return port_;
}

void HttpServer::start() {
  TSFT_CHECK(listen_fd_ < 0 && !stopping_, "HttpServer::start called twice or after stop");
  const std::string where = str(opt_.host, ':', opt_.port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(opt_.port));
  const std::string host = opt_.host == "localhost" ? "127.0.0.1" : opt_.host;
  if (opt_.port < 0 || opt_.port > 65535)
    fail("cannot listen on ", where, ": port must be 0..65535");
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    fail("cannot listen on ", where, ": not an IPv4 address (use e.g. 127.0.0.1 or 0.0.0.0)");

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("cannot listen on ", where, ": ", std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 128) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot listen on ", where, ": ", std::strerror(err));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot listen on ", where, ": pipe: ", std::strerror(err));
  }
  listen_fd_ = fd;
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void HttpServer::accept_loop() {
  const std::string busy = format_response(
      503, "application/json",
      nlohmann::ordered_json{{"error",
                              {{"message", str("server busy: all ", opt_.max_connections,
                                               " connections are in use, retry later")},
                               {"type", "server_busy"},
                               {"code", 503}}}}
          .dump(),
      {{"Retry-After", "1"}}, false);
  // Non-blocking: a client that does not read must not stall the accept thread.
  auto reject_busy = [&busy](int fd) {
    (void)::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
  };
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    // The timeout only bounds how long finished connection threads wait to be joined.
    const int rc = ::poll(fds, 2, 1000);
    if (stopping_) break;
    reap_finished(false);
    if (rc <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: back off instead of spinning on a listen socket that stays readable.
      if (errno == EMFILE || errno == ENFILE)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (active_.load() >= opt_.max_connections) {
      reject_busy(fd);
      continue;
    }
    const int one = 1;
    // Streamed tokens go out as soon as they are written, not after Nagle's delay.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // A client that stops reading cannot block a connection thread forever in send().
    timeval tv{opt_.idle_timeout_ms / 1000, (opt_.idle_timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ++active_;
    std::lock_guard<std::mutex> lock(conns_mu_);
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection* raw = conn.get();
    try {
      conn->thread = std::thread([this, raw] { serve_connection(raw); });
      conns_.push_back(std::move(conn));
    } catch (const std::system_error& e) {
      log_warn("serve: cannot start a connection thread: ", e.what());
      --active_;
      reject_busy(fd);
    }
  }
}

void HttpServer::reap_finished(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      auto next = std::next(it);
      if (all || (*it)->done) finished.splice(finished.end(), conns_, it);
      it = next;
    }
  }
  // Joined outside the lock: a connection thread takes it to close its socket.
  for (auto& c : finished)
    if (c->thread.joinable()) c->thread.join();
}

void HttpServer::serve_connection(Connection* conn) {
  const int fd = conn->fd;
  std::string buf;
  char chunk[65536];
  bool close_now = false;
  while (!close_now && !stopping_) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(opt_.idle_timeout_ms);
    Request req;
    ParseResult pr = parse_request(buf, req, opt_.limits);
    bool sent_continue = false;
    bool peer_closed = false;
    while (pr.status == ParseStatus::kIncomplete) {
      if (pr.header_bytes > 0 && !sent_continue && req.version == "HTTP/1.1") {
        const std::string* expect = req.header("Expect");
        if (expect != nullptr && iequals(*expect, "100-continue")) {
          if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) peer_closed = true;
          sent_continue = true;
        }
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd, POLLIN, 0};
      const int rc =
          peer_closed ? 0 : ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0 || stopping_) {
        // Idle keep-alive connections close quietly; a request cut off half way gets a 408.
        if (rc == 0 && !peer_closed && !stopping_ && !only_whitespace(buf)) {
          pr = ParseResult{ParseStatus::kError, 0, 408,
                           str("request not received within ", opt_.idle_timeout_ms, " ms")};
        } else {
          peer_closed = true;
        }
        break;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        peer_closed = true;  // the client left, possibly half way through a request
        break;
      }
      buf.append(chunk, static_cast<size_t>(n));
      // Re-parse only when it can change the answer: a new line in the header block, or the
      // whole body has arrived.
      const std::string_view fresh(chunk, static_cast<size_t>(n));
      if (pr.header_bytes > 0 ? buf.size() >= pr.header_bytes + pr.content_length
                              : fresh.find('\n') != std::string_view::npos ||
                                    buf.size() > opt_.limits.max_header_bytes)
        pr = parse_request(buf, req, opt_.limits);
    }
    if (peer_closed) break;
    if (pr.status == ParseStatus::kError) {
      log_debug("serve: ", pr.error_status, " ", pr.error);
      send_all(fd, format_response(pr.error_status, "application/json", error_body(pr.error), {},
                                   false));
      linger_before_close(fd);
      break;
    }
    buf.erase(0, pr.consumed);

    SocketResponder responder(fd, req.version == "HTTP/1.1", req.keep_alive() && !stopping_);
    try {
      handler_(req, responder);
    } catch (const std::exception& e) {
      log_warn("serve: ", req.method, " ", req.path, " failed: ", e.what());
      if (responder.nothing_sent()) responder.respond_error(500, e.what(), "server_error");
      close_now = true;
    } catch (...) {
      log_warn("serve: ", req.method, " ", req.path, " failed with a non-standard exception");
      if (responder.nothing_sent()) responder.respond_error(500, "internal error", "server_error");
      close_now = true;
    }
    if (responder.nothing_sent()) {
      responder.respond_error(500, "the request handler sent no response", "server_error");
      close_now = true;
    }
    if (responder.streaming()) responder.end_stream();
    if (responder.failed()) break;
    if (!responder.keep_alive() || close_now) {
      linger_before_close(fd);
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    ::close(conn->fd);
    conn->fd = -1;
  }
  --active_;
  conn->done = true;
}

void HttpServer::stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  stopping_ = true;
  if (wake_pipe_[1] >= 0) {
    const char c = 1;
    (void)!::write(wake_pipe_[1], &c, 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    // Wakes connection threads blocked in poll/recv/send; their handlers see client_gone().
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (auto& c : conns_)
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
  }
  reap_finished(true);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void HttpServer::run_until_signal() {
  TSFT_CHECK(wake_pipe_[0] >= 0, "HttpServer::run_until_signal called before start");
  const int sig_read = signal_pipe_read_end();
  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  while (true) {
    pollfd fds[2] = {{sig_read, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    const int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (fds[0].revents | fds[1].revents) != 0) break;
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  stop();
}

}  // namespace tsft::http
