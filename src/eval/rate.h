// Rates that may be undefined: a ratio over an empty set is nullopt, and is written to JSON as
// null, never NaN. Shared by the eval files that compute and report rates.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

namespace tsft {

inline std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

inline nlohmann::ordered_json or_null(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace tsft
