// A procedural, seeded space of function schemas (domains x entities x verbs x naming styles x
// typed parameters) and requests that state a call's arguments in natural, paraphrased English.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/gen_schema_pools.h"
#include "data/gen_tools.h"

namespace tsft {

// "Today" and the user's UTC offset, against which relative dates resolve.
struct DateContext {
  int64_t today = 0;  // days since 1970-01-01
  int tz_minutes = 60;
  // "Today is 2026-03-14 (Saturday). The user's time zone is UTC+01:00."
  std::string system_message() const;
};
DateContext draw_date_context(Rng& rng);
std::string iso_date(int64_t days);  // "2026-03-14"
int64_t days_from_civil(int y, int m, int d);

struct ParamSpec {
  std::string key;
  const ParamDef* def = nullptr;  // null for the entity's ID parameter
  ValueKind kind = ValueKind::kCode;
  nlohmann::ordered_json schema;
  bool required = false;
  // kCode only: the ID's shape, '#' a digit, '@' an upper-case letter, anything else literal
  // ("INV-#####", "@@ ## ###"); the schema's pattern, when it has one, is built from it.
  std::string id_shape;
};

struct FunctionSpec {
  std::string name;
  const DomainDef* domain = nullptr;
  const VerbDef* verb = nullptr;
  std::string entity;  // "expense claim"
  std::vector<ParamSpec> params;
  nlohmann::ordered_json tool;  // {"type": "function", "function": {name, description, parameters}}
  const nlohmann::ordered_json& parameters() const { return tool["function"]["parameters"]; }
};

// A function from a random domain (or domain `domain`, an index into domain_defs()), with a
// verb, entity, naming style and parameters drawn from it. Never a reserved name (see
// is_reserved_name); its parameters always pass check_schema.
FunctionSpec synth_function(Rng& rng, int domain = -1);

// True for names that collide with a hand-written evaluation function: equal after lowercasing
// and dropping non-alphanumerics ("book_hotel" ~ "bookHotel"), whole or after the namespace.
bool is_reserved_name(const std::string& name);

// A request for `fn` and the call's arguments. Required arguments are always stated, optional
// ones about half the time, except `omit` (a key) which the request leaves out. `dated` says
// whether a date was stated (relative or not), so the row carries the "Today is ..." message.
struct FunctionRequest {
  std::vector<TextPiece> pieces;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
  bool dated = false;
};
FunctionRequest make_function_request(const FunctionSpec& fn, const DateContext& ctx, Rng& rng,
                                      const std::string& omit = "");

// The parameter's name in words, for answers: "due_date" -> "due date".
std::string key_words(const std::string& key);
// "leads", "boxes", "entries".
std::string plural(const std::string& noun);

}  // namespace tsft
