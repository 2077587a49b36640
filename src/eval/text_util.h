// Text helpers for the report renderers: number formats with "—" for missing values, UTF-8
// repair, HTML/XML escaping, and terminal display width so that Markdown tables line up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tsft {

extern const char kDash[];  // "—": a value that is null or cannot be computed

// Fixed decimals; nullopt -> "—"; never "-0.00" (reads as a sign error in a table).
std::string format_fixed(std::optional<double> v, int decimals);        // 3.4219, 2 -> "3.42"
std::string format_percent(std::optional<double> v, int decimals = 1);  // 0.9875 -> "98.8%"
std::string format_count(std::optional<double> v);                      // 51234 -> "51234"

// `s` with every invalid UTF-8 sequence and every control character that XML forbids (all below
// U+0020 except tab, newline, carriage return) replaced by U+FFFD. Report text comes from model
// outputs and datasets, so nothing can be assumed about it, and one stray byte would otherwise
// make the page's SVG ill-formed.
std::string clean_utf8(std::string_view s);

// Escapes & < > " ' for use in HTML/SVG text and attribute values (after clean_utf8), so the
// result is safe in both HTML and XML parsers: "<|im_start|>" -> "&lt;|im_start|&gt;".
std::string html_escape(std::string_view s);

// Columns UTF-8 text takes in a terminal: one per code point, two for East Asian wide characters
// and emoji, none for combining marks.
size_t display_width(std::string_view s);

// At most `max_width` columns of `s`: longer text is cut and ends with "…".
std::string truncate_display(std::string_view s, size_t max_width);

}  // namespace tsft
