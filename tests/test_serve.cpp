// The server's pieces below HTTP: request checking (serve/openai_api) with every field's error,
// the continuous-batching Engine against generate() one request at a time (free and
// schema-constrained), and OpenAiServer's routes driven in-process (constrained decoding on/off).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "chat/chat_format.h"
#include "chat/json_schema.h"
#include "chat/tool_call.h"
#include "chat/tool_call_grammar.h"
#include "core/rng.h"
#include "io/model_loader.h"
#include "model/constrained_sampling.h"
#include "model/generate.h"
#include "model/lora.h"
#include "model/text_stream.h"
#include "serve/engine.h"
#include "serve/openai_api.h"
#include "serve/openai_server.h"
#include "serve/prefix_cache.h"
#include "test_util.h"

namespace tsft::serve {
namespace {

const std::string kModel = tsft::testing::default_model_path();
using nlohmann::ordered_json;

// Tools with few, short, enum / bounded-integer arguments, so the untuned model's constrained
// calls finish well within max_tokens.
const ordered_json kTools = ordered_json::parse(R"([
  {"type": "function", "function": {"name": "set_alarm", "description": "Set an alarm clock",
   "parameters": {"type": "object", "properties": {
     "hour": {"type": "integer", "minimum": 0, "maximum": 23},
     "day": {"type": "string", "enum": ["monday", "tuesday", "friday"]}},
    "required": ["hour", "day"]}}},
  {"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
   "parameters": {"type": "object", "properties": {
     "city": {"type": "string", "enum": ["Paris", "London", "Tokyo"]},
     "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["city"]}}}])");
const ordered_json kAsk = ordered_json::parse(R"([{"role": "user", "content": "Wake me up at 7 on Friday."}])");

// Every call names an offered function (`only`, when given) and its arguments validate.
void expect_calls_validate(const ordered_json& tool_calls, const std::string& only = "") {
  for (const auto& c : tool_calls) {
    const std::string name = c["function"]["name"];
    if (!only.empty()) {
      EXPECT_EQ(name, only);
    }
    const ordered_json* schema = nullptr;
    for (const auto& t : kTools)
      if (t["function"]["name"] == name) schema = &t["function"]["parameters"];
    ASSERT_NE(schema, nullptr) << name;
    const ordered_json args = ordered_json::parse(c["function"]["arguments"].get<std::string>());
    for (const auto& p : validate_json(args, *schema, "arguments"))
      ADD_FAILURE() << name << ": " << p.path << ": " << p.message;
  }
}

// The ApiError a body gets, as "STATUS PARAM: MESSAGE".
std::string chat_error(const std::string& body) {
  try {
    parse_chat_request(body);
  } catch (const ApiError& e) {
    return std::to_string(e.status) + " " + e.param + ": " + e.what();
  }
  return "accepted";
}

const std::string kHi = R"("messages": [{"role": "user", "content": "hi"}])";

TEST(OpenAiApi, ChatRequestFields) {
  const ChatRequest r = parse_chat_request(R"({"model": "m", "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
      "tool_choice": {"type": "function", "function": {"name": "f"}},
      "temperature": 0.5, "top_p": 0.9, "max_completion_tokens": 7, "stop": "END", "seed": 42,
      "stream": true, "stream_options": {"include_usage": true}, "n": 1, "user": "u",
      "some_future_field": {"x": 1}})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.messages[0]["role"], "system");  // developer is OpenAI's new name for system
  EXPECT_EQ(r.messages[1]["content"], "ab");
  EXPECT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tool_choice, ToolChoice::kNamed);
  EXPECT_EQ(r.tool_choice_name, "f");
  EXPECT_FLOAT_EQ(*r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(*r.sampling.top_p, 0.9f);
  EXPECT_EQ(*r.sampling.max_tokens, 7);
  EXPECT_EQ(r.sampling.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(*r.sampling.seed, 42u);
  EXPECT_TRUE(r.sampling.stream);
  EXPECT_TRUE(r.sampling.include_usage);

  const ChatRequest d = parse_chat_request(R"({"model": "m", )" + kHi + "}");
  EXPECT_EQ(d.tool_choice, ToolChoice::kAuto);
  EXPECT_FALSE(d.sampling.temperature.has_value());  // the model's default applies
  EXPECT_FALSE(d.sampling.max_tokens.has_value());
  EXPECT_TRUE(d.tools.is_null());
}

TEST(OpenAiApi, ChatRequestErrorsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "400 : the request body is not valid JSON"},
      // A number beyond double throws out_of_range, not parse_error (found by fuzz_openai_request).
      {R"({"model": "m", "temperature": 1e309, )" + kHi + "}", "400 : the request body is not valid JSON"},
      {R"({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"a\": -1e400}"}}]}]})",
       "400 messages: messages[0].tool_calls[0].function.arguments: not valid JSON"},
      {"", "400 : the request body is empty"},
      {"[]", "400 : the request body must be a JSON object"},
      {R"({"messages": []})", "400 model: model: missing"},
      {R"({"model": 1, )" + kHi + "}", "400 model: model: expected a string"},
      {R"({"model": "m"})", "400 messages: messages: missing"},
      {R"({"model": "m", "messages": [{"role": "bot", "content": "x"}]})",
       "400 messages: messages[0].role: expected one of"},
      {R"({"model": "m", "messages": [{"role": "user"}]})", "400 messages: messages[0].content: missing"},
      {R"({"model": "m", "temperature": "hot", )" + kHi + "}", "400 temperature: temperature: expected a number"},
      {R"({"model": "m", "temperature": 3, )" + kHi + "}", "400 temperature: temperature: must be between"},
      {R"({"model": "m", "top_p": 0, )" + kHi + "}", "400 top_p: top_p: must be greater than 0"},
      {R"({"model": "m", "max_tokens": 0, )" + kHi + "}", "400 max_tokens: max_tokens: must be between"},
      {R"({"model": "m", "max_tokens": 1.5, )" + kHi + "}", "400 max_tokens: max_tokens: expected an integer"},
      {R"({"model": "m", "stop": ["a", 1], )" + kHi + "}", "400 stop[1]: stop[1]: expected a string"},
      {R"({"model": "m", "stop": ["a","b","c","d","e"], )" + kHi + "}", "400 stop: stop: at most 4"},
      {R"({"model": "m", "stop": "", )" + kHi + "}", "400 stop: stop: stop strings must not be empty"},
      {R"({"model": "m", "stream": "yes", )" + kHi + "}", "400 stream: stream: expected true or false"},
      {R"({"model": "m", "stream_options": {}, )" + kHi + "}", "400 stream_options: stream_options: only allowed with stream"},
      {R"({"model": "m", "n": 2, )" + kHi + "}", "400 n: n: only n = 1"},
      {R"({"model": "m", "logprobs": true, )" + kHi + "}", "400 logprobs: logprobs: log probabilities"},
      {R"({"model": "m", "frequency_penalty": 0.5, )" + kHi + "}", "400 frequency_penalty: frequency_penalty: penalties"},
      {R"({"model": "m", "response_format": {"type": "json_object"}, )" + kHi + "}",
       "400 response_format.type: response_format.type: only \"text\""},
      {R"({"model": "m", "tools": {}, )" + kHi + "}", "400 tools: tools: expected a list"},
      {R"({"model": "m", "tools": [{"type": "retrieval"}], )" + kHi + "}", "400 tools[0].type: tools[0].type: expected \"function\""},
      {R"({"model": "m", "tool_choice": "required", )" + kHi + "}", "400 tool_choice: tool_choice: needs tools"},
      {R"({"model": "m", "tool_choice": "maybe", )" + kHi + "}", "400 tool_choice: tool_choice: expected \"auto\""},
      {R"({"model": "m", "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}, )" + kHi + "}",
       "400 tool_choice: tool_choice: no tool named \"g\""},
  };
  for (const auto& [body, want] : cases) {
    const std::string got = chat_error(body);
    EXPECT_EQ(got.substr(0, want.size()), want) << body;
  }
}

TEST(OpenAiApi, CompletionRequest) {
  const CompletionRequest r = parse_completion_request(R"({"model": "m", "prompt": ["Hello"]})");
  EXPECT_EQ(r.prompt, "Hello");
  EXPECT_EQ(*r.sampling.max_tokens, 16);  // OpenAI's default for completions
  EXPECT_THROW(parse_completion_request(R"({"model": "m", "prompt": ["a", "b"]})"), ApiError);
  EXPECT_THROW(parse_completion_request(R"({"model": "m", "prompt": [1, 2]})"), ApiError);
  EXPECT_THROW(parse_completion_request(R"({"model": "m", "prompt": ""})"), ApiError);
  EXPECT_THROW(parse_completion_request(R"({"model": "m", "prompt": "x", "echo": true})"), ApiError);
}

TEST(OpenAiApi, ReplyPieces) {
  EXPECT_EQ(error_body(ApiError(404, "no such model", "invalid_request_error", "model", "model_not_found")),
            R"({"error":{"message":"no such model","type":"invalid_request_error","param":"model","code":"model_not_found"}})");
  EXPECT_EQ(error_body(ApiError(400, "bad")),
            R"({"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}})");
  // Model output and quoted input may hold bytes that are not UTF-8: replaced, never a throw.
  EXPECT_EQ(json_text(nlohmann::ordered_json{{"content", "ok \xC3"}}), "{\"content\":\"ok \xEF\xBF\xBD\"}");
  EXPECT_EQ(nlohmann::json::parse(error_body(ApiError(400, "bad \xFF byte")))["error"]["message"],
            "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(openai_finish_reason("eos", false), "stop");
  EXPECT_EQ(openai_finish_reason("stop", true), "tool_calls");
  EXPECT_EQ(openai_finish_reason("length", true), "length");
  ParsedReply reply;
  reply.calls = {{"", "f", R"({"a":1})"}, {"", "g", "{}"}};
  const auto m = assistant_message(reply, "call_x_");
  EXPECT_TRUE(m["content"].is_null());
  EXPECT_EQ(m["tool_calls"][1]["id"], "call_x_1");
  EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], R"({"a":1})");
  reply.calls.clear();
  reply.content = "hello";
  EXPECT_EQ(assistant_message(reply, "c")["content"], "hello");
  EXPECT_FALSE(assistant_message(reply, "c").contains("tool_calls"));
}

// What streaming holds back: stop strings (TextStream) and tool-call openers (the server).
TEST(HeldBackText, PartialMatchSuffix) {
  const std::vector<std::string> openers = {"<tool_call>", "[TOOL_CALLS]"};
  EXPECT_EQ(partial_match_suffix("hello <tool", openers), 5u);
  EXPECT_EQ(partial_match_suffix("hello [TOOL_", openers), 6u);
  EXPECT_EQ(partial_match_suffix("hello <", openers), 1u);
  EXPECT_EQ(partial_match_suffix("hello", openers), 0u);
  EXPECT_EQ(partial_match_suffix("<tool_call>", openers), 0u);  // a whole opener is not partial
  EXPECT_EQ(partial_match_suffix("", openers), 0u);
  EXPECT_EQ(partial_match_suffix("ab", {"abc", "bcd"}), 2u);   // the longest of the candidates
}

// --- Engine ---------------------------------------------------------------------------------

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new LoadedModel(load_model(kModel)); }
  static void TearDownTestSuite() { delete model_; }
  static LoadedModel* model_;

  Job job(const std::string& text, int64_t max_tokens, std::vector<std::string> stop = {}) {
    Job j;
    j.prompt = model_->tokenizer->encode(text);
    j.max_tokens = max_tokens;
    j.stop = std::move(stop);
    j.eos_ids = model_->gen_defaults.eos_ids;
    return j;  // greedy: SamplingParams{} has temperature 0
  }
  // Submits every job to one engine, waits for all, and returns their events in job order, with
  // the engine's counters once no sequence is left running.
  static std::vector<JobEvents> run_jobs(const std::vector<Job>& jobs, const EngineOptions& opt,
                                         EngineStats* stats) {
    std::vector<JobEvents> got;
    Engine engine(*model_->model, *model_->tokenizer, opt);
    std::vector<std::shared_ptr<JobHandle>> handles;
    for (const Job& j : jobs) handles.push_back(engine.submit(j));
    for (auto& h : handles) {
      EXPECT_NE(h, nullptr);
      if (!h) return got;
      got.push_back(wait_done(*h));
    }
    // The loop drops finished sequences just after posting their end: wait for it.
    for (int tries = 0; tries < 200; ++tries) {
      *stats = engine.stats();
      if (stats->running == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return got;
  }
  // What generate() gives for a job alone (run after the engine has stopped: a model is used by
  // one thread at a time).
  static GenerationResult generate_alone(const Job& j) {
    GenerationConfig gen;
    gen.max_new_tokens = j.max_tokens;
    gen.stop = j.stop;
    gen.eos_ids = j.eos_ids;
    gen.tool_grammar = j.tool_grammar;
    gen.token_table = j.token_table;
    gen.call_gate = j.call_gate;
    return generate(*model_->model, *model_->tokenizer, j.prompt, gen);
  }
  static JobEvents wait_done(JobHandle& h) {
    JobEvents all;
    for (;;) {
      JobEvents e = h.wait(std::chrono::milliseconds(100));
      all.text += e.text;
      if (e.done) {
        e.text = all.text;
        return e;
      }
    }
  }
};
LoadedModel* EngineTest::model_ = nullptr;

TEST_F(EngineTest, BatchedRequestsMatchGenerateAlone) {
  const std::vector<std::pair<std::string, int64_t>> reqs = {
      {"The capital of France is", 12},
      {"Once upon a time, in a land far away, there lived a", 20},
      {"1, 2, 3, 4,", 9},
      {"def fibonacci(n):", 15},
      {"Hello", 6}};
  EngineOptions opt;
  opt.max_batch = 3;      // more requests than slots: some wait in the queue
  opt.prefill_chunk = 6;  // prompts run in chunks beside the others' decode steps
  opt.max_step_tokens = 9;  // and a step holds few rows: some prompts wait a step for room
  opt.threads = 2;
  std::vector<Job> jobs;
  for (const auto& [text, n] : reqs) jobs.push_back(job(text, n, {"\n\n"}));
  EngineStats s;
  const std::vector<JobEvents> got = run_jobs(jobs, opt, &s);
  ASSERT_EQ(got.size(), jobs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    const Job& j = jobs[i];
    const GenerationResult ref = generate_alone(j);
    EXPECT_EQ(got[i].text, ref.text) << reqs[i].first;
    EXPECT_EQ(got[i].finish_reason, ref.finish_reason) << reqs[i].first;
    EXPECT_EQ(got[i].completion_tokens, static_cast<int64_t>(ref.tokens.size())) << reqs[i].first;
    EXPECT_EQ(got[i].prompt_tokens, static_cast<int64_t>(j.prompt.size()));
  }
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.kv_reserved, 0);
  EXPECT_GT(s.generated_tokens, 0);
  // Batching happened: fewer steps than tokens generated one request at a time.
  EXPECT_LT(s.steps, s.generated_tokens);
}

// Prompts sharing a prefix run it once: requests arriving together with the same chat template
// prefix wait for the first one's positions and copy them, a later request copies them from the
// prefix cache, and every reply is still what generate() gives alone.
TEST_F(EngineTest, SharedPrefixesRunOnceAndMatchGenerateAlone) {
  const Tokenizer& tok = *model_->tokenizer;
  const ChatFormat chat = ChatFormat::from_tokenizer(tok, kModel);
  auto ask = [&](const std::string& text) {
    return chat.render(ordered_json::array({{{"role", "user"}, {"content", text}}}),
                       ordered_json(), true);
  };
  const std::vector<std::string> prompts = {ask("Name a fruit."), ask("Name a colour."),
                                            ask("Name a fruit."), ask("Count to five.")};
  for (int64_t cache_bytes : {int64_t{0}, int64_t{64} << 20}) {
    EngineOptions opt;
    opt.max_batch = 4;
    opt.threads = 2;
    opt.prefix_cache_bytes = cache_bytes;
    std::vector<Job> jobs;
    for (const std::string& p : prompts) jobs.push_back(job(p, 24));
    // Submitted together: later prompts share the template's prefix with the first (and the
    // third all of the first's prompt), so each copies instead of running those positions.
    Engine engine(*model_->model, *model_->tokenizer, opt);
    std::vector<std::shared_ptr<JobHandle>> handles;
    for (const Job& j : jobs) handles.push_back(engine.submit(j));
    std::vector<JobEvents> got;
    for (auto& h : handles) {
      ASSERT_NE(h, nullptr);
      got.push_back(wait_done(*h));
    }
    auto shared = [&](size_t a, size_t b) {
      return common_prefix(jobs[a].prompt.data(), static_cast<int64_t>(jobs[a].prompt.size()),
                           jobs[b].prompt.data(), static_cast<int64_t>(jobs[b].prompt.size()));
    };
    ASSERT_GT(shared(0, 3), 10);  // the system prompt and the user turn's opener
    // At least: the colour and count prompts what they share with the first, the repeated prompt
    // all but its last token (whose logits pick the first reply token).
    const int64_t at_least =
        shared(0, 1) + shared(0, 3) + static_cast<int64_t>(jobs[2].prompt.size()) - 1;
    EngineStats s;
    for (int tries = 0; tries < 200; ++tries) {
      s = engine.stats();
      if (s.running == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GE(s.prefix_reused_tokens, at_least) << cache_bytes;
    // Later, alone: the whole repeated prompt (but its last token) comes from the prefix cache.
    const JobEvents again = wait_done(*engine.submit(job(prompts[0], 24)));
    for (int tries = 0; tries < 200 && engine.stats().running > 0; ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const EngineStats after = engine.stats();
    EXPECT_EQ(after.prefix_reused_tokens - s.prefix_reused_tokens,
              cache_bytes > 0 ? static_cast<int64_t>(jobs[0].prompt.size()) - 1 : 0);
    EXPECT_EQ(after.prefix_cache_entries > 0, cache_bytes > 0);
    EXPECT_LE(after.prefix_cache_bytes, cache_bytes);
    EXPECT_EQ(again.text, got[0].text);
    for (size_t i = 0; i < jobs.size(); ++i) {
      const GenerationResult ref = generate_alone(jobs[i]);
      EXPECT_EQ(got[i].text, ref.text) << i;
      EXPECT_EQ(got[i].completion_tokens, static_cast<int64_t>(ref.tokens.size())) << i;
    }
  }
}

// An adapter changes every position's keys and values: a request for an adapter never reuses a
// prefix run without it (or with another), and gives what it gives in an engine of its own.
TEST_F(EngineTest, PrefixesAreNotSharedAcrossAdapters) {
  const ModelConfig& cfg = model_->model->config();
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 16.0f;
  lc.target_modules = {"k_proj", "v_proj", "o_proj"};
  Rng rng(3);
  LoraWeights adapter = LoraWeights::create(cfg, lc, rng);
  adapter.for_each([&](const std::string&, Tensor& t) {  // B starts at zero: fill both
    float* d = t.f32();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<float>(rng.uniform() - 0.5) * 0.4f;
  });
  Job plain = job("The capital of France is", 12);
  Job tuned = plain;
  tuned.adapter = &adapter;
  EngineOptions opt;
  opt.max_batch = 2;
  opt.threads = 2;
  EngineStats s;
  const std::vector<JobEvents> alone = run_jobs({tuned}, opt, &s);
  const std::vector<JobEvents> mixed = run_jobs({plain, tuned, plain}, opt, &s);
  ASSERT_EQ(alone.size(), 1u);
  ASSERT_EQ(mixed.size(), 3u);
  EXPECT_EQ(mixed[1].text, alone[0].text);
  EXPECT_NE(mixed[1].text, mixed[0].text);  // the adapter does change the reply
  // Only the second plain request reused (the first's prompt, but its last token).
  EXPECT_EQ(s.prefix_reused_tokens, static_cast<int64_t>(plain.prompt.size()) - 1);
}

TEST_F(EngineTest, FullQueueRefusesAndCancelFreesTheSlot) {
  EngineOptions opt;
  opt.max_batch = 1;
  opt.max_queue = 0;
  opt.threads = 1;
  Engine engine(*model_->model, *model_->tokenizer, opt);
  auto first = engine.submit(job("Write a long story:", 500));
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(engine.submit(job("Hello", 4)), nullptr);  // no slot and no queue room
  first->cancel();
  const JobEvents e = wait_done(*first);
  EXPECT_EQ(e.finish_reason, "cancelled");
  EXPECT_LT(e.completion_tokens, 500);
  // The slot is free again (the loop may need a moment to drop the cancelled sequence).
  std::shared_ptr<JobHandle> next;
  for (int tries = 0; tries < 100 && !next; ++tries) {
    next = engine.submit(job("Hello", 4));
    if (!next) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(wait_done(*next).completion_tokens, 4);
}

// Constrained jobs (every tool_choice) batched with a free one give what generate() gives with
// the same grammar alone, and the engine counts them.
TEST_F(EngineTest, ConstrainedJobsMatchGenerateAlone) {
  const Tokenizer& tok = *model_->tokenizer;
  const ChatFormat chat = ChatFormat::from_tokenizer(tok, kModel);
  const std::string with_tools = chat.render(kAsk, kTools, true);
  const std::string without = chat.render(kAsk, ordered_json(), true);
  auto table = std::make_shared<const TokenTable>(tok, model_->gen_defaults.eos_ids);
  auto grammar = [&](ToolChoiceSpec choice) {
    return std::make_shared<const ToolCallGrammar>(kTools, std::move(choice));
  };
  struct Case {
    std::string prompt;
    std::shared_ptr<const ToolCallGrammar> grammar;  // null: free
  };
  const std::vector<Case> cases = {
      {with_tools, grammar({ToolChoiceMode::kRequired, ""})},
      {with_tools, grammar({ToolChoiceMode::kNamed, "get_weather"})},
      {with_tools, nullptr},
      {without, grammar({ToolChoiceMode::kNone, ""})},
      {with_tools, grammar({ToolChoiceMode::kAuto, ""})}};
  auto make = [&](const Case& c) {
    Job j = job(c.prompt, 40);
    j.tool_grammar = c.grammar;
    if (c.grammar) j.token_table = table;
    return j;
  };
  EngineOptions opt;
  opt.max_batch = 3;
  opt.threads = 2;
  std::vector<Job> jobs;
  for (const Case& c : cases) jobs.push_back(make(c));
  EngineStats s;
  const std::vector<JobEvents> got = run_jobs(jobs, opt, &s);
  ASSERT_EQ(got.size(), jobs.size());
  int64_t constrained_tokens = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Job& j = jobs[i];
    const GenerationResult ref = generate_alone(j);
    EXPECT_EQ(got[i].text, ref.text) << i;
    EXPECT_EQ(got[i].finish_reason, ref.finish_reason) << i;
    EXPECT_EQ(got[i].completion_tokens, static_cast<int64_t>(ref.tokens.size())) << i;
    if (j.tool_grammar) constrained_tokens += ref.constraint.tokens;
  }
  // Each reply is one its grammar accepts: required and named open a call at once (named: only
  // to that function), none never writes the marker.
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].grammar) {
      EXPECT_TRUE(ToolCallMatcher(cases[i].grammar).feed(got[i].text)) << got[i].text;
    }
  }
  for (size_t i : {0, 1}) {
    const std::string& text = got[i].text;
    EXPECT_EQ(text.substr(text.find_first_not_of(" \n"), 11), "<tool_call>") << text;
  }
  for (const ToolCall& c : parse_tool_calls(got[1].text, ToolCallFormat::kHermes).calls)
    EXPECT_EQ(c.name, "get_weather");
  EXPECT_EQ(got[3].text.find("<tool_call>"), std::string::npos) << got[3].text;
  EXPECT_EQ(s.constrained_requests, 4);
  EXPECT_EQ(s.constraint.tokens, constrained_tokens);
}

// Jobs with the call gate (withholding at 1, keeping at 0; constrained and free) batched with an
// ungated one give what generate() gives with the same gate alone, and the engine counts them.
TEST_F(EngineTest, GatedJobsMatchGenerateAlone) {
  const Tokenizer& tok = *model_->tokenizer;
  const ChatFormat chat = ChatFormat::from_tokenizer(tok, kModel);
  const std::string with_tools = chat.render(kAsk, kTools, true);
  auto table = std::make_shared<const TokenTable>(tok, model_->gen_defaults.eos_ids);
  auto auto_grammar = std::make_shared<const ToolCallGrammar>(kTools, ToolChoiceSpec{});
  auto gate = [&](double t) {
    return std::make_shared<const CallGate>(*table, ToolCallSyntax{}, t);
  };
  struct Case {
    std::shared_ptr<const ToolCallGrammar> grammar;  // null: free
    std::shared_ptr<const CallGate> gate;            // null: no gate
  };
  const std::vector<Case> cases = {{auto_grammar, gate(1.0)},
                                   {nullptr, gate(1.0)},
                                   {auto_grammar, gate(0.0)},
                                   {nullptr, nullptr}};
  auto make = [&](const Case& c) {
    Job j = job(with_tools, 40);
    j.tool_grammar = c.grammar;
    j.call_gate = c.gate;
    if (c.grammar || c.gate) j.token_table = table;
    return j;
  };
  EngineOptions opt;
  opt.max_batch = 4;
  opt.threads = 2;
  std::vector<Job> jobs;
  for (const Case& c : cases) jobs.push_back(make(c));
  EngineStats s;
  const std::vector<JobEvents> got = run_jobs(jobs, opt, &s);
  ASSERT_EQ(got.size(), jobs.size());
  int withheld = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const GenerationResult ref = generate_alone(jobs[i]);
    EXPECT_EQ(got[i].text, ref.text) << i;
    EXPECT_EQ(got[i].finish_reason, ref.finish_reason) << i;
    EXPECT_EQ(got[i].completion_tokens, static_cast<int64_t>(ref.tokens.size())) << i;
    EXPECT_EQ(ref.calls_withheld, cases[i].gate && cases[i].gate->threshold == 1.0) << i;
    withheld += ref.calls_withheld ? 1 : 0;
  }
  for (size_t i : {0, 1}) EXPECT_EQ(got[i].text.find("<tool_call>"), std::string::npos) << i;
  EXPECT_EQ(s.gated_requests, 3);
  EXPECT_EQ(s.calls_withheld, withheld);
  EXPECT_EQ(s.constrained_requests, 2);
}

TEST_F(EngineTest, RefusesWhatCanNeverRun) {
  EngineOptions opt;
  opt.kv_budget_tokens = 64;
  Engine engine(*model_->model, *model_->tokenizer, opt);
  EXPECT_THROW(engine.submit(job("Hello", 100)), Error);  // prompt + 100 > 64 positions
  Job empty = job("Hello", 4);
  empty.prompt.clear();
  EXPECT_THROW(engine.submit(empty), Error);
  EXPECT_THROW(Engine(*model_->model, *model_->tokenizer, EngineOptions{0, 1, 10, 1, 1}), Error);
}

// --- OpenAiServer in-process --------------------------------------------------------------

// A Responder that keeps what the handler sent: the status and the body or the stream's chunks.
class CapturedReply : public http::Responder {
 public:
  bool respond(int s, std::string_view, std::string_view b,
               const std::vector<std::pair<std::string, std::string>>&) override {
    status = s;
    body = b;
    return true;
  }
  bool start_stream(int s, std::string_view,
                    const std::vector<std::pair<std::string, std::string>>&) override {
    status = s;
    return true;
  }
  bool send_chunk(std::string_view data) override {
    body += data;
    return true;
  }
  bool end_stream() override { return true; }
  bool client_gone() override { return false; }

  int status = 0;
  std::string body;
};

class ServerTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete on_;
    delete off_;
    on_ = off_ = nullptr;
  }
  // Servers over SmolLM2 with constrained decoding on (the default) and off, made on first use.
  static OpenAiServer& server(bool constrained) {
    OpenAiServer*& s = constrained ? on_ : off_;
    if (!s) {
      ServerConfig cfg;
      cfg.model_name = "m";
      cfg.context = 1024;
      cfg.max_tokens_limit = 512;
      cfg.engine.threads = 2;
      cfg.constrained_decoding = constrained;
      s = new OpenAiServer(load_model(kModel), {}, cfg);
    }
    return *s;
  }
  static CapturedReply call(OpenAiServer& srv, const std::string& method, const std::string& path,
                            const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.path = req.target = path;
    req.version = "HTTP/1.1";
    req.body = body;
    CapturedReply res;
    srv.handle(req, res);
    return res;
  }
  // A chat request over kAsk and kTools, greedy, with `extra` fields; the reply's JSON.
  static ordered_json chat(OpenAiServer& srv, ordered_json extra, int want_status = 200) {
    ordered_json body = {{"model", "m"}, {"messages", kAsk}, {"tools", kTools},
                         {"temperature", 0}, {"max_tokens", 200}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    const CapturedReply r = call(srv, "POST", "/v1/chat/completions", body.dump());
    EXPECT_EQ(r.status, want_status) << r.body;
    return r.status == 200 && !body.value("stream", false) ? ordered_json::parse(r.body)
                                                            : ordered_json(r.body);
  }
  static double metric(OpenAiServer& srv, const std::string& name) {
    const std::string text = call(srv, "GET", "/metrics").body;
    const size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  }
  static OpenAiServer* on_;
  static OpenAiServer* off_;
};
OpenAiServer* ServerTest::on_ = nullptr;
OpenAiServer* ServerTest::off_ = nullptr;

TEST_F(ServerTest, RequiredToolChoiceGivesCallsThatValidate) {
  OpenAiServer& srv = server(true);
  const double before = metric(srv, "toolsft_constrained_requests_total");
  const ordered_json r = chat(srv, {{"tool_choice", "required"}});
  const ordered_json& choice = r["choices"][0];
  // The untuned model writes what the grammar lets it: calls, each one complete validating.
  // Were the reply cut by max_tokens, its complete calls still validate.
  ASSERT_TRUE(choice["message"].contains("tool_calls")) << r.dump();
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(choice["finish_reason"], r["usage"]["completion_tokens"] == 200 ? "length" : "tool_calls");
  expect_calls_validate(choice["message"]["tool_calls"]);
  EXPECT_EQ(metric(srv, "toolsft_constrained_requests_total"), before + 1);
  // The token counters sum sequences the engine has dropped, just after the reply: wait for it.
  for (int tries = 0; tries < 200 && metric(srv, "toolsft_running_requests") != 0; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(metric(srv, "toolsft_constrained_tokens_total"),
            r["usage"]["completion_tokens"].get<double>());
}

TEST_F(ServerTest, NamedToolChoiceCallsThatFunction) {
  const ordered_json r = chat(server(true), {{"tool_choice", {{"type", "function"},
                                                             {"function", {{"name", "get_weather"}}}}}});
  const ordered_json& msg = r["choices"][0]["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << r.dump();
  expect_calls_validate(msg["tool_calls"], "get_weather");
}

TEST_F(ServerTest, StreamedRequiredCallsComeWholeWithNoContent) {
  const std::string sse = chat(server(true), {{"tool_choice", "required"}, {"stream", true}});
  ordered_json calls = ordered_json::array();
  std::string content, finish;
  for (size_t at = 0; (at = sse.find("data: ", at)) != std::string::npos;) {
    const size_t end = sse.find("\n\n", at);
    const std::string data = sse.substr(at + 6, end - at - 6);
    at = end;
    if (data == "[DONE]") break;
    const ordered_json c = ordered_json::parse(data);
    const ordered_json& ch = c["choices"][0];
    if (ch["delta"].contains("tool_calls"))
      for (const auto& tc : ch["delta"]["tool_calls"]) calls.push_back(tc);
    if (ch["delta"].contains("content")) content += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_EQ(content, "");
  ASSERT_FALSE(calls.empty()) << sse;
  expect_calls_validate(calls);
  EXPECT_TRUE(finish == "tool_calls" || finish == "length") << finish;
}

TEST_F(ServerTest, NoneNeverCalls) {
  const ordered_json r = chat(server(true), {{"tool_choice", "none"}, {"max_tokens", 40}});
  const ordered_json& msg = r["choices"][0]["message"];
  EXPECT_FALSE(msg.contains("tool_calls"));
  EXPECT_EQ(msg["content"].get<std::string>().find("<tool_call>"), std::string::npos);
  EXPECT_NE(r["choices"][0]["finish_reason"], "tool_calls");
}

// A schema the grammar cannot use is the request's 400, naming the tool and field, before any
// decoding; with constrained decoding off the schema is not compiled, as before.
TEST_F(ServerTest, UnusableSchemaIsA400NamingTheField) {
  ordered_json tools = kTools;
  tools[1]["function"]["parameters"]["properties"]["unit"] = {{"type", "integr"}};
  const std::string body = ordered_json{{"model", "m"}, {"messages", kAsk}, {"tools", tools},
                                        {"max_tokens", 1}}.dump();
  CapturedReply r = call(server(true), "POST", "/v1/chat/completions", body);
  EXPECT_EQ(r.status, 400);
  const ordered_json err = ordered_json::parse(r.body)["error"];
  EXPECT_EQ(err["param"], "tools[1].function.parameters.properties.unit.type");
  EXPECT_NE(err["message"].get<std::string>().find("integr"), std::string::npos) << r.body;
  EXPECT_EQ(err["type"], "invalid_request_error");

  ordered_json twice = kTools;
  twice.push_back(kTools[0]);
  r = call(server(true), "POST", "/v1/chat/completions",
           ordered_json{{"model", "m"}, {"messages", kAsk}, {"tools", twice}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("offered twice"), std::string::npos) << r.body;

  EXPECT_EQ(call(server(false), "POST", "/v1/chat/completions", body).status, 200);
}

// Off: required / named prefill the reply with the call opener (and the name), as before, and
// nothing is counted as constrained.
TEST_F(ServerTest, OffPrefillsTheNamedCall) {
  OpenAiServer& srv = server(false);
  const ordered_json few_shot = ordered_json::parse(R"([
    {"role": "user", "content": "What's the weather in London?"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"city\": \"London\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 14}"},
    {"role": "assistant", "content": "It is 14 degrees in London."},
    {"role": "user", "content": "What's the weather in Paris?"}])");
  const ordered_json r = chat(srv, {{"messages", few_shot}, {"max_tokens", 40},
                                    {"tool_choice", {{"type", "function"},
                                                     {"function", {{"name", "get_weather"}}}}}});
  const ordered_json& msg = r["choices"][0]["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << r.dump();
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(metric(srv, "toolsft_constrained_requests_total"), 0);
}

}  // namespace
}  // namespace tsft::serve
