#include "serve/http.h"

#include <cstdio>

#include "core/error.h"

namespace tsft::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 tchar: the characters allowed in a method and a header name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Bytes shown in an error message: printable ASCII as is, the rest as \xNN, at most 40 of them,
// so a message never carries raw control bytes or invalid UTF-8 into a JSON body or a log.
std::string printable(std::string_view s) {
  std::string out;
  const size_t n = s.size() < 40 ? s.size() : 40;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  if (s.size() > n) out += "...";
  return out;
}

// Does the comma-separated token list (a Connection or Transfer-Encoding value) hold `token`?
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

ParseResult error_result(int status, std::string message) {
  ParseResult r;
  r.status = ParseStatus::kError;
  r.error_status = status;
  r.error = std::move(message);
  return r;
}

// Parses the request line "METHOD SP target SP HTTP/x.y" into out; "" on success, else the error
// (505 for a well-formed but unsupported version, 400 for the rest).
std::pair<int, std::string> parse_request_line(std::string_view line, Request& out) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return {400, "malformed request line '" + printable(line) + "' (want METHOD TARGET HTTP/1.1)"};
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) return {400, "malformed request line: empty method"};
  for (char c : method)
    if (!is_tchar(c))
      return {400, "malformed request line: bad method '" + printable(method) + "'"};
  if (target.empty()) return {400, "malformed request line: empty target"};
  for (char c : target) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return {400, "malformed request line: bad byte in target '" + printable(target) + "'"};
  }
  const bool http_shape = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                          version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
                          version[7] >= '0' && version[7] <= '9';
  if (!http_shape) return {400, "malformed request line: bad version '" + printable(version) + "'"};
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return {505, "HTTP version " + std::string(version) + " is not supported (use HTTP/1.1)"};
  out.method = method;
  out.target = target;
  out.path = target.substr(0, target.find('?'));
  out.version = version;
  return {0, ""};
}

// Parses a decimal Content-Length; false for empty, non-digit or overflowing values.
bool parse_length(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow size_t
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

bool Request::keep_alive() const {
  // Every Connection header counts: "Connection: keep-alive" then "Connection: close" is close.
  bool close = false, keep = false;
  for (const auto& [k, v] : headers) {
    if (!iequals(k, "Connection")) continue;
    close = close || has_token(v, "close");
    keep = keep || has_token(v, "keep-alive");
  }
  if (close) return false;
  return version == "HTTP/1.1" || keep;
}

ParseResult parse_request(std::string_view buf, Request& out, const Limits& limits) {
  out = Request{};
  size_t pos = 0;
  // RFC 9112 2.2: a server should ignore empty lines before the request line (some clients send
  // an extra CRLF after a POST body).
  while (pos < buf.size() && (buf[pos] == '\r' || buf[pos] == '\n')) {
    if (buf[pos] == '\r' && (pos + 1 >= buf.size() || buf[pos + 1] != '\n')) {
      if (pos + 1 >= buf.size()) break;  // a lone CR at the end: wait for its LF
      return error_result(400, "bare CR before the request line");
    }
    pos += buf[pos] == '\r' ? 2 : 1;
    if (pos > limits.max_header_bytes)
      return error_result(431, "too many empty lines before the request line");
  }
  const size_t start = pos;

  // Lines end at LF; a CR right before it is dropped. Any other CR or control byte is an error.
  bool request_line = true;
  size_t content_length = 0;
  bool have_length = false;
  while (true) {
    const size_t lf = buf.find('\n', pos);
    if (lf == std::string_view::npos) {
      if (buf.size() - start > limits.max_header_bytes)
        return error_result(
            431, str("request headers are over the ", limits.max_header_bytes, "-byte limit"));
      return ParseResult{};
    }
    if (lf + 1 - start > limits.max_header_bytes)
      return error_result(
          431, str("request headers are over the ", limits.max_header_bytes, "-byte limit"));
    std::string_view line = buf.substr(pos, lf - pos);
    pos = lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line) {
      const unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f)
        return error_result(400, str("control byte ", printable(std::string_view(&c, 1)),
                                     " in request line or header '", printable(line), "'"));
    }
    if (request_line) {
      if (line.empty()) return error_result(400, "empty request line");
      auto [status, message] = parse_request_line(line, out);
      if (status != 0) return error_result(status, std::move(message));
      request_line = false;
      continue;
    }
    if (line.empty()) break;  // end of the header block
    if (is_ows(line.front()))
      return error_result(400,
                          "obsolete line folding (a header line starting with whitespace) "
                          "is not allowed: '" +
                              printable(line) + "'");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return error_result(400, "header line without ':': '" + printable(line) + "'");
    const std::string_view name = line.substr(0, colon);
    if (name.empty()) return error_result(400, "empty header name in '" + printable(line) + "'");
    for (char c : name)
      if (!is_tchar(c))
        return error_result(400, "invalid character in header name '" + printable(name) + "'");
    if (out.headers.size() >= limits.max_headers)
      return error_result(431, str("more than ", limits.max_headers, " request headers"));
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      size_t n = 0;
      if (!parse_length(value, n))
        return error_result(400, "bad Content-Length '" + printable(value) + "'");
      if (have_length && n != content_length)
        return error_result(
            400, str("conflicting Content-Length headers (", content_length, " and ", n, ")"));
      if (n > limits.max_body_bytes)
        return error_result(
            413, str("Content-Length ", n, " is over the ", limits.max_body_bytes, "-byte limit"));
      content_length = n;
      have_length = true;
    } else if (iequals(name, "Transfer-Encoding")) {
      // A request body framed by anything but Content-Length is refused rather than half
      // supported: a framing disagreement between us and a proxy is how requests get smuggled.
      if (has_token(value, "chunked"))
        return error_result(411, "chunked request bodies are not supported; send Content-Length");
      return error_result(501, "Transfer-Encoding '" + printable(value) + "' is not supported");
    }
    out.headers.emplace_back(std::string(name), std::string(value));
  }

  ParseResult r;
  r.header_bytes = pos;
  r.content_length = content_length;
  if (buf.size() - pos < content_length) return r;  // kIncomplete: waiting for the body
  out.body.assign(buf.substr(pos, content_length));
  r.status = ParseStatus::kComplete;
  r.consumed = pos + content_length;
  return r;
}

const char* status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

void append_header_text(std::string& out, std::string_view s) {
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
}

void append_head(std::string& out, int status, std::string_view content_type,
                 const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  out += str("HTTP/1.1 ", status, ' ', status_text(status), "\r\n");
  if (!content_type.empty()) {
    out += "Content-Type: ";
    append_header_text(out, content_type);
    out += "\r\n";
  }
  for (const auto& [name, value] : extra_headers) {
    append_header_text(out, name);
    out += ": ";
    append_header_text(out, value);
    out += "\r\n";
  }
}

}  // namespace

std::string format_response(int status, std::string_view content_type, std::string_view body,
                            const std::vector<std::pair<std::string, std::string>>& extra_headers,
                            bool keep_alive) {
  std::string out;
  out.reserve(128 + body.size());
  append_head(out, status, content_type, extra_headers);
  out += str("Content-Length: ", body.size(), "\r\n");
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

std::string format_stream_head(
    int status, std::string_view content_type,
    const std::vector<std::pair<std::string, std::string>>& extra_headers, bool chunked,
    bool keep_alive) {
  std::string out;
  append_head(out, status, content_type, extra_headers);
  if (chunked) out += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

std::string format_chunk(std::string_view data) {
  if (data.empty()) return "";
  char size[24];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string out = size;
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace tsft::http
