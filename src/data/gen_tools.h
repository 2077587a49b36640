// Tools as the synthetic data generators see them: loaded from an OpenAI tools file (or the
// built-in six), with request templates, and turned into request texts with their arguments.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/rng.h"

namespace tsft {

// One piece of a request template: literal text, or a slot "{param}" / "{obj.field}" that a drawn
// value fills, or "{param=JSON}" that sets the argument to JSON: a fixed string is shown as the
// value ("from {source_language=\"English\"} to"), any other fixed value adds no text and the
// words around it say it ("mark it as urgent{urgent=true}").
//
// Word problems name their numbers in the sentence and build the argument from them:
// "{#a:100-900}" is a number local to the template, drawn in [100, 900] (decimals when a bound
// has them: "{#g:5.0-25.0}"; "{#a}" alone is 2-999) and shown; a second "{#a}" shows the same
// number. "{expression~\"#d / #h\"}" sets the argument to that string with each #name replaced by
// its number, and shows nothing: "A train covers {#d:120-950} km in {#h:1.5-9.5} hours. What is
// its average speed?{expression~\"#d / #h\"}".
struct TemplatePart {
  std::string text;               // literal text (slot and number empty)
  std::vector<std::string> slot;  // the argument's path: {"coordinates", "lat"}
  bool fixed = false;
  nlohmann::ordered_json value;  // the fixed value
  std::string derived;           // a derived slot's formula ("#d / #h"); empty otherwise
  std::string number;            // a local number's name ("a"); empty otherwise
  double lo = 0, hi = 0;         // its bounds
  int decimals = 0;              // its decimal places
};

struct RequestTemplate {
  std::vector<TemplatePart> parts;
};

struct GenTool {
  std::string name;
  std::string phrase;           // what it does, as a verb phrase: "get the weather for a city"
  nlohmann::ordered_json tool;  // {"type": "function", "function": {...}} without x-toolsft keys
  nlohmann::ordered_json parameters;           // the function's parameters (an object schema)
  std::vector<RequestTemplate> examples;       // "x-toolsft-examples": ordinary requests
  std::vector<RequestTemplate> hard_examples;  // "x-toolsft-hard-examples": misleading words
};

// Reads a JSON list of tools (OpenAI {"type": "function", "function": {...}} or bare function
// objects), or {"tools": [...]}. Each function may carry "x-toolsft-examples" (and
// "x-toolsft-hard-examples"): request templates with {param} slots. Every problem is a
// tsft::Error naming `where` (the file) and the field: bad tool layout, a parameters schema
// check_schema rejects, a duplicate name, a slot naming no parameter, or a template whose
// arguments would not validate (say a required parameter without a slot).
std::vector<GenTool> parse_gen_tools(const nlohmann::ordered_json& doc, const std::string& where);
std::vector<GenTool> load_gen_tools(const std::string& path);

// The six built-in tools (calculator, get_weather, set_reminder, search_web, translate_text,
// send_email); the same text as configs/tools/default_tools.json.
const std::vector<GenTool>& builtin_gen_tools();
const char* builtin_tools_json();

// Request text in pieces: values stay apart so noise never changes an argument.
struct TextPiece {
  std::string text;
  bool value = false;
};

struct GenRequest {
  std::vector<TextPiece> pieces;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
};

// A request for `tool`: from one of its templates (hard = from its hard examples, when it has
// any), or, for a tool without templates, from its description and parameters ("Please get the
// weather for a city: city Oslo, unit celsius."). The arguments validate against the schema.
// selection_only: only the choice of tool will be used, so half the dates and times may read as
// people say them ("next Friday", "at 7 pm") though the arguments cannot be read back from them.
GenRequest make_request(const GenTool& tool, Rng& rng, bool hard = false,
                        bool selection_only = false);

// What a person calls a parameter: its description when that is a short noun phrase ("The
// total bill amount" -> "total bill amount"), else its name in words ("bill_amount" -> "bill
// amount").
std::string field_words(const std::string& key, const nlohmann::ordered_json& schema);

// Argument values as a request lists them, values kept apart from the words around them:
// kColon "city: Oslo, unit: celsius"; kSpace "city Oslo and unit celsius"; kTheIs "The city is
// Oslo and the unit is celsius"; kUseFor "Use Oslo for the city and celsius for the unit".
enum class ValueListForm { kColon, kSpace, kTheIs, kUseFor };
std::vector<TextPiece> said_values(const nlohmann::ordered_json& args,
                                   const nlohmann::ordered_json& params, ValueListForm form,
                                   Rng& rng);

// Politeness and context around a request: "Hey, ", " Thanks!", "Quick question: ".
void add_framing(GenRequest& req, Rng& rng);

// Per-request chances of each kind of noise; each is applied independently.
struct NoiseOptions {
  double lowercase = 0.12;  // everything lower case
  double no_punct = 0.12;   // . , ! ? ; : ' removed
  double typos = 0.15;      // one or two dropped / doubled / swapped letters in longer words
};

// The text, noised. Values (slot fills) are only lowercased, and only when values_too: a request
// for a tool call must still hold its arguments verbatim.
std::string noisy_text(const std::vector<TextPiece>& pieces, const NoiseOptions& noise, Rng& rng,
                       bool values_too);
std::string plain_text(const std::vector<TextPiece>& pieces);

// Removes every "x-toolsft-*" key, at any depth.
nlohmann::ordered_json strip_toolsft_keys(const nlohmann::ordered_json& j);

}  // namespace tsft
