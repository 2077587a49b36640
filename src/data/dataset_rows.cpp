#include "data/dataset_rows.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

constexpr size_t kKeptErrors = 5;

// One row of the file: its JSON text (or, for array files, the already parsed element).
struct RawRow {
  int64_t line = 0;
  size_t offset = 0;   // byte offset of the row in the file
  std::string text;    // JSONL
  ordered_json value;  // array files
  bool parsed = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// 1-based line and column of a byte offset.
std::pair<int64_t, int64_t> line_col(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  int64_t line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
  const size_t nl = offset == 0 ? std::string::npos : text.rfind('\n', offset - 1);
  const int64_t col = static_cast<int64_t>(offset - (nl == std::string::npos ? 0 : nl + 1)) + 1;
  return {line, col};
}

// nlohmann's message without its "[json.exception...] parse error at line L, column C: " prefix.
// Parsing also throws out_of_range (a number beyond double, like 1e309), not only parse_error:
// every parse here catches ordered_json::exception, so such input is an error naming the row.
std::string parse_message(const ordered_json::exception& e) {
  const std::string w = e.what();
  const size_t col = w.find("column ");
  if (col != std::string::npos) {
    const size_t colon = w.find(": ", col);
    if (colon != std::string::npos) return w.substr(colon + 2);
  }
  // Other exceptions: "[json.exception.out_of_range.406] number overflow parsing '1e309'".
  if (w.rfind("[json.exception.", 0) == 0 && w.find("] ") != std::string::npos)
    return w.substr(w.find("] ") + 2);
  return w;
}

// Byte offsets at which the top-level elements of a valid JSON array text start.
std::vector<size_t> array_element_offsets(const std::string& text) {
  std::vector<size_t> out;
  int depth = 0;
  bool in_string = false, escaped = false, want_element = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (want_element && c != ']') out.push_back(i);
    want_element = false;
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth == 1) want_element = true;
    } else if (c == ']' || c == '}')
      --depth;
    else if (c == ',' && depth == 1)
      want_element = true;
  }
  return out;
}

// Reads the rows of a JSONL file, a JSON-array file or a file holding one (multi-line) object.
// A JSON-array file that does not parse is one error for the whole file; a JSONL line that does
// not parse is that row's error.
std::vector<RawRow> read_rows(const std::string& path, const std::string& text) {
  std::vector<RawRow> rows;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) fail(path, ": the file is empty");
  if (text[first] == '[') {
    ordered_json all;
    try {
      all = ordered_json::parse(text);
    } catch (const ordered_json::parse_error& e) {
      const auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
      fail(path, ":", line, ":", col, ": invalid JSON: ", parse_message(e));
    } catch (const ordered_json::exception& e) {
      fail(path, ": invalid JSON: ", parse_message(e));
    }
    const std::vector<size_t> offsets = array_element_offsets(text);
    TSFT_CHECK(offsets.size() == all.size(), "found ", offsets.size(), " of ", all.size(),
               " elements");
    for (size_t i = 0; i < all.size(); ++i) {
      RawRow r;
      r.offset = offsets[i];
      r.line = line_col(text, offsets[i]).first;
      r.value = std::move(all[i]);
      r.parsed = true;
      rows.push_back(std::move(r));
    }
  } else if (text[first] == '{' && text.find('\n', first) < text.find_last_not_of(" \t\r\n") &&
             ordered_json::accept(text)) {
    // One object written over several lines (a pretty-printed single conversation).
    RawRow r;
    r.offset = first;
    r.line = line_col(text, first).first;
    r.value = ordered_json::parse(text);
    r.parsed = true;
    rows.push_back(std::move(r));
  } else {
    size_t at = 0;
    for (int64_t line = 1; at < text.size(); ++line) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string_view l(text.data() + at, end - at);
      if (l.find_first_not_of(" \t\r") != std::string_view::npos) {
        RawRow r;
        r.line = line;
        r.offset = at;
        r.text = std::string(l);
        rows.push_back(std::move(r));
      }
      at = end + 1;
    }
  }
  if (rows.empty()) fail(path, ": the file holds no rows");
  return rows;
}

// --- row validation: every failure names the field ------------------------------------------

struct RowContext {
  std::string where;  // "FILE:LINE"
  [[noreturn]] void bad(const std::string& field, const std::string& msg) const {
    fail(where, ": ", field, ": ", msg);
  }
};

std::string type_name(const ordered_json& j) {
  return j.type_name();
}

const std::string& get_string(const RowContext& cx, const ordered_json& obj, const char* key,
                              const std::string& field) {
  if (!obj.contains(key)) cx.bad(field, "missing");
  if (!obj[key].is_string()) cx.bad(field, "expected a string, got " + type_name(obj[key]));
  return obj[key].get_ref<const std::string&>();
}

// Message content: a string, null/absent (""), or a list of {"type": "text", "text": ...} parts.
std::string content_of(const RowContext& cx, const ordered_json& m, const std::string& field) {
  if (!m.contains("content") || m["content"].is_null()) return "";
  const ordered_json& c = m["content"];
  if (c.is_string()) return c.get<std::string>();
  if (c.is_array()) {
    std::string out;
    for (size_t k = 0; k < c.size(); ++k) {
      const std::string f = field + "[" + std::to_string(k) + "]";
      if (!c[k].is_object() || c[k].value("type", "") != "text" || !c[k].contains("text") ||
          !c[k]["text"].is_string())
        cx.bad(f, "expected a {\"type\": \"text\", \"text\": ...} part");
      out += c[k]["text"].get<std::string>();
    }
    return out;
  }
  cx.bad(field, "expected a string, got " + type_name(c));
}

// Arguments as a JSON object, whether given as one or as a JSON string.
ordered_json arguments_of(const RowContext& cx, const ordered_json& f, const std::string& field) {
  if (!f.contains("arguments") || f["arguments"].is_null()) return ordered_json::object();
  ordered_json args = f["arguments"];
  if (args.is_string()) {
    try {
      args = ordered_json::parse(args.get<std::string>());
    } catch (const ordered_json::exception& e) {
      cx.bad(field, "not valid JSON: " + parse_message(e));
    }
  }
  if (!args.is_object()) cx.bad(field, "expected a JSON object, got " + type_name(args));
  return args;
}

// {"id"?, "type": "function", "function": {"name", "arguments": object}}; also accepts the flat
// {"name", "arguments"} form.
ordered_json normalize_tool_call(const RowContext& cx, const ordered_json& call,
                                 const std::string& field) {
  if (!call.is_object()) cx.bad(field, "expected an object, got " + type_name(call));
  const bool nested = call.contains("function");
  const ordered_json& f = nested ? call["function"] : call;
  const std::string ff = nested ? field + ".function" : field;
  if (!f.is_object()) cx.bad(ff, "expected an object, got " + type_name(f));
  const std::string& name = get_string(cx, f, "name", ff + ".name");
  if (name.empty()) cx.bad(ff + ".name", "empty");
  ordered_json out = ordered_json::object();
  if (call.contains("id")) {
    if (!call["id"].is_string()) cx.bad(field + ".id", "expected a string");
    out["id"] = call["id"];
  }
  out["type"] = "function";
  out["function"] = {{"name", name}, {"arguments", arguments_of(cx, f, ff + ".arguments")}};
  return out;
}

ordered_json normalize_messages(const RowContext& cx, const ordered_json& msgs,
                                const std::string& field) {
  if (!msgs.is_array()) cx.bad(field, "expected a list, got " + type_name(msgs));
  if (msgs.empty()) cx.bad(field, "empty");
  ordered_json out = ordered_json::array();
  for (size_t i = 0; i < msgs.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    const ordered_json& m = msgs[i];
    if (!m.is_object()) cx.bad(f, "expected an object, got " + type_name(m));
    const std::string& role = get_string(cx, m, "role", f + ".role");
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      cx.bad(f + ".role", "expected one of system, user, assistant, tool; got '" + role + "'");
    ordered_json n = ordered_json::object();
    n["role"] = role;
    n["content"] = content_of(cx, m, f + ".content");
    const bool has_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
    if (has_calls) {
      if (role != "assistant") cx.bad(f + ".tool_calls", "only assistant messages make tool calls");
      const ordered_json& calls = m["tool_calls"];
      if (!calls.is_array()) cx.bad(f + ".tool_calls", "expected a list, got " + type_name(calls));
      if (!calls.empty()) {
        n["tool_calls"] = ordered_json::array();
        for (size_t k = 0; k < calls.size(); ++k)
          n["tool_calls"].push_back(
              normalize_tool_call(cx, calls[k], f + ".tool_calls[" + std::to_string(k) + "]"));
      }
    }
    if (role != "tool" && role != "assistant" && !m.contains("content"))
      cx.bad(f + ".content", "missing");
    if (role == "assistant" && !n.contains("tool_calls") &&
        n["content"].get_ref<const std::string&>().empty())
      cx.bad(f + ".content", "an assistant message needs content or tool_calls");
    if (role == "tool") {
      if (!m.contains("content")) cx.bad(f + ".content", "missing");
      if (m.contains("tool_call_id"))
        n["tool_call_id"] = get_string(cx, m, "tool_call_id", f + ".tool_call_id");
      if (m.contains("name")) n["name"] = get_string(cx, m, "name", f + ".name");
    }
    out.push_back(std::move(n));
  }
  return out;
}

// Tools: a list (or a JSON string holding one) of {"type": "function", "function": {...}} or bare
// {"name", "description", "parameters"} schemas, which are wrapped. Each schema is kept as given.
ordered_json normalize_tools_value(const RowContext& cx, const ordered_json& value,
                                   const std::string& field) {
  if (value.is_null()) return ordered_json();
  ordered_json tools = value;
  if (tools.is_string()) {
    try {
      tools = ordered_json::parse(tools.get<std::string>());
    } catch (const ordered_json::exception& e) {
      cx.bad(field, "not valid JSON: " + parse_message(e));
    }
  }
  if (!tools.is_array()) cx.bad(field, "expected a list, got " + type_name(tools));
  ordered_json out = ordered_json::array();
  for (size_t k = 0; k < tools.size(); ++k) {
    const std::string f = field + "[" + std::to_string(k) + "]";
    const ordered_json& t = tools[k];
    if (!t.is_object()) cx.bad(f, "expected an object, got " + type_name(t));
    const bool nested = t.contains("function");
    const ordered_json& fn = nested ? t["function"] : t;
    if (!fn.is_object()) cx.bad(f + ".function", "expected an object, got " + type_name(fn));
    const std::string ff = nested ? f + ".function" : f;
    if (get_string(cx, fn, "name", ff + ".name").empty()) cx.bad(ff + ".name", "empty");
    if (fn.contains("parameters") && !fn["parameters"].is_object() && !fn["parameters"].is_null())
      cx.bad(ff + ".parameters", "expected a JSON Schema object, got " + type_name(fn["parameters"]));
    out.push_back(nested ? t : ordered_json{{"type", "function"}, {"function", t}});
  }
  return out.empty() ? ordered_json() : out;
}

// ShareGPT turns -> messages. function_call turns become assistant tool calls (consecutive ones
// share one message); observation / function / tool turns become tool results.
ordered_json sharegpt_to_messages(const RowContext& cx, const ordered_json& row) {
  const ordered_json& conv = row["conversations"];
  if (!conv.is_array()) cx.bad("conversations", "expected a list, got " + type_name(conv));
  ordered_json msgs = ordered_json::array();
  if (row.contains("system") && !row["system"].is_null())
    msgs.push_back({{"role", "system"}, {"content", get_string(cx, row, "system", "system")}});
  bool last_was_call = false;
  for (size_t i = 0; i < conv.size(); ++i) {
    const std::string f = "conversations[" + std::to_string(i) + "]";
    const ordered_json& t = conv[i];
    if (!t.is_object()) cx.bad(f, "expected an object, got " + type_name(t));
    const std::string& from = get_string(cx, t, "from", f + ".from");
    const std::string& value = get_string(cx, t, "value", f + ".value");
    std::string role;
    if (from == "human" || from == "user")
      role = "user";
    else if (from == "gpt" || from == "assistant" || from == "model")
      role = "assistant";
    else if (from == "system")
      role = "system";
    else if (from == "observation" || from == "function" || from == "tool")
      role = "tool";
    else if (from != "function_call")
      cx.bad(f + ".from",
             "expected one of human, gpt, system, function_call, observation, tool; got '" + from +
                 "'");
    if (from == "function_call") {
      ordered_json calls;
      try {
        calls = ordered_json::parse(value);
      } catch (const ordered_json::exception& e) {
        cx.bad(f + ".value", "a function_call must be JSON: " + parse_message(e));
      }
      if (calls.is_object()) calls = ordered_json::array({calls});
      if (!calls.is_array()) cx.bad(f + ".value", "expected a JSON object or list of them");
      if (!last_was_call)
        msgs.push_back(
            {{"role", "assistant"}, {"content", ""}, {"tool_calls", ordered_json::array()}});
      for (auto& c : calls) msgs.back()["tool_calls"].push_back(c);
      last_was_call = true;
      continue;
    }
    last_was_call = false;
    msgs.push_back({{"role", role}, {"content", value}});
  }
  return msgs;
}

// The row's own tool list; a "tools" key holding null or [] means none.
ordered_json row_tools(const RowContext& cx, const ordered_json& row) {
  return row.contains("tools") ? normalize_tools_value(cx, row["tools"], "tools") : ordered_json();
}

DatasetRow parse_row(const RowContext& cx, const ordered_json& row, int64_t line,
                     const ordered_json& dataset_tools) {
  if (!row.is_object()) fail(cx.where, ": expected a JSON object, got ", type_name(row));
  DatasetRow r;
  r.where = cx.where;
  r.line = line;
  if (row.contains("messages") || row.contains("conversations")) {
    r.kind = DatasetRow::Kind::kChat;
    if (row.contains("messages"))
      r.messages = normalize_messages(cx, row["messages"], "messages");
    else
      r.messages = normalize_messages(cx, sharegpt_to_messages(cx, row), "conversations");
    r.tools = row_tools(cx, row);
    r.own_tools = !r.tools.is_null();
    if (!r.own_tools) r.tools = dataset_tools;
    // A call must name an offered tool when tools are offered: a mismatch is a data bug that
    // would teach the model to call what does not exist.
    if (r.tools.is_array())
      for (size_t i = 0; i < r.messages.size(); ++i) {
        const ordered_json& m = r.messages[i];
        if (!m.contains("tool_calls")) continue;
        for (size_t k = 0; k < m["tool_calls"].size(); ++k) {
          const std::string& name = m["tool_calls"][k]["function"]["name"].get_ref<const std::string&>();
          const bool offered = std::any_of(r.tools.begin(), r.tools.end(), [&](const ordered_json& t) {
            return t["function"].value("name", "") == name;
          });
          if (!offered)
            cx.bad(str(row.contains("messages") ? "messages" : "conversations", "[", i,
                       "].tool_calls[", k, "].function.name"),
                   "calls '" + name + "', which is not among the row's tools");
        }
      }
  } else if (row.contains("prompt") || row.contains("completion")) {
    r.kind = DatasetRow::Kind::kPromptCompletion;
    r.prompt = get_string(cx, row, "prompt", "prompt");
    r.completion = get_string(cx, row, "completion", "completion");
  } else if (row.contains("text")) {
    r.kind = DatasetRow::Kind::kText;
    r.text = get_string(cx, row, "text", "text");
  } else {
    fail(cx.where,
         ": expected \"messages\", \"conversations\", \"prompt\"/\"completion\" or \"text\"; the "
         "row has none");
  }
  return r;
}

}  // namespace

std::vector<DatasetRow> read_dataset(const std::string& path, const DatasetReadOptions& opt,
                                     DatasetReadStats* stats_out) {
  const std::string text = read_file(path);
  const std::vector<RawRow> raws = read_rows(path, text);
  DatasetReadStats stats;
  std::vector<DatasetRow> out;
  for (const RawRow& raw : raws) {
    ++stats.rows;
    const RowContext cx{path + ":" + std::to_string(raw.line)};
    try {
      if (raw.parsed) {
        out.push_back(parse_row(cx, raw.value, raw.line, opt.tools));
      } else {
        ordered_json j;
        try {
          j = ordered_json::parse(raw.text);
        } catch (const ordered_json::parse_error& e) {
          fail(cx.where, ":", e.byte > 0 ? e.byte : 1, ": invalid JSON: ", parse_message(e));
        } catch (const ordered_json::exception& e) {
          fail(cx.where, ": invalid JSON: ", parse_message(e));
        }
        out.push_back(parse_row(cx, j, raw.line, opt.tools));
      }
    } catch (const Error& e) {
      if (!opt.skip_invalid) throw;
      ++stats.skipped_invalid;
      if (stats.first_errors.size() < kKeptErrors) stats.first_errors.push_back(e.what());
      continue;
    }
    const DatasetRow& r = out.back();
    ++stats.valid;
    if (r.kind == DatasetRow::Kind::kPromptCompletion) ++stats.prompt_completion;
    if (r.kind == DatasetRow::Kind::kText) ++stats.text;
    if (r.kind == DatasetRow::Kind::kChat) {
      ++stats.chat;
      if (r.own_tools) ++stats.own_tools;
      else if (!r.tools.is_null()) ++stats.dataset_tools;
    }
  }
  if (stats_out) *stats_out = stats;
  return out;
}

ordered_json normalize_chat_messages(const ordered_json& messages, const std::string& where) {
  return normalize_messages(RowContext{where}, messages, "messages");
}

ordered_json normalize_tool_list(const ordered_json& tools, const std::string& where) {
  return normalize_tools_value(RowContext{where}, tools, "tools");
}

ordered_json read_tools_file(const std::string& path) {
  const std::string text = read_file(path);
  ordered_json j;
  try {
    j = ordered_json::parse(text);
  } catch (const ordered_json::parse_error& e) {
    const auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
    fail(path, ":", line, ":", col, ": invalid JSON: ", parse_message(e));
  } catch (const ordered_json::exception& e) {
    fail(path, ": invalid JSON: ", parse_message(e));
  }
  const RowContext cx{path};
  if (j.is_object()) {
    if (!j.contains("tools")) cx.bad("tools", "expected a list of tools or an object with \"tools\"");
    return normalize_tools_value(cx, j["tools"], "tools");
  }
  ordered_json out = normalize_tools_value(cx, j, "tools");
  if (out.is_null()) fail(path, ": the file holds no tools");
  return out;
}

void row_error(const DatasetRow& row, const std::string& field, const std::string& message) {
  fail(row.where, ": ", field, ": ", message);
}

ordered_json row_to_json(const DatasetRow& row) {
  ordered_json j = ordered_json::object();
  switch (row.kind) {
    case DatasetRow::Kind::kPromptCompletion:
      j["prompt"] = row.prompt;
      j["completion"] = row.completion;
      break;
    case DatasetRow::Kind::kText:
      j["text"] = row.text;
      break;
    case DatasetRow::Kind::kChat:
      j["messages"] = row.messages;
      if (!row.tools.is_null()) j["tools"] = row.tools;
      break;
  }
  return j;
}

}  // namespace tsft
