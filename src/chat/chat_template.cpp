// ChatTemplate: the jinja2 environment transformers sets up (trim_blocks, lstrip_blocks,
// loopcontrols, its own tojson, raise_exception, strftime_now) around our interpreter.
#include "chat/chat_template.h"

#include <ctime>

#include "chat/jinja_eval.h"
#include "chat/jinja_parser.h"
#include "core/error.h"

namespace tsft {

ChatTemplate::ChatTemplate(std::string source, std::string name)
    : name_(std::move(name)), tpl_(jinja::parse_template(source, name_)) {}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& messages,
                                 const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                 const nlohmann::ordered_json& extra) const {
  using jinja::Value;
  try {
    return render_impl(messages, tools, add_generation_prompt, extra);
  } catch (const jinja::RuntimeError& e) {
    fail(name_, ": ", e.what());  // bad input values, before any template position applies
  }
}

std::string ChatTemplate::render_impl(const nlohmann::ordered_json& messages,
                                      const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                      const nlohmann::ordered_json& extra) const {
  using jinja::Value;
  auto vars = jinja::Dict::make();
  vars->set("messages", Value::from_json(messages));
  vars->set("tools", Value::from_json(tools));
  vars->set("documents", Value::none());
  vars->set("add_generation_prompt", Value(add_generation_prompt));
  vars->set("raise_exception", Value(jinja::Function([](jinja::CallArgs& a) -> Value {
              jinja::runtime_fail(a.get(0, "message", Value("")).str());
            })));
  Clock clock = clock_;
  vars->set("strftime_now", Value(jinja::Function([clock](jinja::CallArgs& a) -> Value {
              std::string fmt = a.get(0, "format", Value("")).str();
              std::time_t t = std::chrono::system_clock::to_time_t(
                  clock ? clock() : std::chrono::system_clock::now());
              std::tm tm{};
              localtime_r(&t, &tm);
              char buf[512];
              size_t n = fmt.empty() ? 0 : std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
              return Value(std::string(buf, n));
            })));
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) vars->set(it.key(), Value::from_json(it.value()));
  return jinja::render_template(*tpl_, vars);
}

}  // namespace tsft
