// Argument values for the synthetic data generators: drawn from a JSON Schema (with word pools
// picked by the parameter's name), rendered as request text, and a small arithmetic evaluator.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/rng.h"

namespace tsft {

// Uniform index in [0, n) (n > 0) and a biased coin; the only draws the generators use, so one
// seed gives the same rows everywhere.
size_t pick(Rng& rng, size_t n);
bool chance(Rng& rng, double p);
template <typename T>
const T& pick_from(Rng& rng, const T* items, size_t n) {
  return items[pick(rng, n)];
}

// A value that satisfies `schema` (validate_json finds no problem), for the parameter called
// `name`: enum/const as given, x-toolsft-values or examples when the schema lists them, else a
// word pool chosen by the name (city, date, expression, email, query, ...) filtered through
// the schema's length/pattern/format, and numbers inside its bounds. Optional object properties
// are present about half the time. Throws tsft::Error naming `where` when no pool value fits
// (e.g. a pattern no pool matches: list some under "x-toolsft-values").
nlohmann::ordered_json draw_value(const nlohmann::ordered_json& schema, const std::string& name,
                                  Rng& rng, const std::string& where);

// How a value reads in a request: strings as written (dates sometimes as "March 14, 2026"),
// arrays as "a, b and c", booleans as yes/no, objects as "key value" pairs. The value itself
// stays recoverable from the text.
std::string render_value(const nlohmann::ordered_json& value, const nlohmann::ordered_json& schema,
                         Rng& rng);

// How a date or a time of day reads when only the choice of tool matters (tool selection):
// "tomorrow", "next Friday", "the 14th", "7 pm", "half past 6". The value cannot be read back
// from these, so requests whose arguments are used never get them.
struct LooseDate {
  std::string text;
  bool after_on = false;  // reads after "on" ("on Friday", "on the 14th"); else "on" is dropped
};
LooseDate loose_date(Rng& rng);
std::string loose_time(Rng& rng);

// "get_weather" -> "get weather", "maxResults" stays as is.
std::string name_words(const std::string& name);

// Evaluates + - * / ^, parentheses, unary minus and sqrt() as the expression pool writes them;
// nullopt for anything else or a division by zero.
std::optional<double> eval_arithmetic(const std::string& expr);

// The translation of one of the sentences the "text" pool draws, for the multi-turn rows' tool
// results; nullopt for other text or languages.
std::optional<std::string> known_translation(const std::string& text, const std::string& lang);

// A number as a person writes it: integers without ".0", others with up to `decimals` places and
// no trailing zeros.
std::string format_number(double v, int decimals);

}  // namespace tsft
