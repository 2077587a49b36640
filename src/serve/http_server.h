// The HTTP/1.1 server under `toolsft serve`: a listening socket, an accept thread and one thread
// per connection (keep-alive, pipelining, chunked streaming), calling one Handler per request.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "serve/http.h"

namespace tsft::http {

// Handed to the handler for one request. Either respond() once, or start_stream() then
// send_chunk()* then end_stream() (HTTP/1.1 chunked transfer encoding, used for server-sent
// events). A second respond()/start_stream() returns false and sends nothing. A handler that
// returns mid-stream gets its stream ended for it; one that sends nothing gets a 500.
class Responder {
 public:
  virtual ~Responder() = default;
  // Returns false if the client is gone (write failed); never throws for a closed peer.
  virtual bool respond(
      int status, std::string_view content_type, std::string_view body,
      const std::vector<std::pair<std::string, std::string>>& extra_headers = {}) = 0;
  virtual bool start_stream(
      int status, std::string_view content_type,
      const std::vector<std::pair<std::string, std::string>>& extra_headers = {}) = 0;
  virtual bool send_chunk(std::string_view data) = 0;  // flushed immediately
  virtual bool end_stream() = 0;
  // True once the peer closed its side or the socket errored (poll with POLLRDHUP, no blocking);
  // a long-running handler polls it to stop work for a client that left. Also true once the
  // server is stopping, since stop() shuts every connection down.
  virtual bool client_gone() = 0;
};
using Handler = std::function<void(const Request&, Responder&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;              // 0 = pick a free port (tests); see HttpServer::port()
  int max_connections = 256;    // more get "503 Service Unavailable" at once and are closed
  int idle_timeout_ms = 30000;  // keep-alive/slow request read timeout -> 408 (if a request was
                                // partly read) and close; also bounds a blocked write
  Limits limits;
};

// An OpenAI-style error body: {"error":{"message","type","param","code"}}, param and code null
// when empty. Bytes of the message that are not UTF-8 become U+FFFD (messages may quote input).
std::string error_body(std::string_view message, std::string_view type = "invalid_request_error",
                       std::string_view param = {}, std::string_view code = {});

class HttpServer {
 public:
  HttpServer(ServerOptions opt, Handler handler);
  ~HttpServer();  // stop() + join
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds + listens (tsft::Error "cannot listen on HOST:PORT: <strerror>"), starts the accept
  // thread; returns at once.
  void start();
  int port() const;  // the bound port (after start)
  // Stops accepting, shuts down open connections, joins all threads; idempotent.
  void stop();
  // Blocks until stop() is called from another thread or SIGINT/SIGTERM arrives (handlers
  // installed with sigaction in this call, restored on return). The server is stopped on return.
  void run_until_signal();
  // Connections being served now (for tests and logs).
  int active_connections() const { return active_.load(); }

 private:
  struct Connection {
    int fd = -1;  // -1 once the connection thread closed it (guarded by conns_mu_)
    std::atomic<bool> done{false};
    std::thread thread;
  };

  void accept_loop();
  void serve_connection(Connection* conn);
  void reap_finished(bool all);

  ServerOptions opt_;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written once by stop(); never drained, so every poller sees it
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::thread accept_thread_;
  std::mutex stop_mu_;  // serialises stop() callers
  std::mutex conns_mu_;
  std::list<std::unique_ptr<Connection>> conns_;
};

}  // namespace tsft::http
