// The per-format walkers behind parse_tool_calls: each finds where calls start and end in the
// text, hands the JSON to ReplyBuilder, and keeps the text around the calls as content.
#include <string>
#include <vector>

#include "chat/tool_call_internal.h"
#include "core/error.h"

namespace tsft::tool_call_detail {

namespace {

constexpr size_t npos = std::string_view::npos;

bool starts_with_at(std::string_view text, size_t pos, std::string_view word) {
  return pos <= text.size() && text.substr(pos).substr(0, word.size()) == word;
}

// The text ends partway through word (a marker the model was still writing when cut off).
bool is_cut_prefix_of(std::string_view rest, std::string_view word) {
  return !rest.empty() && rest.size() < word.size() && word.substr(0, rest.size()) == rest;
}

// A short quote of the offending text for error messages, never splitting a UTF-8 sequence.
std::string snippet(std::string_view s) {
  constexpr size_t kMax = 24;
  if (s.size() <= kMax) return std::string(s);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

// The error nlohmann gives for a span that scan_json_value could not close.
std::string json_error(std::string_view text, size_t base = 0) {
  JsonParse parsed = parse_json(text, base);
  return parsed.ok ? std::string("invalid JSON") : parsed.error;
}

// A call whose arguments are one JSON value starting at `value`: adds the call, or records why it
// is invalid. Returns the end of the value, or npos when it never closes (the reply is then
// marked truncated with `unclosed`).
size_t add_call_with_json_args(ReplyBuilder& builder, std::string_view text, size_t value,
                               std::string_view name, const std::string& unclosed) {
  const JsonSpan span = scan_json_value(text, value);
  if (span.status == SpanStatus::kIncomplete) {
    builder.truncate_call(unclosed);
    return npos;
  }
  const std::string_view candidate = text.substr(value, span.end - value);
  JsonParse parsed;
  if (span.status == SpanStatus::kComplete) parsed = parse_json(candidate);
  if (!parsed.ok) {
    builder.fail_call(parsed.error.empty() ? json_error(candidate) : parsed.error);
  } else {
    builder.add_call(name, parsed.value);
  }
  return span.end;
}

bool mentions_call_key(std::string_view s) {
  return s.find("\"name\"") != npos || s.find("\"parameters\"") != npos ||
         s.find("\"arguments\"") != npos || s.find("\"function\"") != npos;
}

bool is_call_list(const Json& value) {
  if (!value.is_array() || value.empty()) return false;
  bool any_call = false;
  for (const Json& element : value) {
    if (!element.is_object()) return false;
    any_call = any_call || is_call_candidate(element);
  }
  return any_call;
}

// The body of one <tool_call>...</tool_call>: one JSON object, or several (or a list) when a
// model packs parallel calls into one tag. Anything else inside the tag makes the call invalid.
void parse_hermes_body(std::string_view body, ReplyBuilder& builder) {
  const size_t start = skip_space(body, 0);
  if (start == body.size()) return builder.fail_call("empty <tool_call>");
  std::vector<Json> values;
  size_t pos = start;
  while (pos < body.size()) {
    const char c = body[pos];
    if (c != '{' && c != '[') {
      if (values.empty())
        return builder.fail_call(
            str("expected a JSON object, found '", snippet(body.substr(pos)), "'"));
      return builder.fail_call(str("unexpected text after the JSON at byte ", pos - start, ": '",
                                   snippet(body.substr(pos)), "'"));
    }
    const JsonSpan span = scan_json_value(body, pos);
    if (span.status != SpanStatus::kComplete) {
      const size_t len = span.status == SpanStatus::kMismatch ? span.end - pos : npos;
      return builder.fail_call(json_error(body.substr(pos, len), pos - start));
    }
    JsonParse parsed = parse_json(body.substr(pos, span.end - pos), pos - start);
    if (!parsed.ok) return builder.fail_call(parsed.error);
    values.push_back(std::move(parsed.value));
    pos = skip_space(body, span.end);
  }
  for (const Json& value : values) builder.add_calls_from_json(value);
}

// Text between Llama 3 calls is usually just the separators models put between them.
void add_llama_content(std::string_view piece, ReplyBuilder& builder) {
  for (char c : piece) {
    if (!is_space(c) && c != ';' && c != ',') return builder.add_content(piece);
  }
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

std::string_view strip_quotes(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'' || s.front() == '`') &&
      s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

}  // namespace

ParsedReply parse_hermes(std::string_view text) {
  constexpr std::string_view kOpen = "<tool_call>";
  constexpr std::string_view kClose = "</tool_call>";
  ReplyBuilder builder;
  size_t pos = 0;
  // Qwen3 reasons inside <think>...</think> and may quote the tag while doing so: only what
  // follows the reasoning is the answer. A "</think>" after a <tool_call> in a reply that does
  // not open with <think> is taken as part of that call (an argument may contain it).
  const size_t think_end = text.find("</think>");
  const bool opens_with_think = trim(text).substr(0, 7) == "<think>";
  if (think_end != npos && (opens_with_think || text.find(kOpen) > think_end)) {
    pos = think_end + std::string_view("</think>").size();
    builder.add_content(text.substr(0, pos));
  }
  while (pos < text.size()) {
    const size_t open = text.find(kOpen, pos);
    const size_t stray = text.find(kClose, pos);
    if (stray < open) {
      builder.add_content(text.substr(pos, stray - pos));
      builder.fail_call("</tool_call> without an opening <tool_call>");
      pos = stray + kClose.size();
      continue;
    }
    if (open == npos) {
      builder.add_content(text.substr(pos));
      break;
    }
    builder.add_content(text.substr(pos, open - pos));
    const size_t body = open + kOpen.size();
    const size_t close = text.find(kClose, body);
    const size_t next_open = text.find(kOpen, body);
    if (next_open < close) {
      builder.fail_call("<tool_call> not closed before the next <tool_call>");
      pos = next_open;
      continue;
    }
    if (close == npos) {
      // Even when the JSON inside is whole, a missing close tag means generation stopped early
      // (max_tokens), so the call is not trusted.
      builder.truncate_call("<tool_call> never closed (output cut short?)");
      break;
    }
    parse_hermes_body(text.substr(body, close - body), builder);
    pos = close + kClose.size();
  }
  return builder.finish();
}

ParsedReply parse_llama3_json(std::string_view text) {
  constexpr std::string_view kPythonTag = "<|python_tag|>";
  ReplyBuilder builder;
  size_t pos = 0;
  const size_t tag = text.find(kPythonTag);
  const bool tagged = tag != npos;
  if (tagged) {
    add_llama_content(text.substr(0, tag), builder);
    pos = tag + kPythonTag.size();
  }
  // After <|python_tag|>, or at the very start of the reply, text can only be a call: Llama 3
  // answers with a bare JSON object when it calls a tool. Elsewhere JSON-looking prose is
  // content unless it names the call keys.
  const size_t call_start = skip_space(text, pos);
  if (tagged && call_start == text.size()) {
    builder.truncate_call("<|python_tag|> with no call after it");
    return builder.finish();
  }
  size_t content_from = pos;
  size_t i = call_start;
  while (i < text.size()) {
    const char c = text[i];
    const bool must_be_call = i == call_start;
    if (c != '{' && c != '[') {
      if (must_be_call && tagged) {
        // Llama 3.1's built-in tools (brave_search.call(...)) are Python, not JSON.
        builder.fail_call(str("expected a JSON call after <|python_tag|>, found '",
                              snippet(text.substr(i)), "'"));
        content_from = text.size();
        break;
      }
      ++i;
      continue;
    }
    if (c == '[') {
      const size_t k = skip_space(text, i + 1);
      const bool opens_list = k < text.size() ? text[k] == '{' : must_be_call;
      if (!opens_list) {
        ++i;
        continue;
      }
    }
    const JsonSpan span = scan_json_value(text, i);
    if (span.status == SpanStatus::kIncomplete) {
      if (must_be_call || mentions_call_key(text.substr(i))) {
        add_llama_content(text.substr(content_from, i - content_from), builder);
        builder.truncate_call("JSON call never closed (output cut short?)");
        content_from = text.size();
        break;
      }
      ++i;
      continue;
    }
    const std::string_view candidate = text.substr(i, span.end - i);
    const bool looks_like_call = must_be_call || mentions_call_key(candidate);
    JsonParse parsed;
    if (span.status == SpanStatus::kComplete) parsed = parse_json(candidate);
    if (!parsed.ok) {
      if (!looks_like_call) {
        ++i;
        continue;
      }
      add_llama_content(text.substr(content_from, i - content_from), builder);
      builder.fail_call(parsed.error.empty() ? json_error(candidate) : parsed.error);
      i = content_from = span.end;
      continue;
    }
    if (!is_call_candidate(parsed.value) && !is_call_list(parsed.value)) {
      if (must_be_call && tagged) {
        builder.fail_call("JSON after <|python_tag|> is not a call (no \"name\")");
        content_from = span.end;
      }
      i = span.end;  // JSON in prose (an example, a result) stays content
      continue;
    }
    add_llama_content(text.substr(content_from, i - content_from), builder);
    builder.add_calls_from_json(parsed.value);
    i = content_from = span.end;
  }
  if (content_from < text.size()) add_llama_content(text.substr(content_from), builder);
  return builder.finish();
}

ParsedReply parse_mistral(std::string_view text) {
  constexpr std::string_view kTag = "[TOOL_CALLS]";
  constexpr std::string_view kArgs = "[ARGS]";
  constexpr std::string_view kCallId = "[CALL_ID]";
  ReplyBuilder builder;
  const size_t tag = text.find(kTag);
  if (tag == npos) {
    builder.add_content(text);
    return builder.finish();
  }
  builder.add_content(text.substr(0, tag));
  size_t pos = tag;
  while (starts_with_at(text, pos, kTag)) {
    pos = skip_space(text, pos + kTag.size());
    if (pos == text.size()) {
      builder.truncate_call("[TOOL_CALLS] with no call after it");
      return builder.finish();
    }
    const bool name_less = starts_with_at(text, pos, kArgs) || starts_with_at(text, pos, kCallId);
    if (!name_less && (text[pos] == '[' || text[pos] == '{')) {
      // Up to v7 tokenizers: [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]
      const JsonSpan span = scan_json_value(text, pos);
      if (span.status == SpanStatus::kIncomplete) {
        builder.truncate_call("call list never closed (output cut short?)");
        return builder.finish();
      }
      const std::string_view candidate = text.substr(pos, span.end - pos);
      if (span.status == SpanStatus::kComplete) {
        builder.add_calls_from_text(candidate);
      } else {
        builder.fail_call(json_error(candidate));
      }
      pos = skip_space(text, span.end);
      continue;
    }
    // v11+ tokenizers: [TOOL_CALLS]name[ARGS]{...}, optionally name[CALL_ID]id[ARGS]{...}.
    size_t name_end = pos;
    while (name_end < text.size() && is_name_char(text[name_end])) ++name_end;
    const std::string_view name = text.substr(pos, name_end - pos);
    std::string_view rest = text.substr(name_end);
    if (rest.empty() || is_cut_prefix_of(rest, kArgs) || is_cut_prefix_of(rest, kCallId)) {
      builder.truncate_call("call name not followed by [ARGS] (output cut short?)");
      return builder.finish();
    }
    size_t args = name_end;
    if (starts_with_at(text, name_end, kCallId)) {
      args = text.find(kArgs, name_end + kCallId.size());
      if (args == npos) {
        builder.truncate_call("[CALL_ID] not followed by [ARGS] (output cut short?)");
        return builder.finish();
      }
    }
    if (!starts_with_at(text, args, kArgs)) {
      builder.fail_call(name.empty()
                            ? str("expected a JSON list or name[ARGS] after [TOOL_CALLS], found '",
                                  snippet(rest), "'")
                            : str("expected [ARGS] after the call name '", name, "', found '",
                                  snippet(rest), "'"));
      builder.add_content(rest);
      return builder.finish();
    }
    const size_t value = skip_space(text, args + kArgs.size());
    if (value == text.size()) {
      builder.truncate_call("[ARGS] with no arguments after it (output cut short?)");
      return builder.finish();
    }
    if (text[value] != '{' && text[value] != '[' && text[value] != '"') {
      builder.fail_call(
          str("arguments after [ARGS] are not JSON: '", snippet(text.substr(value)), "'"));
      pos = text.find(kTag, value);
      if (pos == npos) return builder.finish();
      continue;
    }
    const size_t end =
        add_call_with_json_args(builder, text, value, name, "arguments never closed (output cut short?)");
    if (end == npos) return builder.finish();
    pos = skip_space(text, end);
  }
  builder.add_content(text.substr(pos));
  return builder.finish();
}

ParsedReply parse_name_parameters(std::string_view text) {
  ReplyBuilder builder;
  size_t content_from = 0;
  size_t line = 0;
  auto next_line = [&](size_t from) {
    const size_t nl = text.find('\n', from);
    return nl == npos ? text.size() : nl + 1;
  };
  while (line < text.size()) {
    size_t p = line;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    if (!starts_with_at(text, p, "name:")) {
      line = next_line(line);
      continue;
    }
    builder.add_content(text.substr(content_from, line - content_from));
    const size_t name_from = p + std::string_view("name:").size();
    size_t line_end = text.find('\n', name_from);
    if (line_end == npos) line_end = text.size();
    const std::string_view name = strip_quotes(trim(text.substr(name_from, line_end - name_from)));
    const size_t key = skip_space(text, line_end);
    const std::string_view rest = text.substr(key);
    if (rest.empty() || is_cut_prefix_of(rest, "parameters:") ||
        is_cut_prefix_of(rest, "arguments:")) {
      builder.truncate_call("'name:' with no 'parameters:' after it (output cut short?)");
      return builder.finish();
    }
    size_t value;
    if (starts_with_at(text, key, "parameters:")) {
      value = key + std::string_view("parameters:").size();
    } else if (starts_with_at(text, key, "arguments:")) {
      value = key + std::string_view("arguments:").size();
    } else {
      builder.fail_call(str("expected 'parameters:' after 'name: ", snippet(name), "', found '",
                            snippet(rest), "'"));
      line = content_from = key;
      continue;
    }
    value = skip_space(text, value);
    if (value == text.size()) {
      builder.truncate_call("'parameters:' with no value (output cut short?)");
      return builder.finish();
    }
    if (text[value] != '{' && text[value] != '[' && text[value] != '"') {
      builder.fail_call(
          str("parameters are not a JSON object: '", snippet(text.substr(value)), "'"));
      line = content_from = next_line(value);
      continue;
    }
    const size_t end = add_call_with_json_args(builder, text, value, name,
                                               "parameters never closed (output cut short?)");
    if (end == npos) return builder.finish();
    content_from = end;
    line = next_line(end);
  }
  if (content_from < text.size()) builder.add_content(text.substr(content_from));
  return builder.finish();
}

}  // namespace tsft::tool_call_detail
