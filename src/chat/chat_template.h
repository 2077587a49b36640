// The public chat-template API: parse a model's Jinja chat template once and render
// conversations (messages, tools, generation prompt) byte for byte as transformers does.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace tsft {

namespace jinja {
struct Template;
}

class ChatTemplate {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Parses `source`; a syntax error throws tsft::Error "name:line:col: message".
  ChatTemplate(std::string source, std::string name = "chat_template.jinja");
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with the variables transformers passes: messages, tools (null: none),
  // add_generation_prompt, plus every key of `extra` (bos_token, eos_token, enable_thinking, ...).
  // Thread-safe: rendering never mutates the template. Errors (including raise_exception)
  // throw tsft::Error naming the template, line and column.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     bool add_generation_prompt,
                     const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  // strftime_now() reads this clock (local time); tests fix it to get stable dates.
  void set_clock(Clock clock) { clock_ = std::move(clock); }
  const std::string& name() const { return name_; }

 private:
  std::string render_impl(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                          bool add_generation_prompt, const nlohmann::ordered_json& extra) const;

  std::string name_;
  std::unique_ptr<jinja::Template> tpl_;
  Clock clock_;
};

}  // namespace tsft
