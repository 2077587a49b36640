#include "serve/openai_api.h"

#include <cmath>

#include "core/error.h"
#include "data/dataset_rows.h"
#include "serve/http_server.h"

namespace tsft::serve {

using nlohmann::ordered_json;

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& msg) {
  throw ApiError(400, field + ": " + msg, "invalid_request_error", field);
}

std::string type_of(const ordered_json& j) { return j.type_name(); }

// The dataset checks name their source first ("request: messages[0].role: ..."); the client
// knows which request it sent, so the answer starts at the field.
[[noreturn]] void rethrow_as_api_error(const Error& e, const std::string& param) {
  std::string msg = e.what();
  if (msg.rfind("request: ", 0) == 0) msg = msg.substr(9);
  throw ApiError(400, msg, "invalid_request_error", param);
}

ordered_json parse_body(std::string_view body) {
  if (body.empty()) throw ApiError(400, "the request body is empty: expected a JSON object");
  ordered_json j;
  try {
    j = ordered_json::parse(body.begin(), body.end());
  } catch (const ordered_json::exception& e) {
    // parse_error, and out_of_range for a number beyond double (1e309): found by
    // fuzz_openai_request, it escaped as a 500.
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object())
    throw ApiError(400, "the request body must be a JSON object, got " + type_of(j));
  return j;
}

// Present and not null.
bool has(const ordered_json& j, const char* key) {
  return j.contains(key) && !j[key].is_null();
}

std::optional<double> number_field(const ordered_json& j, const char* key, double lo, double hi) {
  if (!has(j, key)) return std::nullopt;
  const ordered_json& v = j[key];
  if (!v.is_number()) bad(key, "expected a number, got " + type_of(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                 v.dump());
  return x;
}

std::optional<int64_t> int_field(const ordered_json& j, const char* key, int64_t lo, int64_t hi) {
  if (!has(j, key)) return std::nullopt;
  const ordered_json& v = j[key];
  if (!v.is_number_integer()) bad(key, "expected an integer, got " + v.dump());
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    bad(key, "out of range: " + v.dump());
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                 std::to_string(x));
  return x;
}

bool bool_field(const ordered_json& j, const char* key, bool dflt) {
  if (!has(j, key)) return dflt;
  if (!j[key].is_boolean()) bad(key, "expected true or false, got " + type_of(j[key]));
  return j[key].get<bool>();
}

std::string string_field(const ordered_json& j, const char* key) {
  if (!has(j, key)) bad(key, "missing");
  if (!j[key].is_string()) bad(key, "expected a string, got " + type_of(j[key]));
  return j[key].get<std::string>();
}

// Fields we read but whose non-default values we cannot honour: refused rather than ignored, so
// a client never silently gets something other than what it asked for.
void refuse_unsupported(const ordered_json& j) {
  if (auto n = int_field(j, "n", 1, 128); n && *n != 1)
    bad("n", "only n = 1 is supported");
  if (bool_field(j, "logprobs", false)) bad("logprobs", "log probabilities are not supported");
  if (has(j, "top_logprobs")) bad("top_logprobs", "log probabilities are not supported");
  for (const char* k : {"presence_penalty", "frequency_penalty"})
    if (auto p = number_field(j, k, -2.0, 2.0); p && *p != 0.0) bad(k, "penalties are not supported");
  if (has(j, "logit_bias")) {
    if (!j["logit_bias"].is_object()) bad("logit_bias", "expected an object");
    if (!j["logit_bias"].empty()) bad("logit_bias", "logit_bias is not supported");
  }
  if (has(j, "response_format")) {
    const ordered_json& rf = j["response_format"];
    if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string())
      bad("response_format", "expected {\"type\": ...}");
    if (rf["type"] != "text")
      bad("response_format.type", "only \"text\" is supported, got " + rf["type"].dump());
  }
  if (has(j, "user") && !j["user"].is_string()) bad("user", "expected a string");
}

SamplingFields sampling_fields(const ordered_json& j, bool chat) {
  SamplingFields s;
  if (auto t = number_field(j, "temperature", 0.0, 2.0)) s.temperature = static_cast<float>(*t);
  if (auto p = number_field(j, "top_p", 0.0, 1.0)) {
    if (*p <= 0.0) bad("top_p", "must be greater than 0");
    s.top_p = static_cast<float>(*p);
  }
  const int64_t kMax = int64_t{1} << 30;
  if (auto m = int_field(j, "max_tokens", 1, kMax)) s.max_tokens = *m;
  if (chat)
    if (auto m = int_field(j, "max_completion_tokens", 1, kMax)) s.max_tokens = *m;
  if (has(j, "stop")) {
    const ordered_json& st = j["stop"];
    if (st.is_string()) {
      s.stop.push_back(st.get<std::string>());
    } else if (st.is_array()) {
      if (st.size() > 4) bad("stop", "at most 4 stop strings, got " + std::to_string(st.size()));
      for (size_t i = 0; i < st.size(); ++i) {
        if (!st[i].is_string())
          bad("stop[" + std::to_string(i) + "]", "expected a string, got " + type_of(st[i]));
        s.stop.push_back(st[i].get<std::string>());
      }
    } else {
      bad("stop", "expected a string or a list of strings, got " + type_of(st));
    }
    for (const auto& x : s.stop)
      if (x.empty()) bad("stop", "stop strings must not be empty");
  }
  if (has(j, "seed")) {
    const ordered_json& v = j["seed"];
    if (!v.is_number_integer()) bad("seed", "expected an integer, got " + v.dump());
    s.seed = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
  }
  s.stream = bool_field(j, "stream", false);
  if (has(j, "stream_options")) {
    const ordered_json& so = j["stream_options"];
    if (!so.is_object()) bad("stream_options", "expected an object, got " + type_of(so));
    if (!s.stream) bad("stream_options", "only allowed with stream: true");
    s.include_usage = bool_field(so, "include_usage", false);
  }
  refuse_unsupported(j);
  return s;
}

}  // namespace

std::string error_body(const ApiError& e) {
  return http::error_body(e.what(), e.type, e.param, e.code);
}

std::string json_text(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

ChatRequest parse_chat_request(std::string_view body) {
  const ordered_json j = parse_body(body);
  ChatRequest r;
  r.model = string_field(j, "model");
  if (!has(j, "messages")) bad("messages", "missing");
  ordered_json msgs = j["messages"];
  if (msgs.is_array())
    for (auto& m : msgs)
      if (m.is_object() && m.contains("role") && m["role"] == "developer") m["role"] = "system";
  try {
    r.messages = normalize_chat_messages(msgs, "request");
  } catch (const Error& e) {
    rethrow_as_api_error(e, "messages");
  }
  if (has(j, "tools")) {
    if (!j["tools"].is_array()) bad("tools", "expected a list, got " + type_of(j["tools"]));
    for (size_t i = 0; i < j["tools"].size(); ++i) {
      const ordered_json& t = j["tools"][i];
      const std::string f = "tools[" + std::to_string(i) + "]";
      if (!t.is_object()) bad(f, "expected an object, got " + type_of(t));
      if (t.value("type", "") != "function") bad(f + ".type", "expected \"function\"");
      if (!t.contains("function") || !t["function"].is_object())
        bad(f + ".function", "expected an object");
    }
    try {
      r.tools = normalize_tool_list(j["tools"], "request");
    } catch (const Error& e) {
      rethrow_as_api_error(e, "tools");
    }
  }
  if (has(j, "tool_choice")) {
    const ordered_json& tc = j["tool_choice"];
    if (tc.is_string()) {
      const std::string s = tc.get<std::string>();
      if (s == "auto") r.tool_choice = ToolChoice::kAuto;
      else if (s == "none") r.tool_choice = ToolChoice::kNone;
      else if (s == "required") r.tool_choice = ToolChoice::kRequired;
      else bad("tool_choice", "expected \"auto\", \"none\", \"required\" or a function, got \"" + s + "\"");
    } else if (tc.is_object()) {
      if (tc.value("type", "") != "function" || !tc.contains("function") ||
          !tc["function"].is_object() || !tc["function"].contains("name") ||
          !tc["function"]["name"].is_string())
        bad("tool_choice", "expected {\"type\": \"function\", \"function\": {\"name\": ...}}");
      r.tool_choice = ToolChoice::kNamed;
      r.tool_choice_name = tc["function"]["name"].get<std::string>();
    } else {
      bad("tool_choice", "expected a string or an object, got " + type_of(tc));
    }
    const bool needs_tools = r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed;
    if (needs_tools && r.tools.is_null()) bad("tool_choice", "needs tools to choose from");
    if (r.tool_choice == ToolChoice::kNamed) {
      bool found = false;
      for (const auto& t : r.tools) found |= t["function"]["name"] == r.tool_choice_name;
      if (!found) bad("tool_choice", "no tool named \"" + r.tool_choice_name + "\" among tools");
    }
  }
  bool_field(j, "parallel_tool_calls", true);
  r.sampling = sampling_fields(j, /*chat=*/true);
  return r;
}

CompletionRequest parse_completion_request(std::string_view body) {
  const ordered_json j = parse_body(body);
  CompletionRequest r;
  r.model = string_field(j, "model");
  if (!has(j, "prompt")) bad("prompt", "missing");
  const ordered_json& p = j["prompt"];
  if (p.is_string()) {
    r.prompt = p.get<std::string>();
  } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
    r.prompt = p[0].get<std::string>();
  } else {
    bad("prompt", "expected a string (or a list of one string), got " +
                      (p.is_array() ? "a list of " + std::to_string(p.size()) : type_of(p)));
  }
  if (r.prompt.empty()) bad("prompt", "empty");
  if (bool_field(j, "echo", false)) bad("echo", "echo is not supported");
  if (has(j, "suffix")) bad("suffix", "suffix is not supported");
  if (auto b = int_field(j, "best_of", 1, 128); b && *b != 1) bad("best_of", "only best_of = 1 is supported");
  r.sampling = sampling_fields(j, /*chat=*/false);
  if (!r.sampling.max_tokens) r.sampling.max_tokens = 16;  // OpenAI's default for completions
  return r;
}

std::string openai_finish_reason(const std::string& reason, bool has_tool_calls) {
  if (has_tool_calls && reason != "length") return "tool_calls";
  if (reason == "length") return "length";
  return "stop";
}

ordered_json usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

ordered_json assistant_message(const ParsedReply& reply, const std::string& id_prefix) {
  ordered_json m = {{"role", "assistant"}};
  m["content"] = reply.content.empty() && !reply.calls.empty() ? ordered_json()
                                                               : ordered_json(reply.content);
  if (!reply.calls.empty()) {
    ordered_json calls = ordered_json::array();
    for (size_t i = 0; i < reply.calls.size(); ++i)
      calls.push_back({{"id", id_prefix + std::to_string(i)},
                       {"type", "function"},
                       {"function",
                        {{"name", reply.calls[i].name},
                         {"arguments", reply.calls[i].arguments_json}}}});
    m["tool_calls"] = calls;
  }
  return m;
}

}  // namespace tsft::serve
