// The word tables behind the procedural schema space (gen_schema_space.h): domains with their
// entities and parameters, verbs with request frames, parameter kinds, enums with paraphrases.
#pragma once

#include <string>
#include <vector>

namespace tsft {

// What a parameter holds, which fixes its JSON Schema shape and how a request says its value.
enum class ValueKind {
  kQuoted,      // free text, quoted in the request: title, note, message
  kPerson,      // a name, copied
  kEmail,       // an address, copied
  kCity,        // a city, copied
  kAirport,     // IATA code (^[A-Z]{3}$), said as the city: "Lisbon" -> LIS
  kCurrency,    // ISO 4217 code, said by name: "Swiss francs" -> CHF
  kCountry,     // ISO 3166 alpha-2, said by name: "Japan" -> JP
  kLanguage,    // enum of ISO 639-1 codes, said by name: "in Dutch" -> nl
  kColor,       // ^#[0-9A-F]{6}$, said by name: "teal" -> #008080
  kCount,       // integer 2..max, said as "a dozen", "six", "14"
  kDuration,    // integer minutes, said as "an hour and a half" -> 90
  kAmount,      // number (or integer), said as "1,250", "2.5k", "three hundred"
  kPercent,     // 0..100, said as "a quarter" -> 25, "15 percent"
  kSmallInt,    // integer with bounds, said as digits or words: rating, floor, limit
  kDate,        // format date, future: "next Friday" against the "Today is ..." message
  kPastDate,    // format date, past: "last Tuesday", "3 days ago"
  kDateTime,    // format date-time with the user's offset: "tomorrow at half past two"
  kTime,        // ^([01][0-9]|2[0-3]):[0-5][0-9]$, said as "7pm", "quarter to nine"
  kBool,        // stated by a phrase for true or for false
  kEnum,        // values of an EnumPool, said by a paraphrase: "no rush" -> low
  kCode,        // an ID with a pattern, copied: "INV-4821"
  kStringList,  // array of strings from a word pool: "milk, eggs and flour"
  kWeekdays,    // array of day enums: "weekdays" -> monday..friday
  kLineItems,   // array of {name, quantity} objects: "two notebooks and a stapler"
  kAddress,     // object {street, city, postal_code?}
  kContact,     // object {name, email}
  kRange,       // object {min, max}: "between 200 and 450"
};

struct ParamDef {
  const char* id;           // unique key in the catalogue
  const char* names;        // "|"-separated word forms of the parameter name: "due date|deadline"
  const char* description;  // the schema's description
  ValueKind kind;
  const char* phrases;  // "|"-separated clauses with {v}; kBool: the true phrases (no {v})
  const char* pool;     // kEnum: enum pool id; kQuoted/kStringList: word pool id; kBool: false
                        // phrases; kCount: the counted noun ("people"); else ""
};

struct EnumValue {
  const char* value;  // the schema's value
  const char* says;   // "|"-separated ways a request says it
};

struct EnumPool {
  const char* id;
  std::vector<EnumValue> values;
};

struct VerbDef {
  const char* id;
  const char* names;   // "|"-separated verbs for function names: "create|add|register"
  const char* gloss;   // what it does, for descriptions and answers: "create"
  const char* frames;  // "|"-separated request frames: {ae} "a lead", {Ae} "A lead", {e} "lead",
                       // {es} "leads", {Es} "Leads", {args} the argument clauses
  bool needs_id;       // acts on an existing entity, so its ID is required
};

struct DomainDef {
  const char* ns;        // namespace word: "crm"
  const char* topic;     // "the CRM": for descriptions
  const char* entities;  // "|"-separated nouns
  const char* verbs;     // "|"-separated VerbDef ids that make sense here
  const char* params;    // "|"-separated ParamDef ids
  const char* near;      // a nearby domain's ns, for distractors
};

const std::vector<ParamDef>& param_defs();
const ParamDef& param_def(const std::string& id);  // TSFT_CHECKs that it exists
const std::vector<EnumPool>& enum_pools();
const EnumPool& enum_pool(const std::string& id);
const std::vector<VerbDef>& verb_defs();
const VerbDef& verb_def(const std::string& id);
const std::vector<DomainDef>& domain_defs();

// Word pools by id ("titles", "notes", "tags", ...); TSFT_CHECKs the id.
const std::vector<std::string>& word_pool(const std::string& id);

// {name, code} pairs: cities with one main airport, currencies, countries, languages, colours.
struct NamedCode {
  const char* name;
  const char* code;
};
const std::vector<NamedCode>& airports();
const std::vector<NamedCode>& currencies();
const std::vector<NamedCode>& countries();
const std::vector<NamedCode>& languages();
const std::vector<NamedCode>& colors();

// Items with plurals, for line items: {"notebook", "notebooks"}.
const std::vector<NamedCode>& countable_items();

// Chit-chat and general questions with short answers, for no-call rows.
const std::vector<NamedCode>& chit_chat();

// Names of the hand-written evaluation set's functions: never generated (see gen_schema_space).
const std::vector<std::string>& reserved_function_names();

// "a|b|c" -> {"a", "b", "c"}.
std::vector<std::string> split_bar(const char* s);

}  // namespace tsft
