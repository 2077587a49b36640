// Tool-selection rows: a balanced, shuffled class list, one request per row with duplicate
// avoidance, and the hard-negative share drawn from misleading templates or prefixes.
#include "data/gen_tool_selection.h"

#include <cctype>
#include <set>

#include "core/error.h"
#include "data/gen_values.h"

namespace tsft {

using nlohmann::ordered_json;

namespace {

std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A request for `tool` that mentions another tool's business first. Tools with hand-written hard
// examples use those most of the time; every tool can use the generic prefixes.
GenRequest hard_request(const std::vector<GenTool>& tools, size_t target, Rng& rng) {
  const GenTool& tool = tools[target];
  if (!tool.hard_examples.empty() && (tools.size() < 2 || chance(rng, 0.6)))
    return make_request(tool, rng, /*hard=*/true);
  GenRequest req = make_request(tool, rng, /*hard=*/false, /*selection_only=*/true);
  if (tools.size() < 2) return req;
  size_t other = pick(rng, tools.size() - 1);
  if (other >= target) ++other;
  static const char* kLead[] = {"I don't need to ", "No need to ", "Forget about trying to ",
                                "I already know how to ", "Last time you helped me "};
  static const char* kTail[] = {" today. ", ". This time: ", " right now. Instead, ",
                                "; what I want is this. ", ", but now "};
  const size_t k = pick(rng, std::size(kLead));
  const std::string tail = kTail[k];
  if (!req.pieces.empty() && !req.pieces[0].value && tail.substr(tail.size() - 2) != ". ") {
    std::string& first = req.pieces[0].text;
    if (first.size() > 1 && !std::isupper(static_cast<unsigned char>(first[1])) &&
        first.rfind("I ", 0) != 0 && first.rfind("I'", 0) != 0)
      first[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(first[0])));
  }
  req.pieces.insert(req.pieces.begin(),
                    {std::string(kLead[k]) + tools[other].phrase + kTail[k], false});
  return req;
}

}  // namespace

std::string tool_selection_prompt(const std::vector<std::string>& tool_names,
                                  const std::string& request) {
  return "Choose the one tool that handles the request.\nTools: " + name_list(tool_names) +
         "\nRequest: " + request + "\nTool:";
}

std::string tool_selection_system(const std::vector<std::string>& tool_names) {
  return "Choose the one tool that handles the user's request. Tools: " + name_list(tool_names) +
         ". Answer with the tool's name only.";
}

std::string tool_selection_answer(const std::string& name, const std::string& sentinel, bool chat) {
  if (!sentinel.empty()) return sentinel + name;
  return chat ? name : " " + name;
}

void generate_tool_selection(const std::vector<GenTool>& tools, const ToolSelectionOptions& opt,
                             GenStats* stats, const RowSink& sink) {
  if (tools.empty()) fail("tool selection needs at least one tool");
  if (opt.n < 1) fail("--n must be at least 1, got ", opt.n);
  if (opt.hard_share < 0 || opt.hard_share > 1)
    fail("the hard-negative share must be in [0, 1], got ", opt.hard_share);
  Rng rng(opt.seed);
  std::vector<std::string> names;
  for (const auto& t : tools) names.push_back(t.name);

  std::vector<size_t> classes(static_cast<size_t>(opt.n));
  for (size_t i = 0; i < classes.size(); ++i) classes[i] = i % tools.size();
  for (size_t i = classes.size(); i > 1; --i) std::swap(classes[i - 1], classes[pick(rng, i)]);

  GenStats local;
  GenStats& st = stats ? *stats : local;
  st = GenStats{};
  std::set<std::string> seen;
  const bool chat = opt.format == ToolSelectionOptions::Format::kChat;
  for (size_t c : classes) {
    const bool hard = chance(rng, opt.hard_share);
    std::string text;
    for (int attempt = 0;; ++attempt) {
      GenRequest req = hard ? hard_request(tools, c, rng)
                            : make_request(tools[c], rng, /*hard=*/false, /*selection_only=*/true);
      add_framing(req, rng);
      text = noisy_text(req.pieces, opt.noise, rng, /*values_too=*/true);
      if (seen.insert(text).second) break;
      if (attempt >= opt.retries) {
        ++st.duplicates;
        break;
      }
    }
    const std::string answer = tool_selection_answer(names[c], opt.sentinel, chat);
    if (chat) {
      ordered_json msgs = ordered_json::array();
      msgs.push_back({{"role", "system"}, {"content", tool_selection_system(names)}});
      msgs.push_back({{"role", "user"}, {"content", text}});
      msgs.push_back({{"role", "assistant"}, {"content", answer}});
      sink({{"messages", msgs}});
    } else {
      sink({{"prompt", tool_selection_prompt(names, text)}, {"completion", answer}});
    }
    ++st.per_class[names[c]];
    st.hard += hard ? 1 : 0;
  }
}

std::vector<ordered_json> generate_tool_selection(const std::vector<GenTool>& tools,
                                                  const ToolSelectionOptions& opt,
                                                  GenStats* stats) {
  std::vector<ordered_json> rows;
  generate_tool_selection(tools, opt, stats,
                          [&](ordered_json row) { rows.push_back(std::move(row)); });
  return rows;
}

}  // namespace tsft
