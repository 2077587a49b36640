// libFuzzer target: any byte string parses, request after request (pipelining), into complete
// requests whose fields obey the grammar, then at most one kIncomplete or kError; and a response
// formatted from any bytes keeps its header block intact (no CR/LF smuggled into a header).
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/http.h"

namespace {

using tsft::http::ParseResult;
using tsft::http::ParseStatus;
using tsft::http::Request;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

size_t count(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t pos = s.find(what); pos != std::string_view::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

// The header block of a formatted response: every CR is followed by LF and every LF preceded by
// CR, and it has exactly `lines` of them (status line, headers, blank line).
void check_head(std::string_view response, size_t body_size, size_t lines) {
  check(response.size() >= body_size);
  const std::string_view head = response.substr(0, response.size() - body_size);
  check(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
  check(count(head, "\r") == lines && count(head, "\n") == lines && count(head, "\r\n") == lines);
}

void check_request(const Request& req, const ParseResult& r) {
  check(r.consumed > 0 && r.header_bytes > 0);
  check(r.consumed == r.header_bytes + r.content_length);
  check(req.body.size() == r.content_length);
  check(req.version == "HTTP/1.1" || req.version == "HTTP/1.0");
  check(!req.method.empty() && !req.target.empty());
  check(req.target.compare(0, req.path.size(), req.path) == 0);
  for (const auto& [name, value] : req.headers) {
    check(!name.empty() && name.find(':') == std::string::npos);
    check(value.find('\r') == std::string::npos && value.find('\n') == std::string::npos);
    check(req.header(name) != nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks small or default limits, so short inputs reach the 413/431 paths too.
  tsft::http::Limits limits;
  if (!input.empty() && (input[0] & 1)) {
    limits.max_header_bytes = 256;
    limits.max_body_bytes = 64;
    limits.max_headers = 4;
  }

  std::string_view buf = input;
  while (!buf.empty()) {
    Request req;
    const ParseResult r = tsft::http::parse_request(buf, req, limits);
    if (r.status == ParseStatus::kIncomplete) {
      check(r.consumed == 0 && r.header_bytes <= buf.size());
      break;
    }
    if (r.status == ParseStatus::kError) {
      const int s = r.error_status;
      check(s == 400 || s == 411 || s == 413 || s == 431 || s == 501 || s == 505);
      check(!r.error.empty());
      break;
    }
    check(r.consumed <= buf.size());
    check_request(req, r);
    // The request's own bytes alone parse to the same request: nothing after it was looked at.
    Request again;
    const ParseResult r2 = tsft::http::parse_request(buf.substr(0, r.consumed), again, limits);
    check(r2.status == ParseStatus::kComplete && r2.consumed == r.consumed);
    check(again.target == req.target && again.headers == req.headers && again.body == req.body);
    // Echoing the parsed headers back gives a well-formed response.
    const std::string echo =
        tsft::http::format_response(200, req.path, req.body, req.headers, req.keep_alive());
    check_head(echo, req.body.size(),
               1 + !req.path.empty() + req.headers.size() + 1 + !req.keep_alive() + 1);
    buf.remove_prefix(r.consumed);
  }

  // Raw bytes in every header position cannot break the header block.
  const int status = size >= 2 ? 100 + (data[0] * 256 + data[1]) % 500 : 200;
  check(tsft::http::status_text(status) != nullptr);
  const std::string raw = tsft::http::format_response(
      status, input, input, {{std::string(input), std::string(input)}}, false);
  check_head(raw, input.size(), 1 + (input.empty() ? 0 : 1) + 1 + 1 + 1 + 1);
  const std::string chunk = tsft::http::format_chunk(input);
  check(input.empty() ? chunk.empty() : chunk.size() > input.size() + 4);
  return 0;
}
