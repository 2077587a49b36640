// The domain system prompt template of the tool-calling recipe: sections, placeholders, the
// per-row date/time and section order, and the errors for a bad template.
#include "data/system_prompt_template.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace tsft {
namespace {

using testing::error_of;

const char* kTemplate =
    "You are the assistant of Acme.\nToday is {{weekday}}, {{date}}, {{time}}.\n\n"
    "## Tools\nUse the tools.\n\n## Tone\nBe brief.\n\n\n## Hours\nOpen {{ date }} 9-17.\n";

TEST(SystemPromptTemplate, SplitsHeaderAndSections) {
  const SystemPromptTemplate t = SystemPromptTemplate::parse(kTemplate, "t.md");
  EXPECT_EQ(t.header(), "You are the assistant of Acme.\nToday is {{weekday}}, {{date}}, {{time}}.");
  ASSERT_EQ(t.sections().size(), 3u);
  EXPECT_EQ(t.sections()[0], "## Tools\nUse the tools.");
  EXPECT_EQ(t.sections()[1], "## Tone\nBe brief.");  // blank lines after a section trimmed
  EXPECT_EQ(t.sections()[2], "## Hours\nOpen {{ date }} 9-17.");
}

TEST(SystemPromptTemplate, RendersGivenClockAndOrder) {
  const SystemPromptTemplate t = SystemPromptTemplate::parse(kTemplate, "t.md");
  PromptClock c;
  c.year = 2026, c.month = 11, c.day = 21, c.hour = 8, c.minute = 5;
  EXPECT_EQ(t.render(c, {2, 0, 1}),
            "You are the assistant of Acme.\nToday is Saturday, 2026-11-21, 08:05.\n\n"
            "## Hours\nOpen 2026-11-21 9-17.\n\n## Tools\nUse the tools.\n\n## Tone\nBe brief.");
}

TEST(SystemPromptTemplate, WeekdaysOfKnownDates) {
  auto wd = [](int y, int m, int d) {
    PromptClock c;
    c.year = y, c.month = m, c.day = d;
    return weekday_name(c);
  };
  EXPECT_EQ(wd(2024, 2, 29), "Thursday");
  EXPECT_EQ(wd(2025, 1, 1), "Wednesday");
  EXPECT_EQ(wd(2000, 3, 1), "Wednesday");
  EXPECT_EQ(wd(2027, 12, 31), "Friday");
}

TEST(SystemPromptTemplate, PerRowRenderIsDeterministicAndVaried) {
  const SystemPromptTemplate t = SystemPromptTemplate::parse(kTemplate, "t.md");
  std::set<std::string> prompts, orders;
  for (int64_t i = 0; i < 60; ++i) {
    const std::string p = t.render(7, i);
    EXPECT_EQ(p, t.render(7, i));  // same seed and row: same text
    prompts.insert(p);
    std::string order;  // the headings' first letters, in the order they appear
    for (size_t at = p.find("\n## "); at != std::string::npos; at = p.find("\n## ", at + 1))
      order += p.substr(at + 4, 3);
    orders.insert(order);
    EXPECT_EQ(p.rfind("You are the assistant of Acme.\n", 0), 0u);  // header stays first
    for (const char* s : {"## Tools\nUse the tools.", "## Tone\nBe brief.", "## Hours"})
      EXPECT_NE(p.find(s), std::string::npos) << p;
    EXPECT_EQ(p.find("{{"), std::string::npos);
    const PromptClock c = SystemPromptTemplate::clock_for(7, i);
    EXPECT_GE(c.year, 2025);
    EXPECT_LE(c.year, 2027);
    EXPECT_GE(c.hour, 8);
    EXPECT_LE(c.hour, 19);
  }
  EXPECT_EQ(orders.size(), 3u * 2u * 1u) << "all 6 section orders should occur in 60 rows";
  EXPECT_GE(prompts.size(), 55u);
  EXPECT_NE(t.render(7, 0), t.render(8, 0));
}

TEST(SystemPromptTemplate, Errors) {
  EXPECT_NE(error_of([] { SystemPromptTemplate::parse("\n\n", "p.md"); }).find("p.md: the system prompt template is empty"),
            std::string::npos);
  EXPECT_NE(error_of([] { SystemPromptTemplate::parse("a\n{{today}}", "p.md"); })
                .find("p.md:2: unknown placeholder {{today}}"),
            std::string::npos);
  EXPECT_NE(error_of([] { SystemPromptTemplate::parse("a {{date", "p.md"); }).find("p.md:1: '{{' is never closed"),
            std::string::npos);
  EXPECT_NE(error_of([] { SystemPromptTemplate::parse("## A\nx\n## A\ny", "p.md"); })
                .find("p.md:3: section '## A' appears twice"),
            std::string::npos);
  EXPECT_NE(error_of([] { SystemPromptTemplate::load("/nonexistent/p.md"); }).find("cannot read"),
            std::string::npos);
}

}  // namespace
}  // namespace tsft
