// HTTP/1.1 message syntax for `toolsft serve`: parsing one request from a byte buffer and
// formatting a response. Pure functions over strings, no sockets, so the parser can be fuzzed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsft::http {

struct Request {
  std::string method;   // "GET", "POST", ... (as sent, case-sensitive)
  std::string target;   // "/v1/chat/completions?x=1" as sent
  std::string path;     // target without the query string
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
  std::string body;
  // Case-insensitive lookup; nullptr when absent. With repeated headers, the first one.
  const std::string* header(std::string_view name) const;
  // HTTP/1.1 default yes unless "Connection: close"; 1.0 only with keep-alive.
  bool keep_alive() const;
};

struct Limits {
  size_t max_header_bytes = 16 * 1024;  // request line + headers
  size_t max_body_bytes = 1 << 20;      // Content-Length above this -> 413
  size_t max_headers = 100;
};

enum class ParseStatus { kComplete, kIncomplete, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  size_t consumed = 0;   // bytes of `buf` that made up the request (kComplete)
  int error_status = 0;  // 400, 411, 413, 431, 501, 505 (kError)
  std::string error;     // human message, e.g. "Content-Length 5000000 is over the ..."
  // Set as soon as the whole header block is in `buf` (also while kIncomplete waiting for the
  // body): its size including the blank line, and the announced body size. The server uses
  // them to answer "Expect: 100-continue" and to skip re-parsing while body bytes arrive.
  size_t header_bytes = 0;
  size_t content_length = 0;
};

// Parses one request from the front of buf (pipelining: call again on the rest). Never throws,
// never reads past buf. `out` is complete only on kComplete; while kIncomplete with
// header_bytes > 0 its request line and headers are already filled. Rejects: malformed request
// line, header line without ':', obs-fold, invalid header name chars, bad/duplicate-conflicting
// Content-Length, oversized headers (431) / body (413) as soon as the Content-Length is seen
// (before the body arrives), any Transfer-Encoding (chunked 411, others 501). Bare LF is
// tolerated as a line end, and empty lines before the request line are skipped.
ParseResult parse_request(std::string_view buf, Request& out, const Limits& limits = {});

// "OK", "Bad Request", ... for the statuses the server uses; "Unknown" for others.
const char* status_text(int status);

// A whole response: status line, Content-Type (omitted when empty), Content-Length, the extra
// headers, "Connection: close" when !keep_alive, body. CR and LF inside header names or values
// become spaces, so a header can never end early and smuggle another one in.
std::string format_response(
    int status, std::string_view content_type, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& extra_headers = {},
    bool keep_alive = true);

// The status line and headers of a response whose body follows in pieces: with `chunked`,
// "Transfer-Encoding: chunked" (HTTP/1.1); otherwise no length at all and the body ends when the
// connection closes (HTTP/1.0). Ends with the blank line.
std::string format_stream_head(
    int status, std::string_view content_type,
    const std::vector<std::pair<std::string, std::string>>& extra_headers, bool chunked,
    bool keep_alive);

// One chunk of chunked transfer encoding: hex size, CRLF, data, CRLF. Empty data gives "" (an
// empty chunk would end the body); the end is "0\r\n\r\n".
std::string format_chunk(std::string_view data);

// Case-insensitive ASCII comparison, as header names and tokens need.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tsft::http
