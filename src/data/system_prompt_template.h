// A domain's system prompt template for the tool-calling recipe: a header, then sections that
// each start with a "## " line, with {{date}}, {{time}}, {{weekday}} and {{datetime}} filled in.
// Each generated row gets its own date/time and its own section order, both derived from the
// seed and the row index (the same seed gives the same prompts), so a model fine-tuned on them
// learns the domain and not one fixed wording of its prompt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tsft {

struct PromptClock {
  int year = 2026, month = 1, day = 1;  // a valid Gregorian date
  int hour = 9, minute = 0;
};

// "2026-03-14", "09:05", "Saturday" (the proleptic Gregorian weekday).
std::string format_date(const PromptClock& c);
std::string format_time(const PromptClock& c);
std::string weekday_name(const PromptClock& c);

class SystemPromptTemplate {
 public:
  // tsft::Error naming `where` for an empty template, an unknown {{placeholder}}, an unclosed
  // "{{", or two sections with the same heading.
  static SystemPromptTemplate parse(const std::string& text, const std::string& where);
  static SystemPromptTemplate load(const std::string& path);

  // The prompt of row `index`: header first, sections in a per-row shuffled order, and the
  // placeholders filled from a per-row date in 2025-2027 between 08:00 and 19:59.
  std::string render(uint64_t seed, int64_t index) const;
  // The same with a given clock and section order (indices into sections()).
  std::string render(const PromptClock& clock, const std::vector<size_t>& order) const;
  static PromptClock clock_for(uint64_t seed, int64_t index);

  const std::string& header() const { return header_; }
  const std::vector<std::string>& sections() const { return sections_; }

 private:
  std::string header_;                 // text before the first "## " line (may be "")
  std::vector<std::string> sections_;  // each from its "## " line to the next, trailing blank
                                       // lines trimmed
};

}  // namespace tsft
