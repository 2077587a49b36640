// Generalist tool-calling rows: row kinds in exact shares, offered tools drawn from the schema
// space (distractors from the same or a nearby domain), and the assistant's calls or answer.
#include "data/gen_generalist.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "core/error.h"
#include "data/gen_schema_space.h"
#include "data/gen_tool_calling.h"
#include "data/gen_values.h"

namespace tsft {

using nlohmann::ordered_json;

const char* general_kind_name(GeneralKind kind) {
  switch (kind) {
    case GeneralKind::kSingle:
      return "single";
    case GeneralKind::kDistractors:
      return "distractors";
    case GeneralKind::kNoCall:
      return "no_call";
    case GeneralKind::kParallel:
      return "parallel";
  }
  return "?";
}

namespace {

std::vector<int64_t> kind_counts(const double* shares, int64_t n) {
  return counts_from_shares(
      shares, kGeneralKinds, n,
      [](int k) { return general_kind_name(static_cast<GeneralKind>(k)); },
      "single, distractors, no-call and parallel");
}

std::string call_id(Rng& rng) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "call_";
  for (int i = 0; i < 9; ++i) id += kChars[pick(rng, 36)];
  return id;
}

int domain_index(const std::string& ns) {
  const auto& d = domain_defs();
  for (size_t i = 0; i < d.size(); ++i)
    if (ns == d[i].ns) return static_cast<int>(i);
  TSFT_CHECK(false, "unknown domain ", ns);
  return 0;
}

// Two functions that do the same thing to the same kind of thing would make the right call
// ambiguous: offered functions differ in verb or entity, and in name.
bool clashes(const FunctionSpec& f, const std::vector<FunctionSpec>& set) {
  for (const auto& g : set)
    if (g.name == f.name || (g.verb == f.verb && g.entity == f.entity)) return true;
  return false;
}

// A function from `domain` (or its near neighbour) unlike all in `set`.
FunctionSpec distractor(int domain, const std::vector<FunctionSpec>& set, Rng& rng) {
  for (int tries = 0;; ++tries) {
    const int d = chance(rng, 0.6) ? domain : domain_index(domain_defs()[domain].near);
    FunctionSpec f = synth_function(rng, tries < 20 ? d : -1);
    if (!clashes(f, set)) return f;
  }
}

bool related(const DomainDef& a, const DomainDef& b) {
  if (&a == &b || a.near == std::string(b.ns) || b.near == std::string(a.ns)) return true;
  for (const auto& e : split_bar(a.entities))
    for (const auto& f : split_bar(b.entities))
      if (e == f) return true;
  return false;
}

ordered_json call_of(const FunctionSpec& f, const ordered_json& args, Rng& rng) {
  return {{"id", call_id(rng)},
          {"type", "function"},
          {"function", {{"name", f.name}, {"arguments", args}}}};
}

ordered_json tools_of(std::vector<const FunctionSpec*> fns, Rng& rng) {
  for (size_t i = fns.size(); i > 1; --i) std::swap(fns[i - 1], fns[pick(rng, i)]);
  ordered_json out = ordered_json::array();
  for (const auto* f : fns) out.push_back(f->tool);
  return out;
}

void lower_first(std::vector<TextPiece>& pieces) {
  if (pieces.empty() || pieces[0].value) return;
  std::string& t = pieces[0].text;
  if (t.size() > 1 && !std::isupper(static_cast<unsigned char>(t[1])) && t.rfind("I ", 0) != 0 &&
      t.rfind("I'", 0) != 0)
    t[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(t[0])));
}

// One more request's words after those of the request before it ("... Also, book ...").
void append_request(std::vector<TextPiece>& pieces, std::vector<TextPiece> more, Rng& rng) {
  if (!pieces.empty()) {
    static const char* kJoin[] = {" Also, ", " And ", " Then ", " After that, ", " Oh, and ",
                                  " Plus, "};
    lower_first(more);
    pieces.push_back({pick_from(rng, kJoin, std::size(kJoin)), false});
  }
  pieces.insert(pieces.end(), more.begin(), more.end());
}

std::string what_it_does(const FunctionSpec& f) {
  return str(f.verb->gloss, " ", plural(f.entity));
}

// "book hotels, look up flights or cancel bookings": what the offered functions do.
std::string what_they_do(const std::vector<FunctionSpec>& offered) {
  std::vector<std::string> can;
  for (const auto& f : offered) can.push_back(what_it_does(f));
  std::string list;
  for (size_t i = 0; i < can.size(); ++i)
    list += (i == 0 ? "" : i + 1 == can.size() ? " or " : ", ") + can[i];
  return list;
}

std::string unsupported_answer(const std::vector<FunctionSpec>& offered, Rng& rng) {
  const std::string list = what_they_do(offered);
  static const char* kForms[] = {
      "Sorry, I can't do that with the tools I have here. I can only {l}.",
      "That's not something I can help with here: the available tools only {l}.",
      "I'm afraid none of my tools can do that. I can {l}, if that helps.",
  };
  std::string a = kForms[pick(rng, std::size(kForms))];
  a.replace(a.find("{l}"), 3, list);
  return a;
}

// A general question about what a function works on ("How do I choose a good travel
// insurance policy?"): the offered tools fit its words, yet nothing is asked of them.
struct TopicQuestion {
  std::string request, answer;
};
TopicQuestion topic_question(const FunctionSpec& f, const std::vector<FunctionSpec>& offered,
                             Rng& rng) {
  static const char* kAsk[] = {
      "What exactly is a {e}?",
      "How do I choose a good {e}?",
      "Any tips for keeping track of {es}?",
      "Why would anyone need a {e}?",
      "Can you explain how {es} work?",
      "What should I know before I {g} a {e}?",
      "Do you think {es} are worth the trouble?",
      "Is it normal to have this many {es}?",
      "How often do people usually {g} a {e}?",
      "Honestly, what's the point of a {e}?",
  };
  static const char* kAnswer[] = {
      "That's a general question, so there's nothing to run here. It depends on what you need "
      "the {e} for. If you want me to act, I can {l}.",
      "Good question, but it isn't something my tools answer: they {l}. Tell me if you'd like "
      "one of those.",
      "I can't look that up with these tools; they only {l}. Happy to do one of those if it "
      "helps.",
  };
  const std::string list = what_they_do(offered);
  TopicQuestion q{kAsk[pick(rng, std::size(kAsk))], kAnswer[pick(rng, std::size(kAnswer))]};
  for (std::string* t : {&q.request, &q.answer})
    for (auto [k, v] : {std::pair<std::string, std::string>{"{es}", plural(f.entity)},
                        {"{e}", f.entity},
                        {"{g}", f.verb->gloss},
                        {"{l}", list}})
      for (size_t at; (at = t->find(k)) != std::string::npos;) t->replace(at, k.size(), v);
  if (std::string("aeiou").find(f.entity[0]) != std::string::npos)  // "a invoice" -> "an invoice"
    for (std::string* t : {&q.request, &q.answer})
      for (size_t at; (at = t->find(" a " + f.entity)) != std::string::npos;)
        t->replace(at, 3, " an ");
  return q;
}

// The no-call rows' kinds, taken in turn (GeneralistStats::per_no_call counts them by name).
enum NoCallKind { kChat, kUnsupported, kMissingValue, kNearMiss, kTopicQuestion };
const char* const kNoCallNames[] = {"chat", "unsupported", "missing_value", "near_miss",
                                    "topic_question"};

// f's required parameters: the values a request can leave out for the assistant to ask for.
std::vector<const ParamSpec*> required_params(const FunctionSpec& f) {
  std::vector<const ParamSpec*> req;
  for (const auto& p : f.params)
    if (p.required) req.push_back(&p);
  return req;
}

std::string missing_answer(const FunctionSpec& f, const ParamSpec& p, Rng& rng) {
  if (p.def == nullptr)
    return str(chance(rng, 0.5) ? "Which " : "Sure, which ", f.entity,
               " do you mean? Please give me its ID.");
  const std::string w = key_words(p.key);
  static const char* kForms[] = {
      "Sure, I can {g} that {e}. What {w} should I use?",
      "Happy to {g} the {e}, but I need the {w} first. What should it be?",
      "I can do that. Could you tell me the {w}?",
      "Before I {g} it, what's the {w}?",
  };
  std::string a = kForms[pick(rng, std::size(kForms))];
  for (auto [k, v] :
       {std::pair<std::string, std::string>{"{g}", f.verb->gloss}, {"{e}", f.entity}, {"{w}", w}})
    for (size_t at; (at = a.find(k)) != std::string::npos;) a.replace(at, k.size(), v);
  return a;
}

// A request after the first in a row, over the same offered functions: its words, the
// assistant's message (calls or a plain answer) and whether it states a date.
struct Exchange {
  std::vector<TextPiece> pieces;
  ordered_json assistant = {{"role", "assistant"}};
  bool dated = false;
};

// Asks for f (leaving out the value of `omit`, if given); adds the call when `call`.
void ask_for(Exchange& x, const FunctionSpec& f, const DateContext& ctx, Rng& rng, bool call,
             const std::string& omit = "") {
  FunctionRequest r = make_function_request(f, ctx, rng, omit);
  x.dated = x.dated || r.dated;
  append_request(x.pieces, std::move(r.pieces), rng);
  if (call) {
    if (!x.assistant.contains("tool_calls")) x.assistant["tool_calls"] = ordered_json::array();
    x.assistant["tool_calls"].push_back(call_of(f, r.arguments, rng));
  }
}

Exchange follow_up(GeneralKind kind, NoCallKind sub, const std::vector<FunctionSpec>& offered,
                   const DateContext& ctx, Rng& rng) {
  Exchange x;
  if (kind != GeneralKind::kNoCall) {
    const int n_calls = kind != GeneralKind::kParallel ? 1 : chance(rng, 0.8) ? 2 : 3;
    for (int c = 0; c < n_calls; ++c) ask_for(x, offered[pick(rng, offered.size())], ctx, rng, true);
    return x;
  }
  std::vector<const FunctionSpec*> askable;  // functions with a required value to leave out
  for (const auto& f : offered)
    if (!required_params(f).empty()) askable.push_back(&f);
  if (sub == kMissingValue && !askable.empty()) {
    const FunctionSpec& f = *askable[pick(rng, askable.size())];
    const std::vector<const ParamSpec*> req = required_params(f);
    const ParamSpec& gone = *req[pick(rng, req.size())];
    ask_for(x, f, ctx, rng, false, gone.key);
    x.assistant["content"] = missing_answer(f, gone, rng);
  } else if (sub == kUnsupported || sub == kNearMiss) {
    // Unsupported: a function of a domain unrelated to every offered one. Near miss: one of the
    // first offered function's domain that no offered function does (other verb or entity).
    const int dom = domain_index(offered[0].domain->ns);
    for (int tries = 0;; ++tries) {
      const FunctionSpec wanted = synth_function(rng, sub == kNearMiss && tries < 40 ? dom : -1);
      const bool near = std::any_of(offered.begin(), offered.end(), [&](const FunctionSpec& f) {
        return related(*f.domain, *wanted.domain);
      });
      if (clashes(wanted, offered) || (sub == kUnsupported && near)) continue;
      ask_for(x, wanted, ctx, rng, false);
      break;
    }
    x.assistant["content"] = unsupported_answer(offered, rng);
  } else if (sub == kTopicQuestion) {
    const TopicQuestion q = topic_question(offered[pick(rng, offered.size())], offered, rng);
    x.pieces = {{q.request, false}};
    x.assistant["content"] = q.answer;
  } else {  // chit-chat, or a missing value where no offered function requires one
    const NamedCode& c = chit_chat()[pick(rng, chit_chat().size())];
    x.pieces = {{c.name, false}};
    x.assistant["content"] = c.code;
  }
  return x;
}

// The "tool" results of the calls in turns.back() and the assistant's short reply to them.
void add_results(ordered_json& turns, Rng& rng) {
  const ordered_json calls = turns.back()["tool_calls"];
  static const char* kResults[] = {R"({"status": "ok"})", R"({"success": true})",
                                   R"({"ok": true, "message": "done"})"};
  for (const auto& c : calls)
    turns.push_back({{"role", "tool"},
                     {"tool_call_id", c["id"]},
                     {"name", c["function"]["name"]},
                     {"content", pick_from(rng, kResults, std::size(kResults))}});
  static const char* kOne[] = {"Done.", "All set.", "That's done.", "Done. Anything else?"};
  static const char* kMany[] = {"All done.", "Those are done.", "Done, all of them."};
  turns.push_back({{"role", "assistant"},
                   {"content", calls.size() == 1 ? pick_from(rng, kOne, std::size(kOne))
                                                 : pick_from(rng, kMany, std::size(kMany))}});
}

// A row kind drawn with probabilities `shares` (summing to 1).
GeneralKind draw_kind(const double* shares, Rng& rng) {
  double left = 1;
  for (int k = 0; k + 1 < kGeneralKinds; ++k) {
    if (left > 0 && chance(rng, shares[k] / left)) return static_cast<GeneralKind>(k);
    left -= shares[k];
  }
  return static_cast<GeneralKind>(kGeneralKinds - 1);
}

}  // namespace

void generate_generalist(const GeneralistOptions& opt, GeneralistStats* stats,
                         const RowSink& sink) {
  if (opt.n < 1) fail("--n must be at least 1, got ", opt.n);
  if (opt.max_offered < 2) fail("--max-tools must be at least 2, got ", opt.max_offered);
  if (opt.requests < 1) fail("--requests must be at least 1, got ", opt.requests);
  const std::vector<int64_t> counts = kind_counts(opt.shares, opt.n);
  Rng rng(opt.seed);
  std::vector<GeneralKind> kinds;
  for (int k = 0; k < kGeneralKinds; ++k)
    kinds.insert(kinds.end(), static_cast<size_t>(counts[k]), static_cast<GeneralKind>(k));
  for (size_t i = kinds.size(); i > 1; --i) std::swap(kinds[i - 1], kinds[pick(rng, i)]);

  GeneralistStats local;
  GeneralistStats& st = stats ? *stats : local;
  st = GeneralistStats{};
  std::set<std::string> seen;
  const size_t max_extra = static_cast<size_t>(opt.max_offered) - 1;
  int64_t no_call_index = 0, follow_no_call = 0;
  for (const GeneralKind kind : kinds) {
    const DateContext ctx = draw_date_context(rng);
    std::vector<FunctionSpec> offered;
    ordered_json assistant;
    std::string text;
    bool dated = false;
    for (int attempt = 0;; ++attempt) {
      offered.clear();
      assistant = {{"role", "assistant"}};
      dated = false;
      std::vector<TextPiece> pieces;
      offered.push_back(synth_function(rng));
      const int dom = domain_index(offered[0].domain->ns);
      if (kind == GeneralKind::kNoCall) {
        const auto sub = static_cast<NoCallKind>(no_call_index % std::size(kNoCallNames));
        if (sub == kChat) {
          const NamedCode& c = chit_chat()[pick(rng, chit_chat().size())];
          pieces = {{c.name, false}};
          assistant["content"] = c.code;
          for (size_t k = pick(rng, max_extra); k > 0; --k)
            offered.push_back(distractor(dom, offered, rng));
        } else if (sub == kUnsupported) {
          // The request is for a function that is not offered; the offered ones are elsewhere.
          const FunctionSpec wanted = offered[0];
          offered.clear();
          while (offered.empty()) {
            FunctionSpec f = synth_function(rng);
            if (!related(*f.domain, *wanted.domain)) offered.push_back(std::move(f));
          }
          for (size_t k = pick(rng, max_extra); k > 0; --k)
            offered.push_back(distractor(domain_index(offered[0].domain->ns), offered, rng));
          const FunctionRequest r = make_function_request(wanted, ctx, rng);
          pieces = r.pieces;
          dated = r.dated;
          assistant["content"] = unsupported_answer(offered, rng);
        } else if (sub == kTopicQuestion) {
          // The function that fits the topic is offered; the request asks about it, not for it.
          for (size_t k = pick(rng, max_extra); k > 0; --k)
            offered.push_back(distractor(dom, offered, rng));
          const TopicQuestion q = topic_question(offered[0], offered, rng);
          pieces = {{q.request, false}};
          assistant["content"] = q.answer;
        } else if (sub == kNearMiss) {
          // A near miss: the offered functions are the wanted one's neighbours (same or nearby
          // domain, never its verb and entity), so the words of the request fit them, the
          // action does not. "Book a flight" with only a hotel booking offered.
          // The wanted function stays first in `offered` while the others are drawn, so none
          // clashes with it, and is taken out after.
          const FunctionSpec wanted = offered[0];
          // The nearest miss first: the same domain and the same verb or the same entity.
          for (int tries = 0; tries < 40 && offered.size() == 1; ++tries) {
            FunctionSpec f = synth_function(rng, dom);
            if (!clashes(f, offered) && (f.verb == wanted.verb || f.entity == wanted.entity))
              offered.push_back(std::move(f));
          }
          for (size_t k = (offered.size() == 1) + pick(rng, max_extra); k > 0; --k)
            offered.push_back(distractor(dom, offered, rng));
          offered.erase(offered.begin());
          const FunctionRequest r = make_function_request(wanted, ctx, rng);
          pieces = r.pieces;
          dated = r.dated;
          assistant["content"] = unsupported_answer(offered, rng);
        } else {
          const FunctionSpec& f = offered[0];
          const std::vector<const ParamSpec*> req = required_params(f);
          if (req.empty()) continue;  // nothing can be missing: draw another function
          const ParamSpec& gone = *req[pick(rng, req.size())];
          const FunctionRequest r = make_function_request(f, ctx, rng, gone.key);
          pieces = r.pieces;
          dated = r.dated;
          assistant["content"] = missing_answer(f, gone, rng);
          for (size_t k = pick(rng, 3); k > 0 && offered.size() <= max_extra; --k)
            offered.push_back(distractor(dom, offered, rng));
        }
      } else {
        size_t n_calls = 1;
        if (kind == GeneralKind::kParallel) {
          n_calls = chance(rng, 0.8) ? 2 : 3;
          while (offered.size() < n_calls && chance(rng, 0.6))
            offered.push_back(distractor(dom, offered, rng));
        }
        const size_t called = offered.size();
        ordered_json calls = ordered_json::array();
        for (size_t c = 0; c < n_calls; ++c) {
          const FunctionSpec& f = offered[c < called ? c : pick(rng, called)];
          FunctionRequest r = make_function_request(f, ctx, rng);
          dated = dated || r.dated;
          append_request(pieces, std::move(r.pieces), rng);
          calls.push_back(call_of(f, r.arguments, rng));
        }
        assistant["tool_calls"] = calls;
        size_t extra = 0;
        if (kind == GeneralKind::kDistractors) extra = 1 + pick(rng, max_extra);
        if (kind == GeneralKind::kParallel) extra = pick(rng, opt.max_offered - called + 1);
        for (size_t k = 0; k < extra && offered.size() < static_cast<size_t>(opt.max_offered); ++k)
          offered.push_back(distractor(dom, offered, rng));
      }
      GenRequest framed{pieces, {}};
      add_framing(framed, rng);
      text = noisy_text(framed.pieces, opt.noise, rng, false);
      if (seen.insert(text).second) break;
      if (attempt >= 10) {
        ++st.duplicates;
        break;
      }
    }
    ordered_json turns = ordered_json::array();
    turns.push_back({{"role", "user"}, {"content", text}});
    turns.push_back(assistant);
    const int64_t more = opt.requests > 1 ? static_cast<int64_t>(pick(rng, opt.requests)) : 0;
    for (int64_t m = 0; m < more; ++m) {
      if (turns.back().contains("tool_calls")) add_results(turns, rng);
      const GeneralKind k = draw_kind(opt.shares, rng);
      const auto sub = static_cast<NoCallKind>(follow_no_call % std::size(kNoCallNames));
      if (k == GeneralKind::kNoCall) ++follow_no_call;
      Exchange x = follow_up(k, sub, offered, ctx, rng);
      GenRequest framed{std::move(x.pieces), {}};
      add_framing(framed, rng);
      turns.push_back({{"role", "user"}, {"content", noisy_text(framed.pieces, opt.noise, rng,
                                                                 false)}});
      turns.push_back(std::move(x.assistant));
      dated = dated || x.dated;
    }
    ordered_json msgs = ordered_json::array();
    if (dated || chance(rng, opt.system_share))
      msgs.push_back({{"role", "system"}, {"content", ctx.system_message()}});
    for (auto& t : turns) msgs.push_back(std::move(t));
    st.requests += 1 + more;
    std::vector<const FunctionSpec*> ptrs;
    for (const auto& f : offered) ptrs.push_back(&f);
    ++st.per_kind[general_kind_name(kind)];
    if (kind == GeneralKind::kNoCall) {
      ++st.per_no_call[kNoCallNames[no_call_index % std::size(kNoCallNames)]];
      ++no_call_index;
    }
    for (const auto& m : msgs)
      if (m.contains("tool_calls"))
        for (const auto& c : m["tool_calls"]) {
          ++st.functions[c["function"]["name"].get<std::string>()];
          ++st.calls;
        }
    st.dated_rows += dated ? 1 : 0;
    sink({{"messages", msgs}, {"tools", tools_of(ptrs, rng)}});
  }
}

std::vector<ordered_json> generate_generalist(const GeneralistOptions& opt,
                                              GeneralistStats* stats) {
  std::vector<ordered_json> rows;
  generate_generalist(opt, stats, [&](ordered_json row) { rows.push_back(std::move(row)); });
  return rows;
}

}  // namespace tsft
