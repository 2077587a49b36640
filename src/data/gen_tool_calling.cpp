// Tool-calling chats: the kind of each row (exact shares, shuffled), the offered tools, the calls
// with schema-valid arguments, tool results and final answers for the built-in tools.
#include "data/gen_tool_calling.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "chat/json_schema.h"
#include "core/error.h"
#include "data/gen_values.h"

namespace tsft {

using nlohmann::ordered_json;

const char* call_kind_name(CallKind kind) {
  switch (kind) {
    case CallKind::kSingle:
      return "single";
    case CallKind::kDistractors:
      return "distractors";
    case CallKind::kNoCall:
      return "no_call";
    case CallKind::kParallel:
      return "parallel";
    case CallKind::kMultiTurn:
      return "multi_turn";
    case CallKind::kAskFirst:
      return "ask_first";
    case CallKind::kFollowUp:
      return "follow_up";
  }
  return "?";
}

std::vector<int64_t> counts_from_shares(const double* shares, int kinds, int64_t n,
                                        const char* (*kind_name)(int),
                                        const char* all_kinds) {
  double sum = 0;
  for (int k = 0; k < kinds; ++k) {
    if (!(shares[k] >= 0 && shares[k] <= 1))
      fail("the share of ", kind_name(k), " rows must be in [0, 1], got ", shares[k]);
    sum += shares[k];
  }
  if (std::fabs(sum - 1.0) > 1e-6)
    fail("the shares of ", all_kinds, " rows must sum to 1, got ", sum);
  std::vector<int64_t> counts(static_cast<size_t>(kinds));
  std::vector<std::pair<double, int>> rest;  // (fractional part, kind)
  int64_t given = 0;
  for (int k = 0; k < kinds; ++k) {
    const double exact = shares[k] * static_cast<double>(n);
    counts[k] = static_cast<int64_t>(std::floor(exact + 1e-9));
    given += counts[k];
    rest.push_back({exact - static_cast<double>(counts[k]), k});
  }
  // Largest remainders first; ties go to the earlier kind, so the counts are one fixed answer.
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; given < n; ++i, ++given) ++counts[rest[i % rest.size()].second];
  return counts;
}

std::vector<int64_t> call_kind_counts(const double* shares, int64_t n) {
  return counts_from_shares(
      shares, kCallKinds, n, [](int k) { return call_kind_name(static_cast<CallKind>(k)); },
      "single, distractors, no-call, parallel, multi-turn, ask-first and follow-up");
}

namespace {

// Questions no offered tool should answer, with short answers.
const std::pair<const char*, const char*> kChat[] = {
    {"Hi there!", "Hello! How can I help you today?"},
    {"Thanks, that's all for now.", "You're welcome! Have a great day."},
    {"What's the capital of Canada?", "The capital of Canada is Ottawa."},
    {"Who wrote Pride and Prejudice?", "Pride and Prejudice was written by Jane Austen."},
    {"Can you tell me a joke?",
     "Why don't scientists trust atoms? Because they make up everything."},
    {"What does HTML stand for?", "HTML stands for HyperText Markup Language."},
    {"How many continents are there?", "There are seven continents."},
    {"What's a good name for a goldfish?", "How about Bubbles, Finn or Goldie?"},
    {"Give me a synonym for happy.", "Cheerful, joyful or content all work."},
    {"What is photosynthesis?",
     "Photosynthesis is how plants use sunlight, water and carbon dioxide to make sugar and "
     "oxygen."},
    {"How are you today?", "I'm doing well, thanks for asking! What can I do for you?"},
    {"Who painted the Mona Lisa?", "The Mona Lisa was painted by Leonardo da Vinci."},
    {"What's the largest planet in our solar system?", "Jupiter is the largest planet."},
    {"Suggest a title for my blog about gardening.", "How about \"Roots and Shoots\"?"},
    {"What is the boiling point of water at sea level?",
     "Water boils at 100 degrees Celsius (212 degrees Fahrenheit) at sea level."},
    {"Can you explain what a noun is?",
     "A noun is a word that names a person, place, thing or idea."},
    {"What's your name?", "I'm your assistant. How can I help?"},
    {"Write a haiku about autumn.",
     "Crisp leaves drift and fall,\ngolden light on quiet paths,\nthe year breathes out slow."},
    {"Is a tomato a fruit or a vegetable?",
     "Botanically a tomato is a fruit, though it is cooked like a vegetable."},
    {"What's the opposite of generous?", "The opposite of generous is stingy or selfish."},
    {"How many legs does a spider have?", "A spider has eight legs."},
    {"Recommend a classic movie.", "Casablanca (1942) is a great classic to start with."},
    {"What language is spoken in Brazil?", "Portuguese is the official language of Brazil."},
    {"Good night!", "Good night, sleep well!"},
    {"What is the speed of light?", "About 299,792 kilometres per second in a vacuum."},
    {"Who was the first person on the Moon?", "Neil Armstrong, in July 1969."},
    {"Can you help me name my startup? It makes eco-friendly shoes.",
     "Some ideas: Greenstep, Terra Sole or Leafwalk."},
    {"What does a verb do in a sentence?", "A verb describes an action, state or occurrence."},
    {"How many days are in a leap year?", "A leap year has 366 days."},
    {"Tell me something interesting.", "Octopuses have three hearts and blue blood."},
};

std::string call_id(Rng& rng) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "call_";
  for (int i = 0; i < 9; ++i) id += kChars[pick(rng, 36)];
  return id;
}

std::string with_decimals(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "a, b and c" for a list; a single value (a user's schema may give "to" as one string) as is.
std::string join_and(const ordered_json& list) {
  if (!list.is_array()) return list.is_string() ? list.get<std::string>() : list.dump();
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += (i + 1 == list.size()) ? " and " : ", ";
    out += list[i].is_string() ? list[i].get<std::string>() : list[i].dump();
  }
  return out;
}

struct Outcome {
  ordered_json result;  // what the tool returned (sent as JSON text in the tool turn)
  std::string answer;   // the assistant's reply that uses it
};

// Results and answers for the built-in tools (matched by name and the arguments they use);
// any other tool gets a generic success. A user's tool may share a built-in name with other
// argument types (glaive's send_email has one "to" string), so every argument is read by type.
Outcome outcome_of(const GenTool& tool, const ordered_json& args, Rng& rng) {
  auto s = [&](const char* k) {
    return args.contains(k) && args[k].is_string() ? args[k].get<std::string>() : std::string();
  };
  auto integer = [&](const char* k) -> std::optional<int64_t> {
    if (!args.contains(k) || !args[k].is_number_integer()) return std::nullopt;
    return args[k].get<int64_t>();
  };
  const std::string& name = tool.name;
  if (name == "calculator" && args.contains("expression")) {
    if (auto v = eval_arithmetic(s("expression"))) {
      const std::optional<int64_t> digits = integer("precision");
      const int precision =
          digits && *digits >= 0 && *digits <= 12 ? static_cast<int>(*digits) : -1;
      const std::string text = precision >= 0 ? with_decimals(*v, precision) : format_number(*v, 4);
      const double shown = std::stod(text);
      static const char* kForms[] = {"{e} = {v}.", "The answer is {v}.", "That comes to {v}.",
                                     "{e} equals {v}."};
      std::string a = kForms[pick(rng, 4)];
      a.replace(a.find("{v}"), 3, text);
      if (a.find("{e}") != std::string::npos) a.replace(a.find("{e}"), 3, s("expression"));
      const ordered_json result = std::floor(shown) == shown && std::fabs(shown) < 1e15
                                      ? ordered_json(static_cast<int64_t>(shown))
                                      : ordered_json(shown);
      return {{{"result", result}}, a};
    }
  }
  if (name == "get_weather" && args.contains("city")) {
    static const char* kConditions[] = {"sunny", "cloudy", "rainy",         "windy",
                                        "foggy", "snowy",  "partly cloudy", "stormy"};
    const bool f = s("unit") == "fahrenheit";
    const int celsius = -5 + static_cast<int>(pick(rng, 40));
    const int temp = f ? static_cast<int>(std::lround(celsius * 9.0 / 5.0 + 32)) : celsius;
    const std::string cond = kConditions[pick(rng, std::size(kConditions))];
    ordered_json r = {{"city", s("city")},
                      {"temperature", temp},
                      {"unit", f ? "fahrenheit" : "celsius"},
                      {"condition", cond}};
    std::string a =
        str("It's ", temp, f ? "°F" : "°C", " and ", cond, " in ", s("city"), " right now.");
    if (const std::optional<int64_t> days = integer("days")) {
      const int high = temp + 1 + static_cast<int>(pick(rng, 5));
      r["forecast_high"] = high;
      a += str(" Over the next ", *days, " days expect highs around ", high,
               f ? "°F." : "°C.");
    }
    return {r, a};
  }
  if (name == "set_reminder" && args.contains("task") && args.contains("date")) {
    const std::string id = str("rem_", 1000 + pick(rng, 9000));
    std::string when = s("date") + (args.contains("time") ? " at " + s("time") : "");
    return {{{"status", "scheduled"}, {"reminder_id", id}, {"date", s("date")}},
            str("Done! I'll remind you to ", s("task"), " on ", when, ".",
                args.contains("urgent") && args["urgent"] == true ? " It's marked as urgent." : "")};
  }
  if (name == "search_web" && args.contains("query")) {
    const std::string q = s("query");
    std::string slug;
    for (char c : q)
      slug += std::isalnum(static_cast<unsigned char>(c))
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                  : '-';
    static const char* kSites[] = {"en.wikipedia.org/wiki", "www.nytimes.com/topic",
                                   "www.bbc.com/news", "medium.com/tag", "www.reddit.com/r"};
    ordered_json results = ordered_json::array();
    const std::string titles[] = {"Everything you need to know about " + q, q + " explained",
                                  "A beginner's guide to " + q};
    const size_t n = 2 + pick(rng, 2);
    for (size_t i = 0; i < n; ++i)
      results.push_back(
          {{"title", titles[i]},
           {"url", str("https://", kSites[pick(rng, std::size(kSites))], "/", slug)}});
    return {{{"results", results}},
            str("Here's what I found on ", q, ": \"", results[0]["title"].get<std::string>(),
                "\" (", results[0]["url"].get<std::string>(), ") and \"",
                results[1]["title"].get<std::string>(), "\".")};
  }
  if (name == "translate_text" && args.contains("text") && args.contains("target_language")) {
    if (auto tr = known_translation(s("text"), s("target_language")))
      return {{{"translation", *tr}, {"language", s("target_language")}},
              str("In ", s("target_language"), " that is: \"", *tr, "\"")};
  }
  if (name == "send_email" && args.contains("to") && args.contains("subject")) {
    const std::string id = str("msg_", 10000 + pick(rng, 90000));
    const bool later = args.contains("send_at");
    return {{{"status", later ? "scheduled" : "sent"}, {"message_id", id}},
            str("Your email \"", s("subject"), "\" to ", join_and(args["to"]),
                later ? " is scheduled for " + s("send_at") : std::string(" has been sent"),
                " (message id ", id, ").")};
  }
  const std::string ref = str("res_", 1000 + pick(rng, 9000));
  return {{{"status", "success"}, {"reference", ref}},
          str("Done: ", tool.phrase, " went through (reference ", ref, ").")};
}

ordered_json make_call(const GenTool& tool, const ordered_json& args, Rng& rng) {
  const auto problems = validate_json(args, tool.parameters, "arguments");
  TSFT_CHECK(problems.empty(), tool.name, ": generated ", problems[0].path, ": ",
             problems[0].message);
  return {{"id", call_id(rng)},
          {"type", "function"},
          {"function", {{"name", tool.name}, {"arguments", args}}}};
}

// The offered tools: `must` plus up to `extra` others, shuffled.
ordered_json offered(const std::vector<GenTool>& tools, const std::vector<size_t>& must,
                     size_t extra, Rng& rng) {
  std::vector<size_t> pool;
  for (size_t i = 0; i < tools.size(); ++i)
    if (std::find(must.begin(), must.end(), i) == must.end()) pool.push_back(i);
  std::vector<size_t> chosen = must;
  for (size_t k = 0; k < extra && !pool.empty(); ++k) {
    const size_t j = pick(rng, pool.size());
    chosen.push_back(pool[j]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
  }
  for (size_t i = chosen.size(); i > 1; --i) std::swap(chosen[i - 1], chosen[pick(rng, i)]);
  ordered_json out = ordered_json::array();
  for (size_t i : chosen) out.push_back(tools[i].tool);
  return out;
}

ordered_json message(const char* role, const std::string& content) {
  return {{"role", role}, {"content", content}};
}

void lower_first(std::vector<TextPiece>& pieces) {
  if (pieces.empty() || pieces[0].value) return;
  std::string& t = pieces[0].text;
  if (t.size() > 1 && !std::isupper(static_cast<unsigned char>(t[1])) && t.rfind("I ", 0) != 0 &&
      t.rfind("I'", 0) != 0)
    t[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(t[0])));
}

std::vector<std::string> required_of(const GenTool& tool) {
  std::vector<std::string> out;
  if (tool.parameters.contains("required"))
    for (const auto& r : tool.parameters["required"])
      if (r.is_string()) out.push_back(r.get<std::string>());
  return out;
}

// An ask-first exchange for `tool` (which has required parameters): the request that names only
// the need, the assistant's question for the required values, and the user's answer; the
// arguments are what the answer gives.
struct AskFirst {
  std::vector<TextPiece> request, reply;
  std::string question;
  ordered_json arguments;
};

AskFirst ask_first(const GenTool& tool, Rng& rng) {
  AskFirst a;
  // draw_value returns arguments that validate against the whole schema (or throws).
  a.arguments = draw_value(tool.parameters, tool.name, rng, tool.name + " arguments");
  static const char* kNeed[] = {"I need to {p}.", "Can you help me {p}?", "I'd like to {p}.",
                                "Could you {p} for me?", "I want to {p}.",
                                "Is it possible to {p}?"};
  std::string need = kNeed[pick(rng, std::size(kNeed))];
  need.replace(need.find("{p}"), 3, tool.phrase);
  a.request = {{need, false}};
  const ordered_json& props = tool.parameters["properties"];
  std::vector<std::string> asked;
  for (const auto& k : required_of(tool))
    asked.push_back(field_words(k, props.contains(k) ? props[k] : ordered_json::object()));
  const bool one = asked.size() == 1;
  static const char* kAsk[] = {"Sure, I can help with that. Could you tell me {l}?",
                               "Of course! What {v} {l}?", "I'd be happy to help. Please give me {l}.",
                               "Sure. I just need {l}.",
                               "I can do that. Could you please provide {l}?"};
  a.question = kAsk[pick(rng, std::size(kAsk))];
  a.question.replace(a.question.find("{l}"), 3, "the " + join_and(ordered_json(asked)));
  if (const size_t v = a.question.find("{v}"); v != std::string::npos)
    a.question.replace(v, 3, one ? "is" : "are");
  if (one && a.arguments.size() == 1 && chance(rng, 0.5)) {
    const auto& [k, v] = *a.arguments.items().begin();
    static const char* kBare[] = {"", "It's ", "Sure, it's "};
    const char* pre = kBare[pick(rng, std::size(kBare))];
    if (*pre) a.reply.push_back({pre, false});
    a.reply.push_back({render_value(v, props.contains(k) ? props[k] : ordered_json::object(), rng),
                       true});
    if (*pre) a.reply.push_back({".", false});
    return a;
  }
  static const ValueListForm kForms[] = {ValueListForm::kTheIs, ValueListForm::kColon,
                                         ValueListForm::kUseFor};
  a.reply = said_values(a.arguments, tool.parameters, kForms[pick(rng, std::size(kForms))], rng);
  a.reply.push_back({".", false});
  return a;
}

// The tool turn and the answer that uses it, for a call just made.
void add_result(ordered_json& msgs, const GenTool& tool, const ordered_json& call,
                const ordered_json& args, Rng& rng) {
  const Outcome out = outcome_of(tool, args, rng);
  msgs.push_back({{"role", "tool"},
                  {"tool_call_id", call["id"]},
                  {"name", tool.name},
                  {"content", out.result.dump()}});
  msgs.push_back(message("assistant", out.answer));
}

}  // namespace

void generate_tool_calling(const std::vector<GenTool>& tools, const ToolCallingOptions& opt,
                           GenStats* stats, const RowSink& sink) {
  if (tools.empty()) fail("tool calling needs at least one tool");
  if (opt.n < 1) fail("--n must be at least 1, got ", opt.n);
  if (opt.max_offered < 1) fail("--max-tools must be at least 1, got ", opt.max_offered);
  const std::vector<int64_t> counts = call_kind_counts(opt.shares, opt.n);
  Rng rng(opt.seed);
  std::vector<CallKind> kinds;
  for (int k = 0; k < kCallKinds; ++k)
    kinds.insert(kinds.end(), static_cast<size_t>(counts[k]), static_cast<CallKind>(k));
  for (size_t i = kinds.size(); i > 1; --i) std::swap(kinds[i - 1], kinds[pick(rng, i)]);

  GenStats local;
  GenStats& st = stats ? *stats : local;
  st = GenStats{};
  std::set<std::string> seen;
  const size_t max_extra = static_cast<size_t>(opt.max_offered) - 1;
  // Tools an ask-first row can use: some required parameter to ask for, and arguments that can
  // be drawn from the schema alone (a templated tool may rely on its templates' fixed values for
  // a pattern no pool fits; such a tool is left out here rather than failing the run).
  std::vector<size_t> askable;
  if (counts[static_cast<int>(CallKind::kAskFirst)] > 0)
    for (size_t i = 0; i < tools.size(); ++i) {
      if (required_of(tools[i]).empty()) continue;
      try {
        Rng dry(i);
        (void)draw_value(tools[i].parameters, tools[i].name, dry, tools[i].name);
        askable.push_back(i);
      } catch (const Error&) {
      }
    }
  for (CallKind kind : kinds) {
    ordered_json msgs = ordered_json::array();
    ordered_json offer;
    if (kind == CallKind::kNoCall) {
      const auto& [q, a] = kChat[pick(rng, std::size(kChat))];
      offer = offered(tools, {}, 1 + pick(rng, std::min<size_t>(max_extra + 1, tools.size())), rng);
      std::vector<TextPiece> pieces = {{q, false}};
      msgs.push_back(message("user", noisy_text(pieces, opt.noise, rng, false)));
      msgs.push_back(message("assistant", a));
      ++st.per_class[call_kind_name(kind)];
      sink({{"messages", msgs}, {"tools", offer}});
      continue;  // a small pool: repeats here are expected and not counted as duplicates
    }
    if (kind == CallKind::kAskFirst) {
      if (askable.empty()) {
        kind = CallKind::kSingle;  // nothing to ask for: an ordinary call
      } else {
        const size_t t = askable[pick(rng, askable.size())];
        AskFirst a = ask_first(tools[t], rng);
        GenRequest framed{a.request, {}};
        add_framing(framed, rng);
        if (!seen.insert(plain_text(framed.pieces) + "\n" + plain_text(a.reply)).second)
          ++st.duplicates;
        msgs.push_back(message("user", noisy_text(framed.pieces, opt.noise, rng, false)));
        msgs.push_back(message("assistant", a.question));
        msgs.push_back(message("user", noisy_text(a.reply, opt.noise, rng, false)));
        const ordered_json call = make_call(tools[t], a.arguments, rng);
        msgs.push_back({{"role", "assistant"}, {"tool_calls", ordered_json::array({call})}});
        add_result(msgs, tools[t], call, a.arguments, rng);
        ++st.per_tool[tools[t].name];
        ++st.per_class[call_kind_name(kind)];
        sink({{"messages", msgs}, {"tools", offered(tools, {t}, pick(rng, opt.max_offered), rng)}});
        continue;
      }
    }
    const size_t first = pick(rng, tools.size());
    std::vector<size_t> used = {first};
    std::string text;
    std::vector<GenRequest> reqs;
    for (int attempt = 0;; ++attempt) {
      reqs.clear();
      reqs.push_back(make_request(tools[first], rng));
      std::vector<TextPiece> pieces = reqs[0].pieces;
      if (kind == CallKind::kParallel) {
        size_t second = first;
        if (tools.size() > 1) {
          second = pick(rng, tools.size() - 1);
          if (second >= first) ++second;
        }
        used = {first, second};
        reqs.push_back(make_request(tools[second], rng));
        std::vector<TextPiece> more = reqs[1].pieces;
        lower_first(more);
        static const char* kJoin[] = {" Also, ", " And ", " After that, ", " Then ", " Oh, and "};
        pieces.push_back({pick_from(rng, kJoin, std::size(kJoin)), false});
        pieces.insert(pieces.end(), more.begin(), more.end());
      }
      GenRequest framed{pieces, {}};
      add_framing(framed, rng);
      text = noisy_text(framed.pieces, opt.noise, rng, false);
      if (seen.insert(text).second) break;
      if (attempt >= 20) {
        ++st.duplicates;
        break;
      }
    }
    size_t extra = 0;
    if (kind == CallKind::kDistractors) extra = 1 + pick(rng, std::max<size_t>(max_extra, 1));
    if (used.size() == 2 && used[0] == used[1]) used.pop_back();
    // A follow-up's second request, to any tool (the same one again is common: "and for Paris?").
    size_t next = first;
    GenRequest follow;
    if (kind == CallKind::kFollowUp) {
      next = pick(rng, tools.size());
      follow = make_request(tools[next], rng);
      static const char* kThen[] = {"Thanks! ", "Great. ", "Perfect, thank you. ", "Okay. ",
                                    "Thanks. Now ", "Nice. One more thing: "};
      const std::string then = kThen[pick(rng, std::size(kThen))];
      if (then.back() == ' ' && then[then.size() - 2] != '.' && then[then.size() - 2] != '!')
        lower_first(follow.pieces);
      follow.pieces.insert(follow.pieces.begin(), {then, false});
      if (next != first) used.push_back(next);
    }
    if (kind == CallKind::kParallel || kind == CallKind::kMultiTurn ||
        kind == CallKind::kFollowUp)
      extra = pick(rng, max_extra + 2 - used.size());  // up to max_offered in all
    offer = offered(tools, used, extra, rng);
    msgs.push_back(message("user", text));
    ordered_json calls = ordered_json::array();
    for (size_t r = 0; r < reqs.size(); ++r) {
      const GenTool& t = tools[r == 0 ? first : used.back()];
      calls.push_back(make_call(t, reqs[r].arguments, rng));
      ++st.per_tool[t.name];
    }
    msgs.push_back({{"role", "assistant"}, {"tool_calls", calls}});
    if (kind == CallKind::kMultiTurn || kind == CallKind::kFollowUp)
      add_result(msgs, tools[first], calls[0], reqs[0].arguments, rng);
    if (kind == CallKind::kFollowUp) {
      msgs.push_back(message("user", noisy_text(follow.pieces, opt.noise, rng, false)));
      const ordered_json call = make_call(tools[next], follow.arguments, rng);
      msgs.push_back({{"role", "assistant"}, {"tool_calls", ordered_json::array({call})}});
      add_result(msgs, tools[next], call, follow.arguments, rng);
      ++st.per_tool[tools[next].name];
    }
    ++st.per_class[call_kind_name(kind)];
    sink({{"messages", msgs}, {"tools", offer}});
  }
}

std::vector<ordered_json> generate_tool_calling(const std::vector<GenTool>& tools,
                                                const ToolCallingOptions& opt, GenStats* stats) {
  std::vector<ordered_json> rows;
  generate_tool_calling(tools, opt, stats,
                        [&](ordered_json row) { rows.push_back(std::move(row)); });
  return rows;
}

}  // namespace tsft
