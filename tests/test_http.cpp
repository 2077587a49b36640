// The HTTP/1.1 layer of `toolsft serve`: the request parser and response formatting on byte
// strings, then the server on loopback (port 0) driven by plain POSIX sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/error.h"
#include "serve/http.h"
#include "serve/http_server.h"

namespace tsft::http {
namespace {

// ---------------------------------------------------------------- parser

const std::string kPost =
    "POST /v1/chat/completions?stream=1 HTTP/1.1\r\n"
    "Host: localhost:8000\r\n"
    "Content-Type:   application/json \t\r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "{\"a\":\"xyz\"}";

ParseResult parse(std::string_view buf, Request& req, const Limits& limits = {}) {
  return parse_request(buf, req, limits);
}

TEST(HttpParse, CompletePostFillsEveryField) {
  Request req;
  const ParseResult r = parse(kPost, req);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error;
  EXPECT_EQ(r.consumed, kPost.size());
  EXPECT_EQ(r.header_bytes, kPost.size() - 11);
  EXPECT_EQ(r.content_length, 11u);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/chat/completions?stream=1");
  EXPECT_EQ(req.path, "/v1/chat/completions");
  EXPECT_EQ(req.version, "HTTP/1.1");
  ASSERT_EQ(req.headers.size(), 3u);
  EXPECT_EQ(req.headers[0].first, "Host");
  EXPECT_EQ(req.headers[1].second, "application/json");  // OWS trimmed both sides
  EXPECT_EQ(req.body, "{\"a\":\"xyz\"}");
}

TEST(HttpParse, GetWithoutBodyAndBareLf) {
  Request req;
  const std::string get = "GET /health HTTP/1.0\nUser-Agent: t\n\n";
  const ParseResult r = parse(get, req);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error;
  EXPECT_EQ(r.consumed, get.size());
  EXPECT_EQ(req.version, "HTTP/1.0");
  EXPECT_EQ(req.path, "/health");
  EXPECT_EQ(req.body, "");
  ASSERT_NE(req.header("user-agent"), nullptr);
  EXPECT_EQ(*req.header("user-agent"), "t");
}

TEST(HttpParse, IncompleteAtEveryByteSplit) {
  const size_t header_end = kPost.size() - 11;
  for (size_t k = 0; k < kPost.size(); ++k) {
    Request req;
    const ParseResult r = parse(std::string_view(kPost).substr(0, k), req);
    ASSERT_EQ(r.status, ParseStatus::kIncomplete) << "split at " << k << ": " << r.error;
    EXPECT_EQ(r.consumed, 0u);
    // The header block is recognised as soon as its blank line is in, before the body.
    EXPECT_EQ(r.header_bytes, k >= header_end ? header_end : 0u) << "split at " << k;
  }
}

TEST(HttpParse, PipelinedRequestsParseOneAfterTheOther) {
  const std::string second = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string both = kPost + second;
  Request req;
  ParseResult r = parse(both, req);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.consumed, kPost.size());
  EXPECT_EQ(req.body, "{\"a\":\"xyz\"}");
  r = parse(std::string_view(both).substr(r.consumed), req);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/v1/models");
  EXPECT_EQ(req.body, "");
}

TEST(HttpParse, EmptyLinesBeforeTheRequestLineAreSkipped) {
  const std::string buf = "\r\n\nGET / HTTP/1.1\r\n\r\n";
  Request req;
  const ParseResult r = parse(buf, req);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error;
  EXPECT_EQ(r.consumed, buf.size());
  EXPECT_EQ(req.path, "/");
}

TEST(HttpParse, EachErrorHasItsStatus) {
  struct Case {
    std::string input;
    int status;
  };
  const std::string h = "GET / HTTP/1.1\r\n";
  const std::vector<Case> cases = {
      {"GET /\r\n\r\n", 400},                // two fields
      {"GET  / HTTP/1.1\r\n\r\n", 400},      // double space
      {"GET / HTTP/1.1 x\r\n\r\n", 400},     // four fields
      {" / HTTP/1.1\r\n\r\n", 400},          // empty method
      {"G(T / HTTP/1.1\r\n\r\n", 400},       // bad method char
      {"GET /a\x01 HTTP/1.1\r\n\r\n", 400},  // control byte in target
      {"GET / HTTX/1.1\r\n\r\n", 400},       // not HTTP
      {"GET / HTTP/1.12\r\n\r\n", 400},      // malformed version
      {"GET / HTTP/2.0\r\n\r\n", 505},       // well-formed, unsupported
      {"GET / HTTP/0.9\r\n\r\n", 505},
      {h + "NoColon\r\n\r\n", 400},
      {h + "A: b\r\n c\r\n\r\n", 400},   // obs-fold
      {h + "A: b\r\n\tc\r\n\r\n", 400},  // obs-fold with tab
      {h + "Bad Name: x\r\n\r\n", 400},
      {h + "Host : x\r\n\r\n", 400},                  // space before the colon
      {h + ": x\r\n\r\n", 400},                       // empty name
      {h + "A: b\x7f\r\n\r\n", 400},                  // DEL in a value
      {h + std::string("A: b\0c\r\n\r\n", 11), 400},  // NUL in a value
      {h + "A: b\rc\r\n\r\n", 400},                   // bare CR inside a line
      {h + "Content-Length: abc\r\n\r\n", 400},
      {h + "Content-Length: -1\r\n\r\n", 400},
      {h + "Content-Length: \r\n\r\n", 400},
      {h + "Content-Length: 1, 1\r\n\r\n", 400},
      {h + "Content-Length: 99999999999999999999\r\n\r\n", 400},  // overflow
      {h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {h + "Transfer-Encoding: chunked\r\n\r\n", 411},
      {h + "Transfer-Encoding: gzip, chunked\r\n\r\n", 411},
      {h + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {"\rGET / HTTP/1.1\r\n\r\n", 400},  // bare CR before the request line
  };
  for (const Case& c : cases) {
    Request req;
    const ParseResult r = parse(c.input, req);
    EXPECT_EQ(r.status, ParseStatus::kError) << nlohmann::json(c.input).dump(-1, ' ', true);
    EXPECT_EQ(r.error_status, c.status)
        << nlohmann::json(c.input).dump(-1, ' ', true) << ": " << r.error;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(HttpParse, RepeatedEqualContentLengthIsAccepted) {
  Request req;
  const ParseResult r =
      parse("POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc", req);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error;
  EXPECT_EQ(req.body, "abc");
}

TEST(HttpParse, BodyLimitRejectedBeforeTheBodyArrives) {
  Limits limits;
  limits.max_body_bytes = 10;
  Request req;
  // No body byte has been sent: the Content-Length alone decides.
  ParseResult r = parse("POST / HTTP/1.1\r\nContent-Length: 11\r\n", req, limits);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error_status, 413);
  EXPECT_EQ(r.error, "Content-Length 11 is over the 10-byte limit");
  r = parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", req, limits);
  EXPECT_EQ(r.status, ParseStatus::kIncomplete);
  r = parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", req, limits);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(req.body, "0123456789");
}

TEST(HttpParse, HeaderCountAndSizeLimits) {
  Limits limits;
  limits.max_headers = 3;
  Request req;
  const std::string three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  EXPECT_EQ(parse(three, req, limits).status, ParseStatus::kComplete);
  const ParseResult r =
      parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", req, limits);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error_status, 431);

  // "GET / HTTP/1.1\r\n" (16) + "X: " (3) + 29 x's + "\r\n" (2) = 50, + "\r\n" = 52 bytes.
  Limits small;
  small.max_header_bytes = 52;
  const std::string fits = "GET / HTTP/1.1\r\nX: " + std::string(29, 'x') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 52u);
  EXPECT_EQ(parse(fits, req, small).status, ParseStatus::kComplete);
  const std::string over = "GET / HTTP/1.1\r\nX: " + std::string(30, 'x') + "\r\n\r\n";
  EXPECT_EQ(parse(over, req, small).error_status, 431);
  // A header block that never ends is refused once it passes the limit, not buffered forever.
  const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(40, 'x');  // 59 bytes, no LF
  small.max_header_bytes = 59;
  EXPECT_EQ(parse(endless, req, small).status, ParseStatus::kIncomplete);
  small.max_header_bytes = 58;
  EXPECT_EQ(parse(endless, req, small).error_status, 431);
}

TEST(HttpParse, HeaderLookupIsCaseInsensitive) {
  Request req;
  ASSERT_EQ(parse(kPost, req).status, ParseStatus::kComplete);
  for (const char* name : {"content-type", "CONTENT-TYPE", "Content-Type", "cOnTeNt-TyPe"}) {
    const std::string* v = req.header(name);
    ASSERT_NE(v, nullptr) << name;
    EXPECT_EQ(*v, "application/json");
  }
  EXPECT_EQ(req.header("Content-Typ"), nullptr);
  EXPECT_EQ(req.header("Authorization"), nullptr);
}

TEST(HttpParse, KeepAliveRules) {
  auto keep = [](const std::string& version, const std::string& extra) {
    Request req;
    const ParseResult r = parse_request("GET / " + version + "\r\n" + extra + "\r\n", req);
    EXPECT_EQ(r.status, ParseStatus::kComplete) << r.error;
    return req.keep_alive();
  };
  EXPECT_TRUE(keep("HTTP/1.1", ""));
  EXPECT_FALSE(keep("HTTP/1.1", "Connection: close\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1", "connection: Upgrade, CLOSE\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n"));
  EXPECT_TRUE(keep("HTTP/1.1", "Connection: keep-alive\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0", ""));
  EXPECT_TRUE(keep("HTTP/1.0", "Connection: Keep-Alive\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0", "Connection: keep-alive, close\r\n"));
}

TEST(HttpFormat, ResponseBytesAreExact) {
  EXPECT_EQ(format_response(200, "text/plain", "hi", {{"X-A", "1"}}, false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\nhi");
  EXPECT_EQ(format_response(404, "", ""), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  // CR/LF in a header value cannot start a new header.
  EXPECT_EQ(
      format_response(200, "a\r\nX: y", "", {{"N\n", "v\r\nEvil: 1"}}),
      "HTTP/1.1 200 OK\r\nContent-Type: a  X: y\r\nN : v  Evil: 1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(
      format_stream_head(200, "text/event-stream", {}, true, true),
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(format_chunk("0123456789abcdef"), "10\r\n0123456789abcdef\r\n");
  EXPECT_EQ(format_chunk("x"), "1\r\nx\r\n");
  EXPECT_EQ(format_chunk(""), "");
}

TEST(HttpFormat, StatusTexts) {
  EXPECT_STREQ(status_text(200), "OK");
  EXPECT_STREQ(status_text(400), "Bad Request");
  EXPECT_STREQ(status_text(413), "Content Too Large");
  EXPECT_STREQ(status_text(431), "Request Header Fields Too Large");
  EXPECT_STREQ(status_text(503), "Service Unavailable");
  EXPECT_STREQ(status_text(505), "HTTP Version Not Supported");
  EXPECT_STREQ(status_text(299), "Unknown");
  for (int s : {401, 404, 405, 408, 411, 415, 422, 429, 500, 501})
    EXPECT_STRNE(status_text(s), "Unknown") << s;
}

TEST(HttpFormat, ErrorBodyIsOpenAiShaped) {
  const auto j = nlohmann::json::parse(error_body("bad \xff thing"));
  EXPECT_EQ(j["error"]["message"], "bad \xef\xbf\xbd thing");  // invalid UTF-8 replaced
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_TRUE(j["error"]["code"].is_null());
}

// ---------------------------------------------------------------- server on loopback

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  timeval tv{5, 0};  // a broken server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

void send_text(int fd, std::string_view s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// Reads more bytes into buf; false on EOF, error or the 5 s receive timeout.
bool read_more(int fd, std::string& buf) {
  char tmp[4096];
  const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<size_t>(n));
  return true;
}

std::string read_to_eof(int fd) {
  std::string buf;
  while (read_more(fd, buf)) {
  }
  return buf;
}

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;                            // de-chunked
};

// Reads one response from fd, starting with what is left in buf; leaves the rest in buf.
Reply read_reply(int fd, std::string& buf) {
  Reply r;
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos)
    if (!read_more(fd, buf)) return r;
  const std::string head = buf.substr(0, end + 2);
  buf.erase(0, end + 4);
  r.status = std::stoi(head.substr(9, 3));
  for (size_t pos = head.find("\r\n") + 2; pos < head.size();) {
    const size_t eol = head.find("\r\n", pos);
    const std::string line = head.substr(pos, eol - pos);
    std::string name = line.substr(0, line.find(':'));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(line.find(':') + 2);
    pos = eol + 2;
  }
  if (r.headers.count("transfer-encoding")) {
    while (true) {
      size_t eol;
      while ((eol = buf.find("\r\n")) == std::string::npos)
        if (!read_more(fd, buf)) return r;
      const size_t size = std::stoul(buf.substr(0, eol), nullptr, 16);
      while (buf.size() < eol + 2 + size + 2)
        if (!read_more(fd, buf)) return r;
      r.body += buf.substr(eol + 2, size);
      buf.erase(0, eol + 2 + size + 2);
      if (size == 0) break;
    }
  } else if (r.headers.count("content-length")) {
    const size_t n = std::stoul(r.headers["content-length"]);
    while (buf.size() < n)
      if (!read_more(fd, buf)) return r;
    r.body = buf.substr(0, n);
    buf.erase(0, n);
  }
  return r;
}

// Waits (bounded) for a condition another thread makes true.
template <typename F>
bool eventually(F cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// Routes for the server tests: /echo answers with method, target and body; /throw throws;
// /stream sends two events; /wait-gone streams one event then waits for the client to leave.
struct TestServer {
  std::promise<bool> gone;
  std::atomic<bool> gone_set{false};
  HttpServer server;

  explicit TestServer(ServerOptions opt = small_options())
      : server(std::move(opt), [this](const Request& req, Responder& res) { handle(req, res); }) {
    server.start();
  }

  static ServerOptions small_options() {
    ServerOptions opt;
    opt.port = 0;
    opt.idle_timeout_ms = 2000;
    return opt;
  }

  void handle(const Request& req, Responder& res) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    if (req.path == "/stream") {
      res.start_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
      res.send_chunk("data: {\"a\":1}\n\n");
      res.send_chunk("");  // ignored: an empty chunk would end the body
      res.send_chunk("data: [DONE]\n\n");
      res.end_stream();
      return;
    }
    if (req.path == "/wait-gone") {
      res.start_stream(200, "text/event-stream");
      res.send_chunk("data: 1\n\n");
      const bool left = eventually([&] { return res.client_gone(); });
      if (!gone_set.exchange(true)) gone.set_value(left);
      return;
    }
    if (req.path == "/nothing") return;
    if (req.path == "/unended") {
      res.start_stream(200, "text/plain");
      res.send_chunk("part");
      return;
    }
    if (req.path == "/twice") {
      res.respond(200, "text/plain", "first");
      const bool again = res.respond(201, "text/plain", "second") || res.start_stream(200, "x") ||
                         res.send_chunk("late") || res.end_stream();
      second_send_accepted = again;
      return;
    }
    res.respond(200, "text/plain", req.method + " " + req.target + " " + req.body);
  }

  std::atomic<bool> second_send_accepted{true};
};

TEST(HttpServer, GetRoundTrip) {
  TestServer t;
  ASSERT_GT(t.server.port(), 0);
  const int fd = connect_to(t.server.port());
  send_text(fd, "GET /echo?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string buf;
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain");
  EXPECT_EQ(r.body, "GET /echo?x=1 ");
  ::close(fd);
}

TEST(HttpServer, KeepAliveAndPipelinedRequestsOnOneConnection) {
  TestServer t;
  const int fd = connect_to(t.server.port());
  std::string buf;
  send_text(fd, "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /a abc");
  EXPECT_EQ(r.headers.count("connection"), 0u);
  // Two requests in one write; the second asks to close.
  send_text(fd,
            "GET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 1\r\n"
            "Connection: close\r\n\r\nz");
  r = read_reply(fd, buf);
  EXPECT_EQ(r.body, "GET /b ");
  r = read_reply(fd, buf);
  EXPECT_EQ(r.body, "POST /c z");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(read_to_eof(fd), "");  // and the server closed
  ::close(fd);
}

TEST(HttpServer, StreamedResponseIsChunkedThenKeepsTheConnection) {
  TestServer t;
  const int fd = connect_to(t.server.port());
  std::string buf;
  send_text(fd, "GET /stream HTTP/1.1\r\n\r\n");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.headers["cache-control"], "no-cache");
  EXPECT_EQ(r.headers.count("content-length"), 0u);
  EXPECT_EQ(r.body, "data: {\"a\":1}\n\ndata: [DONE]\n\n");
  send_text(fd, "GET /after HTTP/1.1\r\n\r\n");
  r = read_reply(fd, buf);
  EXPECT_EQ(r.body, "GET /after ");
  ::close(fd);
}

TEST(HttpServer, ManyClientsAtOnceEachGetTheirOwnAnswers) {
  TestServer t;
  constexpr int kClients = 16, kRequests = 10;
  std::vector<std::thread> clients;
  std::atomic<int> right{0};
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      const int fd = connect_to(t.server.port());
      std::string buf;
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = str("c", c, "r", i);
        const std::string req =
            str("POST /m HTTP/1.1\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
          break;
        if (read_reply(fd, buf).body == "POST /m " + body) ++right;
      }
      ::close(fd);
    });
  for (auto& th : clients) th.join();
  EXPECT_EQ(right.load(), kClients * kRequests);
}

TEST(HttpServer, StreamToHttp10ClientEndsWithClose) {
  TestServer t;
  const int fd = connect_to(t.server.port());
  send_text(fd, "GET /stream HTTP/1.0\r\n\r\n");
  const std::string all = read_to_eof(fd);
  EXPECT_EQ(all,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Connection: close\r\n\r\ndata: {\"a\":1}\n\ndata: [DONE]\n\n");
  ::close(fd);
}

TEST(HttpServer, HandlerExceptionGives500AndTheServerGoesOn) {
  TestServer t;
  int fd = connect_to(t.server.port());
  std::string buf;
  send_text(fd, "GET /throw HTTP/1.1\r\n\r\n");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.headers["connection"], "close");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["message"], "boom");
  EXPECT_EQ(j["error"]["type"], "server_error");
  EXPECT_EQ(read_to_eof(fd), "");
  ::close(fd);

  fd = connect_to(t.server.port());
  buf.clear();
  send_text(fd, "GET /ok HTTP/1.1\r\n\r\n");
  r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /ok ");
  ::close(fd);
}

TEST(HttpServer, MisbehavingHandlersStillGiveOneWholeResponse) {
  TestServer t;
  int fd = connect_to(t.server.port());
  std::string buf;
  // Sending a second response is refused; the first one stands and the connection goes on.
  send_text(fd, "GET /twice HTTP/1.1\r\n\r\nGET /unended HTTP/1.1\r\n\r\n");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "first");
  // A stream the handler left open is ended for it.
  r = read_reply(fd, buf);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.body, "part");
  // Checked only now: /twice's handler has surely returned once the next request was answered.
  EXPECT_FALSE(t.second_send_accepted);
  // A handler that sends nothing gives a 500, and the connection closes.
  send_text(fd, "GET /nothing HTTP/1.1\r\n\r\n");
  r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["message"],
            "the request handler sent no response");
  EXPECT_EQ(read_to_eof(fd), "");
  ::close(fd);
}

TEST(HttpServer, ParseErrorAnswersWithItsStatusAndCloses) {
  TestServer t;
  const int fd = connect_to(t.server.port());
  std::string buf;
  send_text(fd, "GET / HTTP/2.0\r\n\r\n");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 505);
  EXPECT_EQ(r.headers["connection"], "close");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_EQ(read_to_eof(fd), "");
  ::close(fd);
}

TEST(HttpServer, OversizedBodyGets413WithoutSendingIt) {
  ServerOptions opt = TestServer::small_options();
  opt.limits.max_body_bytes = 100;
  TestServer t(opt);
  const int fd = connect_to(t.server.port());
  std::string buf;
  send_text(fd, "POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["message"],
            "Content-Length 101 is over the 100-byte limit");
  ::close(fd);
}

TEST(HttpServer, ExpectContinueGets100BeforeTheBody) {
  TestServer t;
  const int fd = connect_to(t.server.port());
  send_text(fd, "POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string buf;
  const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
  while (buf.size() < cont.size() && read_more(fd, buf)) {
  }
  EXPECT_EQ(buf, cont);
  buf.clear();
  send_text(fd, "hello");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /e hello");
  ::close(fd);
}

TEST(HttpServer, HalfRequestThenCloseLeavesTheServerWorking) {
  TestServer t;
  int fd = connect_to(t.server.port());
  send_text(fd, "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  ::close(fd);
  fd = connect_to(t.server.port());
  send_text(fd, "GET /y HTTP/1.1\r\nHo");
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return t.server.active_connections() == 0; }));

  fd = connect_to(t.server.port());
  std::string buf;
  send_text(fd, "GET /z HTTP/1.1\r\n\r\n");
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.body, "GET /z ");
  ::close(fd);
}

TEST(HttpServer, SlowRequestGets408AndIdleConnectionJustCloses) {
  ServerOptions opt = TestServer::small_options();
  opt.idle_timeout_ms = 200;
  TestServer t(opt);
  int fd = connect_to(t.server.port());
  send_text(fd, "GET /slow HTTP/1.1\r\nHost");
  std::string buf;
  Reply r = read_reply(fd, buf);
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.headers["connection"], "close");
  ::close(fd);

  fd = connect_to(t.server.port());
  EXPECT_EQ(read_to_eof(fd), "");  // nothing sent, nothing answered
  ::close(fd);
}

TEST(HttpServer, OverMaxConnectionsGets503) {
  ServerOptions opt = TestServer::small_options();
  opt.max_connections = 1;
  TestServer t(opt);
  const int first = connect_to(t.server.port());
  ASSERT_TRUE(eventually([&] { return t.server.active_connections() == 1; }));
  const int second = connect_to(t.server.port());
  std::string all = read_to_eof(second);
  ::close(second);
  std::string buf = all;
  Reply r = read_reply(-1, buf);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["connection"], "close");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["type"], "server_busy");
  EXPECT_EQ(j["error"]["code"], 503);
  EXPECT_EQ(j["error"]["message"], "server busy: all 1 connections are in use, retry later");

  // The first connection still works, and once it is gone a new one is served.
  buf.clear();
  send_text(first, "GET /first HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(read_reply(first, buf).body, "GET /first ");
  ::close(first);
  ASSERT_TRUE(eventually([&] { return t.server.active_connections() == 0; }));
  const int third = connect_to(t.server.port());
  buf.clear();
  send_text(third, "GET /third HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_reply(third, buf).body, "GET /third ");
  ::close(third);
}

TEST(HttpServer, ClientGoneTurnsTrueWhenTheClientClosesMidStream) {
  TestServer t;
  std::future<bool> gone = t.gone.get_future();
  const int fd = connect_to(t.server.port());
  send_text(fd, "GET /wait-gone HTTP/1.1\r\n\r\n");
  std::string buf;
  while (buf.find("data: 1\n\n") == std::string::npos) ASSERT_TRUE(read_more(fd, buf));
  ::close(fd);
  ASSERT_EQ(gone.wait_for(std::chrono::seconds(6)), std::future_status::ready);
  EXPECT_TRUE(gone.get());
}

TEST(HttpServer, ListenErrorNamesTheAddress) {
  TestServer t;
  ServerOptions opt = TestServer::small_options();
  opt.port = t.server.port();
  HttpServer clash(opt, [](const Request&, Responder&) {});
  try {
    clash.start();
    FAIL() << "binding a port in use must fail";
  } catch (const tsft::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              str("cannot listen on 127.0.0.1:", opt.port, ": Address already in use"));
  }
  opt.host = "not-an-ip";
  HttpServer bad(opt, [](const Request&, Responder&) {});
  EXPECT_THROW(bad.start(), tsft::Error);
}

TEST(HttpServer, StopClosesOpenConnectionsAndIsIdempotent) {
  TestServer t;
  const int fd = connect_to(t.server.port());
  ASSERT_TRUE(eventually([&] { return t.server.active_connections() == 1; }));
  t.server.stop();
  EXPECT_EQ(t.server.active_connections(), 0);
  EXPECT_EQ(read_to_eof(fd), "");
  t.server.stop();
  ::close(fd);
}

TEST(HttpServer, RunUntilSignalReturnsOnSigtermAndRestoresTheHandler) {
  TestServer t;
  std::thread runner([&] { t.server.run_until_signal(); });
  auto installed = [] {
    struct sigaction cur {};
    ::sigaction(SIGTERM, nullptr, &cur);
    return cur.sa_handler != SIG_DFL;
  };
  ASSERT_TRUE(eventually(installed));
  ::kill(::getpid(), SIGTERM);
  runner.join();
  EXPECT_FALSE(installed());
  // Stopped: the port no longer accepts.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(t.server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
}

TEST(HttpServer, RunUntilSignalReturnsOnStopFromAnotherThread) {
  TestServer t;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    t.server.stop();
  });
  t.server.run_until_signal();
  stopper.join();
  SUCCEED();
}

}  // namespace
}  // namespace tsft::http
