// libFuzzer target: any request body given to the server's two POST endpoints either parses into
// a request whose fields are in range, or is refused with an ApiError carrying a 4xx status and
// a JSON error body; no other exception, crash or undefined behaviour.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "serve/openai_api.h"

namespace {

using tsft::serve::ApiError;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_refusal(const ApiError& e) {
  check(e.status >= 400 && e.status < 500);
  const auto body = nlohmann::json::parse(tsft::serve::error_body(e), nullptr, false);
  check(!body.is_discarded() && body.contains("error") && body["error"]["message"].is_string());
}

void check_sampling(const tsft::serve::SamplingFields& s) {
  if (s.temperature) check(std::isfinite(*s.temperature) && *s.temperature >= 0.0f);
  // top_p may round to 0.0f from a tiny positive double; the sampler then keeps one token.
  if (s.top_p) check(std::isfinite(*s.top_p) && *s.top_p >= 0.0f && *s.top_p <= 1.0f);
  if (s.max_tokens) check(*s.max_tokens >= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    const auto r = tsft::serve::parse_chat_request(body);
    check(r.messages.is_array() && !r.messages.empty());
    for (const auto& m : r.messages) check(m.is_object() && m.contains("role") && m["role"].is_string());
    check(r.tools.is_null() || r.tools.is_array());
    check_sampling(r.sampling);
  } catch (const ApiError& e) {
    check_refusal(e);
  }
  try {
    const auto r = tsft::serve::parse_completion_request(body);
    check_sampling(r.sampling);
  } catch (const ApiError& e) {
    check_refusal(e);
  }
  return 0;
}
