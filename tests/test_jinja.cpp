// Unit tests of the Jinja interpreter: whitespace rules, expressions, filters, loops, macros,
// namespaces and error positions. Expected strings are what jinja2 3.1 prints with transformers'
// settings (trim_blocks, lstrip_blocks).
#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "core/error.h"

namespace {

using json = nlohmann::ordered_json;

std::string render(const std::string& src, const json& extra = json::object()) {
  return tsft::ChatTemplate(src, "t.jinja").render(json::array(), json(), false, extra);
}

std::string error_of(const std::string& src) {
  try {
    render(src);
  } catch (const tsft::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Jinja, Smoke) { EXPECT_EQ(render("a{{ 1 + 2 }}b"), "a3b"); }

TEST(Jinja, ErrorNamesLineAndColumn) { EXPECT_EQ(error_of("a\n  {% endfor %}"), "t.jinja:2:6: unexpected 'endfor'"); }

}  // namespace
