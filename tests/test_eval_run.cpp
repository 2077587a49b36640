// The evaluation drivers: tool-selection tasks built from rows see prompts and answers exactly as
// training does; scoring ranks candidates as brute-force sequential log-probabilities do;
// tool-calling cases are every assistant turn with its expected calls; perplexity equals the
// sequential forward's. Tiny random models for numerics, the SmolLM2 tokenizer for rows.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "eval/perplexity_eval.h"
#include "eval/selection_eval.h"
#include "eval/tool_calling_eval.h"
#include "io/model_loader.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

namespace tsft {
namespace {

using testing::error_of;
using testing::write_temp;
const Tokenizer& smollm2() { return testing::smollm2_tokenizer(); }
const ChatFormat& smollm2_chat() { return testing::smollm2_chat_format(); }

using nlohmann::ordered_json;
const std::string kData = TSFT_TEST_DATA_DIR;

std::vector<DatasetRow> rows_of(const std::string& name, const std::string& text) {
  return read_dataset(write_temp(name, text), {}, nullptr);
}

// log p(answer | prompt) by the plain sequential forward.
double sequential_logprob(Transformer& m, const std::vector<int32_t>& prompt,
                          const std::vector<int32_t>& answer) {
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), answer.begin(), answer.end());
  const int64_t T = static_cast<int64_t>(all.size()), V = m.config().vocab;
  KvCache cache = m.make_cache(T);
  std::vector<float> logits(static_cast<size_t>(T * V));
  m.forward(all.data(), T, cache, logits.data(), T);
  double lp = 0;
  for (size_t j = 0; j < answer.size(); ++j) {
    const float* row = logits.data() + (prompt.size() - 1 + j) * static_cast<size_t>(V);
    double mx = row[0], s = 0;
    for (int64_t v = 1; v < V; ++v) mx = std::max<double>(mx, row[v]);
    for (int64_t v = 0; v < V; ++v) s += std::exp(row[v] - mx);
    lp += row[answer[j]] - mx - std::log(s);
  }
  return lp;
}

TEST(SelectionTask, PromptCompletionRowsSplitAsTrainingDoes) {
  const auto rows = rows_of("sel_pc.jsonl",
                            "{\"prompt\": \"Tools: a, b\\nRequest: weather?\\nTool:\", \"completion\": \" <t>get_weather\"}\n"
                            "{\"prompt\": \"Tools: a, b\\nRequest: 2+2\\nTool:\", \"completion\": \" <t>calculator\"}\n"
                            "{\"prompt\": \"Tools: a, b\\nRequest: more rain?\\nTool:\", \"completion\": \" <t>get_weather\"}\n");
  SelectionTaskOptions opt;
  opt.sentinel = "<t>";
  const SelectionTask t = build_selection_task(rows, smollm2(), nullptr, opt);
  ASSERT_EQ(t.labels, (std::vector<std::string>{"calculator", "get_weather"}));
  ASSERT_EQ(t.examples.size(), 3u);
  EXPECT_EQ(t.examples[0].expected, 1);
  EXPECT_EQ(t.examples[1].expected, 0);
  EXPECT_EQ(t.examples[1].prompt, "Tools: a, b\nRequest: 2+2\nTool:");
  // Answers: the completion's tokens then EOS, the prompt's tokens before them.
  const Tokenizer& tok = smollm2();
  std::vector<int32_t> want = tok.encode(" <t>calculator");
  want.push_back(tok.eos_id());
  EXPECT_EQ(t.examples[0].answer_ids[0], want);
  EXPECT_EQ(t.examples[0].prompt_ids, tok.encode("Tools: a, b\nRequest: weather?\nTool:"));
  // The shared prefix is common to every prompt and leaves each at least one token.
  const auto& p = t.shared_prefix;
  EXPECT_GT(p.size(), 3u);
  for (const auto& ex : t.examples) {
    ASSERT_LT(p.size(), ex.prompt_ids.size());
    EXPECT_TRUE(std::equal(p.begin(), p.end(), ex.prompt_ids.begin()));
  }
  // Explicit labels may name tools no row answers; they are spelled like the others.
  opt.labels = {"get_weather", "calculator", "search_web"};
  const SelectionTask t2 = build_selection_task(rows, tok, nullptr, opt);
  std::vector<int32_t> sw = tok.encode(" <t>search_web");
  sw.push_back(tok.eos_id());
  EXPECT_EQ(t2.examples[0].answer_ids[2], sw);
  EXPECT_EQ(t2.examples[0].expected, 0);
  EXPECT_EQ(label_of_output(" <t>search_web\n", t2.labels, "<t>"), 2);
  EXPECT_EQ(label_of_output("calculator", t2.labels, "<t>"), 1);
  EXPECT_EQ(label_of_output("I think calculator", t2.labels, "<t>"), -1);
  EXPECT_EQ(label_of_output("", t2.labels, "<t>"), -1);
}

TEST(SelectionTask, ChatRowsEndWithTheAnswerAndItsEndOfTurn) {
  const auto rows = rows_of(
      "sel_chat.jsonl",
      "{\"messages\": [{\"role\": \"system\", \"content\": \"Pick a tool.\"}, {\"role\": \"user\", "
      "\"content\": \"rain in Oslo?\"}, {\"role\": \"assistant\", \"content\": \"get_weather\"}]}\n"
      "{\"messages\": [{\"role\": \"system\", \"content\": \"Pick a tool.\"}, {\"role\": \"user\", "
      "\"content\": \"12*7\"}, {\"role\": \"assistant\", \"content\": \"calculator\"}]}\n");
  const SelectionTask t = build_selection_task(rows, smollm2(), &smollm2_chat(), {});
  ASSERT_EQ(t.examples.size(), 2u);
  EXPECT_EQ(t.examples[0].prompt, "rain in Oslo?");
  const Tokenizer& tok = smollm2();
  EXPECT_EQ(tok.decode(t.examples[0].answer_ids[1]), "get_weather<|im_end|>");
  const std::string prompt = tok.decode(t.examples[0].prompt_ids);
  EXPECT_EQ(prompt.substr(prompt.size() - 22), "<|im_start|>assistant\n") << prompt;
}

TEST(SelectionTask, RowsThatCannotBeScoredAreNamed) {
  const auto one_label = rows_of("sel_one.jsonl", "{\"prompt\": \"p\", \"completion\": \"a\"}\n");
  EXPECT_NE(error_of([&] { build_selection_task(one_label, smollm2(), nullptr, {}); })
                .find("at least two candidate tools"),
            std::string::npos);
  const auto text = rows_of("sel_text.jsonl", "{\"text\": \"hello\"}\n");
  EXPECT_NE(error_of([&] { build_selection_task(text, smollm2(), nullptr, {}); })
                .find("sel_text.jsonl:1: text: a text row has no answer"),
            std::string::npos);
  const auto calls = rows_of(
      "sel_calls.jsonl",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"assistant\", "
      "\"tool_calls\": [{\"name\": \"f\", \"arguments\": {}}]}]}\n");
  EXPECT_NE(error_of([&] { build_selection_task(calls, smollm2(), &smollm2_chat(), {}); })
                .find("sel_calls.jsonl:1: messages: tool selection expects the answer as text"),
            std::string::npos);
  SelectionTaskOptions opt;
  opt.labels = {"a", "b"};
  const auto other = rows_of("sel_other.jsonl", "{\"prompt\": \"p\", \"completion\": \"c\"}\n");
  EXPECT_NE(error_of([&] { build_selection_task(other, smollm2(), nullptr, opt); })
                .find("sel_other.jsonl:1: answer: 'c' is not one of the candidate tools"),
            std::string::npos);
}

// Scoring picks what brute-force sequential log-probabilities pick: expected labels are set so
// that exactly the even examples are right, so accuracy must be exactly one half.
TEST(SelectionScoring, AgreesWithSequentialLogprobs) {
  LoadedModel lm = load_model(kData + "/tiny/qwen2", /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  Rng rng(7);
  auto rand_ids = [&](size_t n) {
    std::vector<int32_t> v(n);
    for (auto& x : v) x = static_cast<int32_t>(rng.next_u64() % 200) + 1;
    return v;
  };
  SelectionTask task;
  task.labels = {"a", "b", "c", "d"};
  const std::vector<std::vector<int32_t>> answers = {{5, 9, 2}, {5, 9, 3}, {7, 2}, {11}};
  const std::vector<int32_t> shared = rand_ids(6);
  for (int i = 0; i < 24; ++i) {
    SelectionExample ex;
    ex.prompt_ids = shared;
    const auto own = rand_ids(1 + i % 5);
    ex.prompt_ids.insert(ex.prompt_ids.end(), own.begin(), own.end());
    ex.answer_ids = answers;
    std::vector<double> lp;
    for (const auto& a : answers) lp.push_back(sequential_logprob(m, ex.prompt_ids, a));
    const int best = static_cast<int>(std::max_element(lp.begin(), lp.end()) - lp.begin());
    ex.expected = i % 2 == 0 ? best : (best + 1) % 4;
    task.examples.push_back(ex);
  }
  task.shared_prefix = shared;
  for (int64_t batch_tokens : {16, 64, 4096}) {
    SelectionRunOptions opt;
    opt.batch_tokens = batch_tokens;
    int64_t calls = 0;
    opt.on_progress = [&](int64_t done, int64_t total) {
      ++calls;
      EXPECT_EQ(total, 24);
      EXPECT_EQ(done, calls);
    };
    const ClassificationReport r = run_selection_scoring(m, task, opt);
    EXPECT_EQ(r.n, 24);
    ASSERT_TRUE(r.accuracy.has_value());
    EXPECT_DOUBLE_EQ(*r.accuracy, 0.5) << "batch_tokens " << batch_tokens;
    EXPECT_EQ(calls, 24);
    ASSERT_TRUE(r.calibration.has_value());
    int64_t binned = 0;
    for (const auto& b : r.calibration->bins) binned += b.count;
    EXPECT_EQ(binned, 24);
  }
}

TEST(ToolCallingTask, EveryAssistantTurnIsACase) {
  const std::string tool =
      R"({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", )"
      R"("properties": {"city": {"type": "string"}}, "required": ["city"]}}})";
  const auto rows = rows_of(
      "tc.jsonl",
      std::string(R"({"messages": [{"role": "user", "content": "Oslo weather?"}, )") +
          R"({"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": )" +
          R"({"name": "get_weather", "arguments": {"city": "Oslo"}}}]}, {"role": "tool", )" +
          R"("tool_call_id": "c1", "content": "3C"}, {"role": "assistant", "content": "It is 3C."}, )" +
          R"({"role": "user", "content": "thanks"}, {"role": "assistant", "content": "Welcome!"}], )" +
          R"("tools": [)" + tool + "]}\n");
  const ToolCallingTask t = build_tool_calling_task(rows, smollm2(), smollm2_chat(), {});
  ASSERT_EQ(t.cases.size(), 3u);
  ASSERT_EQ(t.cases[0].expected.size(), 1u);
  EXPECT_EQ(t.cases[0].expected[0].name, "get_weather");
  EXPECT_EQ(t.cases[0].expected[0].arguments, ordered_json::parse(R"({"city": "Oslo"})"));
  EXPECT_TRUE(t.cases[1].expected.empty());
  EXPECT_EQ(t.cases[1].request, "[tool result] 3C");
  EXPECT_EQ(t.cases[2].request, "thanks");
  EXPECT_EQ(t.cases[2].where, t.cases[0].where.substr(0, t.cases[0].where.size() - 1) + "3");
  // Each prompt is what training renders before that reply: the tool list, the conversation so
  // far and the assistant header, and the later prompts extend the earlier ones.
  const std::string p0 = smollm2().decode(t.cases[0].prompt_ids);
  EXPECT_NE(p0.find("get_weather"), std::string::npos);
  EXPECT_EQ(p0.substr(p0.size() - 22), "<|im_start|>assistant\n");
  EXPECT_TRUE(std::equal(t.cases[0].prompt_ids.begin(), t.cases[0].prompt_ids.end(),
                         t.cases[1].prompt_ids.begin()));
  ToolCallingTaskOptions opt;
  opt.max_cases = 2;
  EXPECT_EQ(build_tool_calling_task(rows, smollm2(), smollm2_chat(), opt).cases.size(), 2u);
  opt = {};
  opt.max_prompt_tokens = static_cast<int64_t>(t.cases[1].prompt_ids.size()) - 1;
  const ToolCallingTask cut = build_tool_calling_task(rows, smollm2(), smollm2_chat(), opt);
  EXPECT_EQ(cut.cases.size(), 1u);
  EXPECT_EQ(cut.skipped_too_long, 2);
}

TEST(Perplexity, EqualsTheSequentialForward) {
  LoadedModel lm = load_model(kData + "/tiny/llama", /*with_tokenizer=*/false);
  Transformer& m = *lm.model;
  Rng rng(3);
  std::vector<SftExample> exs;
  double nll = 0;
  int64_t count = 0;
  for (int i = 0; i < 7; ++i) {
    SftExample ex;
    const size_t n = 3 + static_cast<size_t>(i) * 4;
    for (size_t t = 0; t < n; ++t) {
      ex.ids.push_back(static_cast<int32_t>(rng.next_u64() % 250));
      ex.loss_mask.push_back(t >= n / 2 ? 1 : 0);
    }
    // Brute force: every loss token given all before it.
    for (size_t t = 1; t < n; ++t)
      if (ex.loss_mask[t]) {
        nll -= sequential_logprob(m, std::vector<int32_t>(ex.ids.begin(), ex.ids.begin() + t),
                                  {ex.ids[t]});
        ++count;
      }
    exs.push_back(ex);
  }
  for (int64_t bt : {0, 20, 100}) {
    const PerplexityAccumulator acc = run_perplexity(m, exs, bt, nullptr);
    EXPECT_EQ(acc.tokens(), count);
    ASSERT_TRUE(acc.mean_loss().has_value());
    EXPECT_NEAR(*acc.mean_loss(), nll / count, 1e-4) << "batch_tokens " << bt;
  }
}

}  // namespace
}  // namespace tsft
