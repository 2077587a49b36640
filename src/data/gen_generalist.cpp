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

}  // namespace

void generate_generalist(const GeneralistOptions& opt, GeneralistStats* stats,
                         const RowSink& sink) {
  if (opt.n < 1) fail("--n must be at least 1, got ", opt.n);
  if (opt.max_offered < 2) fail("--max-tools must be at least 2, got ", opt.max_offered);
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
  int64_t no_call_index = 0;
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
          std::vector<const ParamSpec*> req;
          for (const auto& p : f.params)
            if (p.required) req.push_back(&p);
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
          if (c > 0) {
            static const char* kJoin[] = {" Also, ",       " And ",     " Then ",
                                          " After that, ", " Oh, and ", " Plus, "};
            lower_first(r.pieces);
            pieces.push_back({pick_from(rng, kJoin, std::size(kJoin)), false});
          }
          pieces.insert(pieces.end(), r.pieces.begin(), r.pieces.end());
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
    ordered_json msgs = ordered_json::array();
    if (dated || chance(rng, opt.system_share))
      msgs.push_back({{"role", "system"}, {"content", ctx.system_message()}});
    msgs.push_back({{"role", "user"}, {"content", text}});
    msgs.push_back(assistant);
    std::vector<const FunctionSpec*> ptrs;
    for (const auto& f : offered) ptrs.push_back(&f);
    ++st.per_kind[general_kind_name(kind)];
    if (kind == GeneralKind::kNoCall) {
      ++st.per_no_call[kNoCallNames[no_call_index % std::size(kNoCallNames)]];
      ++no_call_index;
    }
    if (assistant.contains("tool_calls"))
      for (const auto& c : assistant["tool_calls"]) {
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
