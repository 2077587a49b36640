// Tool-call parsing front door: format names, format detection, the shared JSON scanner and
// call builder, and the OpenAI rendering. The per-format walkers are in tool_call_formats.cpp.
#include "chat/tool_call.h"

#include <algorithm>
#include <string>
#include <utility>

#include "chat/tool_call_internal.h"
#include "core/error.h"

namespace tsft {
namespace tool_call_detail {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

size_t skip_space(std::string_view text, size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

JsonSpan scan_json_value(std::string_view text, size_t start) {
  TSFT_CHECK(start < text.size() &&
             (text[start] == '{' || text[start] == '[' || text[start] == '"'));
  std::string closers;  // expected closing brackets, innermost last
  bool in_string = false;
  bool escaped = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        if (closers.empty()) return {SpanStatus::kComplete, i + 1};  // a bare string value
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      closers.push_back(c == '{' ? '}' : ']');
      if (static_cast<int>(closers.size()) > kMaxJsonDepth)
        return {SpanStatus::kTooDeep, text.size()};
    } else if (c == '}' || c == ']') {
      if (closers.empty() || closers.back() != c) return {SpanStatus::kMismatch, i + 1};
      closers.pop_back();
      if (closers.empty()) return {SpanStatus::kComplete, i + 1};
    }
  }
  return {SpanStatus::kIncomplete, text.size()};
}

namespace {

// Deepest bracket nesting outside strings; arguments given as a JSON string never went
// through scan_json_value, so they are checked here before nlohmann builds them.
int max_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// nlohmann's message starts with "[json.exception.parse_error.101] parse error at line 1,
// column 5: "; the byte offset is reported by us, so only the reason after it is kept.
std::string parse_reason(const char* what) {
  std::string_view s(what);
  const size_t column = s.find("column ");
  if (column != std::string_view::npos) {
    const size_t colon = s.find(": ", column);
    if (colon != std::string_view::npos) return std::string(s.substr(colon + 2));
  }
  return std::string(s);
}

std::string compact(const Json& value) {
  // replace: invalid UTF-8 cannot reach here through the parser, but dump must never throw.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

JsonParse parse_json(std::string_view text, size_t base) {
  JsonParse out;
  if (max_depth(text) > kMaxJsonDepth) {
    out.error = str("JSON nested deeper than ", kMaxJsonDepth, " levels");
    return out;
  }
  try {
    out.value = Json::parse(text.begin(), text.end());
    out.ok = true;
  } catch (const Json::parse_error& e) {
    // e.byte counts the bytes read including the offending one; report its 0-based offset, as
    // the other messages do.
    out.error = str("invalid JSON at byte ", base + (e.byte > 0 ? e.byte - 1 : 0), ": ",
                    parse_reason(e.what()));
  } catch (const std::exception& e) {
    out.error = str("invalid JSON: ", e.what());
  }
  return out;
}

bool is_call_candidate(const Json& value) {
  if (!value.is_object()) return false;
  return value.contains("name") || value.contains("arguments") || value.contains("parameters") ||
         (value.contains("function") && value["function"].is_object());
}

void ReplyBuilder::record_error(const std::string& reason) {
  if (reply_.valid) {
    reply_.valid = false;
    reply_.error = reason;
  }
}

void ReplyBuilder::fail_call(const std::string& reason) {
  ++attempted_;
  record_error(str("tool call ", attempted_, ": ", reason));
}

void ReplyBuilder::truncate_call(const std::string& reason) {
  reply_.truncated = true;
  fail_call(reason);
}

void ReplyBuilder::add_calls_from_text(std::string_view json_text) {
  JsonParse parsed = parse_json(json_text);
  if (!parsed.ok) return fail_call(parsed.error);
  add_calls_from_json(parsed.value);
}

void ReplyBuilder::add_calls_from_json(const Json& value) {
  if (value.is_array()) {
    if (value.empty()) return fail_call("empty list of calls");
    for (const Json& element : value) add_one(element);
    return;
  }
  add_one(value);
}

bool ReplyBuilder::set_arguments(const Json& arguments, ToolCall& call) {
  // A call with no arguments is legal (a function without parameters); models write it
  // as a missing key, null, {} or "".
  if (arguments.is_null()) {
    call.arguments_json = "{}";
    return true;
  }
  if (arguments.is_object()) {
    call.arguments_json = compact(arguments);
    return true;
  }
  if (arguments.is_string()) {
    // Qwen2.5 and Llama 3.2 templates render OpenAI's string arguments as a JSON string,
    // so models trained on them echo that shape.
    const std::string& inner = arguments.get_ref<const std::string&>();
    if (trim(inner).empty()) {
      call.arguments_json = "{}";
      return true;
    }
    JsonParse parsed = parse_json(inner);
    if (!parsed.ok) {
      fail_call("arguments string is not JSON: " + parsed.error);
      return false;
    }
    if (!parsed.value.is_object()) {
      fail_call(str("arguments string holds a JSON ", parsed.value.type_name(), ", not an object"));
      return false;
    }
    call.arguments_json = compact(parsed.value);
    return true;
  }
  fail_call(str("arguments is a JSON ", arguments.type_name(), ", not an object"));
  return false;
}

void ReplyBuilder::add_one(const Json& value) {
  if (!value.is_object())
    return fail_call(str("expected a JSON object, got a ", value.type_name()));
  const Json* call_json = &value;
  // OpenAI's own shape, {"type": "function", "function": {"name", "arguments"}}.
  if (!value.contains("name") && value.contains("function") && value["function"].is_object()) {
    call_json = &value["function"];
  }
  const auto name_it = call_json->find("name");
  if (name_it == call_json->end()) return fail_call("missing \"name\"");
  if (!name_it->is_string())
    return fail_call(str("\"name\" is a JSON ", name_it->type_name(), ", not a string"));
  const std::string& name = name_it->get_ref<const std::string&>();
  if (trim(name).empty()) return fail_call("empty \"name\"");

  const Json null_json;
  const Json* arguments = &null_json;
  if (auto it = call_json->find("arguments"); it != call_json->end()) {
    arguments = &*it;
  } else if (auto pit = call_json->find("parameters"); pit != call_json->end()) {
    arguments = &*pit;  // Llama 3's spelling
  }
  add_call(name, *arguments);
}

void ReplyBuilder::add_call(std::string_view name, const Json& arguments) {
  if (trim(name).empty()) return fail_call("missing name");
  ToolCall call;
  call.name = std::string(trim(name));
  // set_arguments counts the call itself when it fails.
  if (!set_arguments(arguments, call)) return;
  ++attempted_;
  call.id = str("call_", reply_.calls.size() + 1);
  reply_.calls.push_back(std::move(call));
}

ParsedReply ReplyBuilder::finish() {
  reply_.content = std::string(trim(content_));
  return std::move(reply_);
}

}  // namespace tool_call_detail

namespace {

using namespace tool_call_detail;

bool starts_line_with(std::string_view text, std::string_view word) {
  for (size_t pos = text.find(word); pos != std::string_view::npos;
       pos = text.find(word, pos + 1)) {
    size_t b = pos;
    while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t')) --b;
    if (b == 0 || text[b - 1] == '\n') return true;
  }
  return false;
}

// Picks a format from markers that only a tool call would contain; text with none of them goes
// to the Llama 3 walker, which also finds bare JSON calls and otherwise returns plain content.
ToolCallFormat detect_format(std::string_view text) {
  if (text.find("<tool_call>") != std::string_view::npos ||
      text.find("</tool_call>") != std::string_view::npos)
    return ToolCallFormat::kHermes;
  if (text.find("[TOOL_CALLS]") != std::string_view::npos) return ToolCallFormat::kMistral;
  if (starts_line_with(text, "name:") &&
      (starts_line_with(text, "parameters:") || starts_line_with(text, "arguments:")))
    return ToolCallFormat::kNameParameters;
  return ToolCallFormat::kLlama3Json;
}

}  // namespace

ParsedReply parse_tool_calls(std::string_view text, ToolCallFormat format) {
  if (format == ToolCallFormat::kAuto) format = detect_format(text);
  // The walkers report problems as values; this catch only keeps an unforeseen library
  // exception (bad_alloc aside) from escaping into a server thread.
  try {
    switch (format) {
      case ToolCallFormat::kHermes:
        return parse_hermes(text);
      case ToolCallFormat::kLlama3Json:
        return parse_llama3_json(text);
      case ToolCallFormat::kMistral:
        return parse_mistral(text);
      case ToolCallFormat::kNameParameters:
        return parse_name_parameters(text);
      case ToolCallFormat::kAuto:
        break;
    }
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    ParsedReply reply;
    reply.content = std::string(trim(text));
    reply.valid = false;
    reply.error = str("tool call parser failed: ", e.what());
    return reply;
  }
  TSFT_CHECK(false, "unhandled ToolCallFormat");
  return {};
}

ToolCallFormat tool_call_format_from_name(std::string_view name) {
  if (name == "hermes" || name == "qwen" || name == "smollm") return ToolCallFormat::kHermes;
  if (name == "llama3" || name == "llama3_json") return ToolCallFormat::kLlama3Json;
  if (name == "mistral") return ToolCallFormat::kMistral;
  if (name == "name_parameters") return ToolCallFormat::kNameParameters;
  if (name == "auto") return ToolCallFormat::kAuto;
  fail("unknown tool-call format '", name,
       "' (expected hermes, qwen, smollm, llama3, mistral, name_parameters or auto)");
}

const char* tool_call_format_name(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kHermes:
      return "hermes";
    case ToolCallFormat::kLlama3Json:
      return "llama3";
    case ToolCallFormat::kMistral:
      return "mistral";
    case ToolCallFormat::kNameParameters:
      return "name_parameters";
    case ToolCallFormat::kAuto:
      return "auto";
  }
  return "?";
}

std::string to_openai_json(const ParsedReply& reply) {
  Json message = Json::object();
  if (reply.content.empty() && !reply.calls.empty()) {
    message["content"] = nullptr;
  } else {
    message["content"] = reply.content;
  }
  if (!reply.calls.empty()) {
    Json calls = Json::array();
    for (const ToolCall& call : reply.calls) {
      Json function = Json::object();
      function["name"] = call.name;
      function["arguments"] = call.arguments_json;
      Json entry = Json::object();
      entry["id"] = call.id;
      entry["type"] = "function";
      entry["function"] = std::move(function);
      calls.push_back(std::move(entry));
    }
    message["tool_calls"] = std::move(calls);
  }
  // Content is raw model text and may hold broken UTF-8; replace it rather than throw.
  return message.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace tsft
