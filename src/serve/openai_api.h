// The OpenAI wire format of `toolsft serve`: request bodies of /v1/chat/completions and
// /v1/completions checked field by field into plain structs, and the reply / stream-chunk JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tool_call.h"

namespace tsft::serve {

// A request the server refuses, with the HTTP status and OpenAI's error fields.
struct ApiError : std::runtime_error {
  ApiError(int status, std::string message, std::string type = "invalid_request_error",
           std::string param = "", std::string code = "")
      : std::runtime_error(message),
        status(status),
        type(std::move(type)),
        param(std::move(param)),
        code(std::move(code)) {}
  int status;
  std::string type, param, code;
};

// {"error": {"message", "type", "param", "code"}} (param/code null when empty), as the HTTP
// layer writes its own errors (http::error_body).
std::string error_body(const ApiError& e);

// JSON text of a reply or chunk. Model output is not always valid UTF-8 (a byte-level token may
// end mid-character): such bytes become U+FFFD instead of making dump() throw.
std::string json_text(const nlohmann::ordered_json& j);

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

// Sampling and length fields common to both endpoints. Unset optional fields take the model's
// defaults (generation_config), as vLLM does.
struct SamplingFields {
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int64_t> max_tokens;   // max_tokens or max_completion_tokens
  std::vector<std::string> stop;
  std::optional<uint64_t> seed;
  bool stream = false;
  bool include_usage = false;          // stream_options.include_usage
};

struct ChatRequest {
  std::string model;
  nlohmann::ordered_json messages;  // normalised (data/dataset_rows.h), "developer" -> "system"
  nlohmann::ordered_json tools;     // [{"type": "function", "function": {...}}] or null
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_choice_name;     // kNamed
  SamplingFields sampling;
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  SamplingFields sampling;
};

// Parse and check a body. ApiError 400 naming the field for bad JSON, a missing or mistyped
// field, an out-of-range value, or a feature the server does not offer (n > 1, logprobs, ...).
// Unknown fields are ignored, as OpenAI's own server does for forward compatibility.
ChatRequest parse_chat_request(std::string_view body);
CompletionRequest parse_completion_request(std::string_view body);

// OpenAI's finish_reason for ours ("eos"/"stop" -> "stop", "length" -> "length", and
// "tool_calls" when the reply holds calls).
std::string openai_finish_reason(const std::string& reason, bool has_tool_calls);

nlohmann::ordered_json usage_json(int64_t prompt_tokens, int64_t completion_tokens);

// The assistant message of a chat reply: content (null when only calls), tool_calls with ids
// "call_<24 hex>" unique per reply, arguments as JSON text.
nlohmann::ordered_json assistant_message(const ParsedReply& reply, const std::string& id_prefix);

}  // namespace tsft::serve
