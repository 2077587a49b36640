#include "chat/tool_prompt.h"

#include "core/error.h"

namespace tsft {

using nlohmann::ordered_json;

std::string python_json(const ordered_json& x) {
  switch (x.type()) {
    case ordered_json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = x.begin(); it != x.end(); ++it) {
        out += (first ? "" : ", ") + ordered_json(it.key()).dump(-1, ' ', false) + ": " +
               python_json(it.value());
        first = false;
      }
      return out + "}";
    }
    case ordered_json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < x.size(); ++i) out += (i ? ", " : "") + python_json(x[i]);
      return out + "]";
    }
    default:
      // Scalars: nlohmann writes strings (UTF-8 kept), numbers, true/false/null as Python does.
      return x.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  }
}

bool template_renders_tools(const ChatTemplate& tpl, const ordered_json& extra) {
  const std::string probe_name = "tsft_probe_tool_7f3a";
  const ordered_json tools = ordered_json::array(
      {{{"type", "function"},
        {"function",
         {{"name", probe_name},
          {"description", "probe"},
          {"parameters", {{"type", "object"}, {"properties", ordered_json::object()}}}}}}});
  const ordered_json messages = ordered_json::array({{{"role", "user"}, {"content", "hi"}}});
  try {
    return tpl.render(messages, tools, true, extra).find(probe_name) != std::string::npos;
  } catch (const Error&) {
    return false;  // a template that raises on tools does not render them
  }
}

namespace {

std::string tool_call_text(const ordered_json& call, size_t index) {
  const ordered_json& f = call.contains("function") ? call["function"] : call;
  if (!f.contains("name") || !f["name"].is_string())
    fail("tool call ", index, ": missing function name");
  ordered_json args = f.contains("arguments") ? f["arguments"] : ordered_json::object();
  if (args.is_string()) {
    try {
      args = ordered_json::parse(args.get<std::string>());
    } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range (1e309)
      fail("tool call ", index, " (", f["name"].get<std::string>(), "): arguments are not valid JSON: ", e.what());
    }
  }
  ordered_json obj = ordered_json::object();
  obj["name"] = f["name"];
  obj["arguments"] = args;
  return "<tool_call>\n" + python_json(obj) + "\n</tool_call>";
}

std::string content_text(const ordered_json& msg) {
  if (!msg.contains("content") || msg["content"].is_null()) return "";
  if (msg["content"].is_string()) return msg["content"].get<std::string>();
  return python_json(msg["content"]);
}

}  // namespace

ordered_json inject_tool_prompt(const ordered_json& messages, const ordered_json& tools,
                                const ToolPromptStyle& style) {
  ordered_json out = ordered_json::array();
  const bool have_tools = tools.is_array() && !tools.empty();
  if (have_tools) {
    std::string list;
    for (size_t i = 0; i < tools.size(); ++i) list += (i ? "\n" : "") + python_json(tools[i]);
    const std::string prompt = style.before_tools + list + style.after_tools;
    const bool has_system = !messages.empty() && messages[0].value("role", "") == "system";
    const std::string sys = has_system ? content_text(messages[0]) : style.default_system;
    out.push_back({{"role", "system"}, {"content", sys.empty() ? prompt : sys + "\n\n" + prompt}});
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ordered_json& m = messages[i];
    const std::string role = m.value("role", "");
    if (have_tools && i == 0 && role == "system") continue;  // merged above
    if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array() &&
        !m["tool_calls"].empty()) {
      std::string text = content_text(m);
      for (size_t k = 0; k < m["tool_calls"].size(); ++k)
        text += (text.empty() ? "" : "\n") + tool_call_text(m["tool_calls"][k], k);
      out.push_back({{"role", "assistant"}, {"content", text}});
    } else if (role == "tool") {
      // Consecutive tool results share one user turn, as Qwen's template renders them.
      const std::string block = "<tool_response>\n" + content_text(m) + "\n</tool_response>";
      const bool continues = i > 0 && messages[i - 1].value("role", "") == "tool";
      if (continues) {
        out.back()["content"] = out.back()["content"].get<std::string>() + "\n" + block;
      } else {
        out.push_back({{"role", "user"}, {"content", block}});
      }
    } else {
      out.push_back(m);
    }
  }
  return out;
}

}  // namespace tsft
