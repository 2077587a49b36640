// Constrained decoding at the token level, on SmolLM2's real vocabulary: random token walks
// (random logits, so both the sampler's pick and the whole-vocabulary mask are exercised) always
// decode to valid replies, greedy picks the most likely allowed token, and the real model,
// constrained, writes calls that validate on hand-written rows where unconstrained it does not;
// the call gate withholds calls below its threshold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "chat/json_schema.h"
#include "chat/tool_call.h"
#include "core/error.h"
#include "core/rng.h"
#include "io/model_loader.h"
#include "model/call_start.h"
#include "model/constrained_sampling.h"
#include "model/generate.h"
#include "test_util.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

const std::string kModel = tsft::testing::default_model_path();

class ConstrainedSampling : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new LoadedModel(load_model(kModel)); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static LoadedModel* model_;

  static std::vector<ordered_json> handwritten_rows() {
    std::ifstream in(std::string(TSFT_TEST_DATA_DIR) + "/handwritten/tool_calling.jsonl");
    std::vector<ordered_json> rows;
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) rows.push_back(ordered_json::parse(line));
    return rows;
  }
};
LoadedModel* ConstrainedSampling::model_ = nullptr;

void expect_valid(const std::string& text, const ordered_json& tools, ToolChoiceMode mode) {
  const ParsedReply reply = parse_tool_calls(text, ToolCallFormat::kHermes);
  ASSERT_TRUE(reply.valid) << reply.error << "\n" << text;
  ASSERT_FALSE(reply.truncated) << text;
  if (mode == ToolChoiceMode::kRequired) {
    EXPECT_FALSE(reply.calls.empty()) << text;
  }
  for (const ToolCall& call : reply.calls) {
    const ordered_json* schema = nullptr;
    for (const auto& t : tools)
      if (t["function"]["name"] == call.name) schema = &t["function"]["parameters"];
    ASSERT_NE(schema, nullptr) << call.name << "\n" << text;
    for (const auto& p : validate_json(ordered_json::parse(call.arguments_json), *schema, "arguments"))
      ADD_FAILURE() << p.path << ": " << p.message << "\n" << text;
  }
}

TEST_F(ConstrainedSampling, RandomTokenWalksDecodeToValidReplies) {
  const Tokenizer& tok = *model_->tokenizer;
  const auto eos = model_->gen_defaults.eos_ids;
  auto table = std::make_shared<TokenTable>(tok, eos);
  const auto rows = handwritten_rows();
  ASSERT_GT(rows.size(), 100u);
  const int64_t V = tok.vocab_size();
  std::vector<float> logits(static_cast<size_t>(V));
  Rng rng(3);
  int with_calls = 0;
  // Tokens that close strings, objects and arrays, favoured now and then so that walks end.
  std::vector<int32_t> closers;
  for (const char* text : {"\"", "}", "]", "\"}", "}}", "\"]"})
    if (auto id = tok.token_id(text)) closers.push_back(*id);
  ASSERT_GE(closers.size(), 3u);
  for (size_t r = 0; r < 24; ++r) {
    const ordered_json& tools = rows[r * 7 % rows.size()]["tools"];
    const ToolChoiceMode mode = r % 2 ? ToolChoiceMode::kRequired : ToolChoiceMode::kAuto;
    auto grammar = std::make_shared<ToolCallGrammar>(tools, ToolChoiceSpec{mode, ""});
    ToolCallConstraint c(table, grammar);
    Sampler sampler({/*temperature=*/1.0f, 0, 1.0f, /*seed=*/r});
    std::vector<int32_t> ids;
    bool ended = false;
    for (int step = 0; step < 400 && !ended; ++step) {
      // Random logits, with the end tokens and the call marker's first token favoured now and
      // then so that walks finish.
      for (auto& x : logits) x = static_cast<float>(rng.uniform() * 8.0);
      if (rng.uniform() < 0.15)
        for (int32_t e : eos) logits[e] = 30.0f;
      if (rng.uniform() < 0.4)
        for (int32_t id : closers) logits[id] = 20.0f;
      const int32_t id = c.pick(sampler, logits.data(), V);
      ASSERT_GE(id, 0) << "no token allowed after " << tok.decode(ids);
      ASSERT_TRUE(c.allows(id));
      c.accept(id);
      ended = table->is_end(id);
      if (!ended) ids.push_back(id);
    }
    if (!ended) continue;  // cut at 400 tokens: nothing to check as a whole reply
    const std::string text = tok.decode(ids, /*skip_special=*/true);
    expect_valid(text, tools, mode);
    if (HasFailure()) return;
    with_calls += !parse_tool_calls(text, ToolCallFormat::kHermes).calls.empty();
  }
  EXPECT_GT(with_calls, 3);  // walks that wrote calls, not only text
}

// Random walks that never favour closing or ending tokens run into their budget inside a call;
// given the tokens left, the constraint closes the call in time, so every walk ends as a valid
// reply, and the model's own picks are kept until the close needs the rest of the budget.
TEST_F(ConstrainedSampling, RepliesCutByTheBudgetEndAsValidCalls) {
  const Tokenizer& tok = *model_->tokenizer;
  const auto eos = model_->gen_defaults.eos_ids;
  auto table = std::make_shared<TokenTable>(tok, eos);
  const auto rows = handwritten_rows();
  const int64_t V = tok.vocab_size();
  std::vector<float> logits(static_cast<size_t>(V));
  Rng rng(11);
  int64_t forced = 0, cut_in_call = 0;
  for (size_t r = 0; r < 16; ++r) {
    const ordered_json& tools = rows[r * 5 % rows.size()]["tools"];
    const ToolChoiceMode mode = r % 2 ? ToolChoiceMode::kRequired : ToolChoiceMode::kAuto;
    auto grammar = std::make_shared<ToolCallGrammar>(tools, ToolChoiceSpec{mode, ""});
    ToolCallConstraint c(table, grammar);
    Sampler sampler({/*temperature=*/1.0f, 0, 1.0f, /*seed=*/r});
    const int64_t budget = 90;
    std::vector<int32_t> ids;
    bool ended = false;
    for (int64_t i = 0; i < budget && !ended; ++i) {
      for (auto& x : logits) x = static_cast<float>(rng.uniform() * 8.0);
      const auto open = tok.token_id("<tool_call>");
      if (open && mode == ToolChoiceMode::kAuto) logits[*open] = 30.0f;  // go into a call
      const int32_t id = c.pick(sampler, logits.data(), V, budget - i);
      ASSERT_GE(id, 0) << "no token allowed after " << tok.decode(ids);
      ASSERT_TRUE(c.allows(id));
      c.accept(id);
      ended = table->is_end(id);
      if (!ended) ids.push_back(id);
    }
    EXPECT_TRUE(c.matcher().can_end()) << tok.decode(ids);
    const std::string text = tok.decode(ids, /*skip_special=*/true);
    expect_valid(text, tools, mode);
    if (HasFailure()) return;
    forced += c.stats().forced;
    cut_in_call += !ended && c.stats().forced > 0;
    EXPECT_LE(c.stats().forced, ToolCallConstraint::kCloseWindow);
  }
  EXPECT_GT(cut_in_call, 4);  // walks the budget closed, not only ones that ended by themselves
  EXPECT_GT(forced, 0);
}

// The call probability is the softmax mass of the tokens that begin the call marker, and only
// of those: "<", "<tool" and the like are in, words and whitespace are out.
TEST_F(ConstrainedSampling, CallStartProbabilityIsTheMassOfTokensOpeningACall) {
  const Tokenizer& tok = *model_->tokenizer;
  const TokenTable table(tok, model_->gen_defaults.eos_ids);
  const CallStart start(table, "<tool_call>");
  ASSERT_FALSE(start.ids().empty());
  for (int32_t id : start.ids()) {
    std::string b = table.bytes(id);
    b.erase(0, b.find_first_not_of(" \t\n\r"));
    EXPECT_TRUE(std::string("<tool_call>").starts_with(b) || b.starts_with("<tool_call>")) << b;
  }
  const auto lt = tok.token_id("<");
  ASSERT_TRUE(lt.has_value());
  EXPECT_NE(std::find(start.ids().begin(), start.ids().end(), *lt), start.ids().end());
  const int32_t word = tok.encode("Sure", false)[0];
  const int32_t space = tok.encode(" ", false)[0];
  for (int32_t id : {word, space})
    EXPECT_EQ(std::find(start.ids().begin(), start.ids().end(), id), start.ids().end()) << id;

  const int64_t V = tok.vocab_size();
  std::vector<float> logits(static_cast<size_t>(V), -1e9f);
  logits[*lt] = 0.0f;
  logits[word] = 0.0f;
  EXPECT_NEAR(start.probability(logits.data(), V), 0.5, 1e-9);
  logits[*lt] = std::log(3.0f);  // 3 : 1
  EXPECT_NEAR(start.probability(logits.data(), V), 0.75, 1e-6);
  logits[*lt] = -1e9f;
  EXPECT_NEAR(start.probability(logits.data(), V), 0.0, 1e-12);
}

// The call gate while decoding. Two worked calls before the question lead the untuned model to
// call (greedy); gated at 0 nothing changes, gated just above its call probability (or at 1) the
// reply is text that neither opens a call nor begins like one, with constrained decoding and
// without; gated exactly at the probability the call is kept (it needs probability >= threshold).
TEST_F(ConstrainedSampling, CallGateWithholdsCallsBelowItsThreshold) {
  Transformer& model = *model_->model;
  const Tokenizer& tok = *model_->tokenizer;
  const ChatFormat chat = ChatFormat::from_tokenizer(tok, kModel);
  const ordered_json tools = ordered_json::parse(R"([{"type": "function", "function": {
      "name": "get_weather", "description": "Get the current weather for a city",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]}}}])");
  const ordered_json messages = ordered_json::parse(R"([
      {"role": "user", "content": "What's the weather in London?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"London\"}"}}]},
      {"role": "user", "content": "What's the weather in Berlin?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_2", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Berlin\"}"}}]},
      {"role": "user", "content": "What's the weather in Paris?"}])");
  const std::vector<int32_t> prompt = tok.encode(chat.render(messages, tools, true));
  auto table = std::make_shared<TokenTable>(tok, model_->gen_defaults.eos_ids);
  const ToolCallSyntax syntax = ToolCallSyntax::hermes();
  for (const bool constrained : {true, false}) {
    SCOPED_TRACE(constrained ? "constrained" : "free");
    GenerationConfig gen = model_->gen_defaults;
    gen.max_new_tokens = 40;
    gen.token_table = table;
    if (constrained)
      gen.tool_grammar = std::make_shared<ToolCallGrammar>(tools, ToolChoiceSpec{}, syntax);
    gen.call_start = std::make_shared<CallStart>(*table, "<tool_call>");
    const GenerationResult ungated = generate(model, tok, prompt, gen);
    const double p = ungated.call_probability;
    ASSERT_GT(p, 0.0);
    ASSERT_LT(p, 1.0);
    const ParsedReply called = parse_tool_calls(ungated.text, ToolCallFormat::kHermes);
    ASSERT_EQ(called.calls.size(), 1u) << ungated.text;  // the model calls when not gated
    EXPECT_FALSE(ungated.calls_withheld);

    gen.call_start = nullptr;
    for (const double threshold : {0.0, p}) {
      gen.call_gate = std::make_shared<CallGate>(*table, syntax, threshold);
      const GenerationResult r = generate(model, tok, prompt, gen);
      EXPECT_EQ(r.call_probability, p);
      EXPECT_FALSE(r.calls_withheld) << threshold;
      EXPECT_EQ(r.tokens, ungated.tokens) << threshold;
    }
    for (const double threshold : {std::nextafter(p, 1.0), 1.0}) {
      gen.call_gate = std::make_shared<CallGate>(*table, syntax, threshold);
      const GenerationResult r = generate(model, tok, prompt, gen);
      EXPECT_TRUE(r.calls_withheld) << threshold;
      EXPECT_EQ(r.text.find("<tool_call>"), std::string::npos) << r.text;
      const ParsedReply reply = parse_tool_calls(r.text, ToolCallFormat::kHermes);
      EXPECT_TRUE(reply.valid) << reply.error;
      EXPECT_TRUE(reply.calls.empty()) << r.text;
      const size_t first = r.text.find_first_not_of(" \n");
      ASSERT_NE(first, std::string::npos) << r.text;
      EXPECT_NE(r.text[first], '<') << r.text;
    }
  }
  EXPECT_THROW(CallGate(*table, syntax, 1.5), Error);
  EXPECT_THROW(CallGate(*table, syntax, std::nan("")), Error);
}

TEST_F(ConstrainedSampling, GreedyPicksTheMostLikelyAllowedToken) {
  const Tokenizer& tok = *model_->tokenizer;
  auto table = std::make_shared<TokenTable>(tok, model_->gen_defaults.eos_ids);
  const auto rows = handwritten_rows();
  auto grammar = std::make_shared<ToolCallGrammar>(rows[0]["tools"],
                                                   ToolChoiceSpec{ToolChoiceMode::kRequired, ""});
  ToolCallConstraint c(table, grammar);
  const int64_t V = tok.vocab_size();
  std::vector<float> logits(static_cast<size_t>(V));
  Rng rng(5);
  Sampler greedy({});
  for (int step = 0; step < 40; ++step) {
    for (auto& x : logits) x = static_cast<float>(rng.uniform());
    const std::vector<float> original = logits;
    const int32_t id = c.pick(greedy, logits.data(), V);
    ASSERT_GE(id, 0);
    // No allowed token scores higher.
    for (int32_t j = 0; j < V; ++j)
      if (original[j] > original[id]) {
        ASSERT_FALSE(c.allows(j)) << "token " << j << " step " << step;
      }
    c.accept(id);
    if (table->is_end(id)) break;
  }
  EXPECT_GT(c.stats().full_masks, 0);  // random logits rarely pick an allowed token quickly
}

TEST_F(ConstrainedSampling, RealModelWritesValidCallsOnHandwrittenRows) {
  Transformer& model = *model_->model;
  const Tokenizer& tok = *model_->tokenizer;
  const ChatFormat chat = ChatFormat::from_tokenizer(tok, kModel);
  auto table = std::make_shared<TokenTable>(tok, model_->gen_defaults.eos_ids);
  const auto rows = handwritten_rows();
  int tried = 0, whole = 0;
  for (const auto& row : rows) {
    const ordered_json& msgs = row["messages"];
    if (!msgs.back().contains("tool_calls")) continue;  // rows that need a call
    ordered_json prompt_msgs = msgs;
    prompt_msgs.erase(prompt_msgs.size() - 1);
    const std::string prompt = chat.render(prompt_msgs, row["tools"], true);
    GenerationConfig gen = model_->gen_defaults;
    gen.max_new_tokens = 160;
    gen.tool_grammar = std::make_shared<ToolCallGrammar>(
        row["tools"], ToolChoiceSpec{ToolChoiceMode::kRequired, ""});
    gen.token_table = table;
    const GenerationResult r = generate(model, tok, tok.encode(prompt), gen);
    ++tried;
    if (r.finish_reason != "length") {
      expect_valid(r.text, row["tools"], ToolChoiceMode::kRequired);
      if (HasFailure()) return;
      ++whole;
    } else {
      // Cut at max_new_tokens (the untuned model writes long strings): still a prefix the
      // grammar accepts, so the call opened.
      ToolCallMatcher m(gen.tool_grammar);
      EXPECT_TRUE(m.feed(r.text)) << r.text;
      EXPECT_NE(r.text.find("<tool_call>"), std::string::npos) << r.text;
    }
    if (tried == 4) break;
  }
  EXPECT_GE(whole, 1);  // at least one whole reply was judged
}

}  // namespace
}  // namespace tsft
