// SFT data: every row layout loads with the loss mask on exactly the intended tokens (checked by
// decoding them), bad rows are errors naming FILE:LINE and the field, and packing, batching and
// the seeded batch order keep every example exactly once and repeat themselves exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "chat/chat_format.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/batch_sampler.h"
#include "data/packing.h"
#include "data/sft_dataset.h"
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
const std::string kSft = kData + "/sft/";

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A shipped template with its variables, as tests/test_chat_format.cpp builds it.
ChatFormat format_for(const std::string& dir, const std::string& eot) {
  const std::string d = kData + "/chat_templates/" + dir;
  const ordered_json cases = ordered_json::parse(read(d + "/render_cases.json"));
  ordered_json extra = ordered_json::object();
  for (auto& [k, v] : cases["special_tokens"].items()) extra[k] = v;
  return ChatFormat(ChatTemplate(read(d + "/chat_template.jinja"), dir), extra, eot);
}

// The text of each maximal run of loss tokens.
std::vector<std::string> masked_runs(const Tokenizer& tok, const SftExample& ex) {
  std::vector<std::string> runs;
  std::vector<int32_t> cur;
  for (size_t t = 0; t <= ex.ids.size(); ++t) {
    if (t < ex.ids.size() && ex.loss_mask[t]) {
      cur.push_back(ex.ids[t]);
    } else if (!cur.empty()) {
      runs.push_back(tok.decode(cur));
      cur.clear();
    }
  }
  return runs;
}

// --- formats and masks ----------------------------------------------------------------------

TEST(SftLoad, PromptCompletionTrainsOnTheCompletionAndEos) {
  const Tokenizer& tok = smollm2();
  SftLoadStats st;
  const auto ex = load_sft_dataset(kSft + "prompt_completion.jsonl", tok, nullptr, {}, &st);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(st.rows, 3);
  EXPECT_EQ(st.kept, 3);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"Translate to French: cat\n", "chat"}, {"2 + 2 =", " 4"}, {"Say hi.", " Hi!"}};
  for (size_t i = 0; i < ex.size(); ++i) {
    ASSERT_EQ(ex[i].ids.size(), ex[i].loss_mask.size());
    // Prompt and completion are tokenized apart, then the EOS (SmolLM2 adds no BOS).
    std::vector<int32_t> ids = tok.encode(want[i].first);
    const std::vector<int32_t> c = tok.encode(want[i].second);
    ids.insert(ids.end(), c.begin(), c.end());
    if (ids.back() != tok.eos_id()) ids.push_back(tok.eos_id());
    EXPECT_EQ(ex[i].ids, ids) << i;
    EXPECT_EQ(masked_runs(tok, ex[i]), std::vector<std::string>{want[i].second + "<|im_end|>"})
        << i;
  }
  EXPECT_EQ(ex[0].source_line, 1);
  EXPECT_EQ(ex[2].source_line, 4);  // the blank line 3 is skipped, not renumbered
  // The third completion already ends with the EOS text: no second EOS.
  EXPECT_NE(ex[2].ids[ex[2].ids.size() - 2], tok.eos_id());
}

TEST(SftLoad, BosComesFirstWhenTheTokenizerAddsIt) {
  TokenizerSpec spec = smollm2().spec();
  spec.add_bos = true;
  spec.bos_id = 0;  // <|endoftext|>
  const Tokenizer tok(spec);
  const auto plain =
      load_sft_dataset(kSft + "prompt_completion.jsonl", smollm2(), nullptr, {}, nullptr);
  const auto with_bos =
      load_sft_dataset(kSft + "prompt_completion.jsonl", tok, nullptr, {}, nullptr);
  ASSERT_EQ(plain.size(), with_bos.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    std::vector<int32_t> ids = {0};
    ids.insert(ids.end(), plain[i].ids.begin(), plain[i].ids.end());
    EXPECT_EQ(with_bos[i].ids, ids);
    std::vector<uint8_t> mask = {0};
    mask.insert(mask.end(), plain[i].loss_mask.begin(), plain[i].loss_mask.end());
    EXPECT_EQ(with_bos[i].loss_mask, mask);
  }
}

TEST(SftLoad, FinalEosIsATargetEvenWhenPadIsEos) {
  const Tokenizer& tok = smollm2();
  ASSERT_EQ(tok.pad_id(), tok.eos_id());  // SmolLM2 pads with <|im_end|>, its EOS
  for (const char* file : {"prompt_completion.jsonl", "text.jsonl"}) {
    const auto ex = load_sft_dataset(kSft + file, tok, nullptr, {}, nullptr);
    std::vector<int32_t> all(ex.size());
    for (size_t i = 0; i < ex.size(); ++i) all[i] = static_cast<int32_t>(i);
    const Batch b = make_batch(ex, all, 1);
    for (int64_t s = 0; s < b.num_sequences(); ++s) {
      const int32_t last = b.seq_start[s + 1] - 1;
      EXPECT_EQ(b.tokens[last], tok.eos_id()) << file << " " << s;
      EXPECT_EQ(b.targets[last - 1], tok.eos_id()) << file << " " << s;
      EXPECT_EQ(b.targets[last], -1) << file << " " << s;  // nothing after the sequence
    }
  }
}

TEST(SftLoad, TextTrainsOnEveryTokenAfterTheFirst) {
  const Tokenizer& tok = smollm2();
  const auto ex = load_sft_dataset(kSft + "text.jsonl", tok, nullptr, {}, nullptr);
  ASSERT_EQ(ex.size(), 2u);
  const std::vector<int32_t> ids = tok.encode("The quick brown fox jumps over the lazy dog.");
  ASSERT_EQ(ex[0].ids.size(), ids.size() + 1);
  EXPECT_EQ(ex[0].loss_mask[0], 0);  // no token before it to predict it from
  EXPECT_EQ(std::count(ex[0].loss_mask.begin(), ex[0].loss_mask.end(), 1),
            static_cast<int64_t>(ids.size()));
  EXPECT_EQ(masked_runs(tok, ex[0]),
            std::vector<std::string>{tok.decode({ids.begin() + 1, ids.end()}) + "<|im_end|>"});

  SftLoadOptions opt;
  opt.loss_on = SftLoadOptions::LossOn::kCompletion;
  EXPECT_NE(error_of([&] {
              load_sft_dataset(kSft + "text.jsonl", tok, nullptr, opt, nullptr);
            }).find("text.jsonl:1: text: a text row has no prompt/answer split"),
            std::string::npos);
}

TEST(SftLoad, ChatMasksEachAssistantTurnWithItsEndOfTurn) {
  const Tokenizer& tok = smollm2();
  const ChatFormat& chat = smollm2_chat();
  ASSERT_EQ(chat.end_of_turn(), "<|im_end|>");
  SftLoadStats st;
  const auto ex = load_sft_dataset(kSft + "chat.jsonl", tok, &chat, {}, &st);
  ASSERT_EQ(ex.size(), 4u);
  EXPECT_EQ(st.rows, 4);
  EXPECT_EQ(masked_runs(tok, ex[0]),
            (std::vector<std::string>{"Hi, how can I help?<|im_end|>",
                                      "Why did the chicken cross the road?<|im_end|>"}));
  // SmolLM2's template ignores tools: the call is written as a Hermes <tool_call> by the
  // assistant, and the tool's reply is a user turn that carries no loss.
  const std::vector<std::string> tool_turns = {
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
      "<|im_end|>",
      "18C and sunny.<|im_end|>"};
  EXPECT_EQ(masked_runs(tok, ex[1]), tool_turns);
  EXPECT_EQ(masked_runs(tok, ex[2]), tool_turns);
  // The tools are per row: row 2 has a system prompt with the tool list, and so does row 3.
  EXPECT_NE(tok.decode(ex[1].ids).find("You are terse.\n\n# Tools"), std::string::npos);
  EXPECT_NE(tok.decode(ex[2].ids).find("<tools>\n{\"type\": \"function\""), std::string::npos);
  // Arguments as a JSON string (row 3) or as an object (row 4): the same ids.
  EXPECT_EQ(ex[2].ids, ex[3].ids);
  EXPECT_EQ(ex[2].loss_mask, ex[3].loss_mask);
  // Every masked run ends with the end-of-turn token itself: the model learns to stop.
  const int32_t im_end = *tok.token_id("<|im_end|>");
  for (const auto& e : ex)
    for (size_t t = 0; t + 1 < e.ids.size(); ++t)
      if (e.loss_mask[t] && !e.loss_mask[t + 1]) {
        EXPECT_EQ(e.ids[t], im_end);
      }
}

// Templates that render tools themselves, with their turn markers as special tokens.
TEST(SftLoad, ChatMaskEndsWithTheEndOfTurnOnEveryTemplate) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Qwen2.5-0.5B-Instruct", "<|im_end|>"},
      {"Qwen3-0.6B", "<|im_end|>"},
      {"Llama-3.2-1B-Instruct", "<|eot_id|>"}};
  for (const auto& [dir, eot] : cases) {
    const Tokenizer tok = smollm2().with_special_tokens(
        {"<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
         "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"});
    const ChatFormat chat = format_for(dir, eot);
    const auto ex = load_sft_dataset(kSft + "chat.jsonl", tok, &chat, {}, nullptr);
    ASSERT_EQ(ex.size(), 4u) << dir;
    const std::vector<std::string> runs = masked_runs(tok, ex[0]);
    ASSERT_EQ(runs.size(), 2u) << dir;
    EXPECT_EQ(runs[0], "Hi, how can I help?" + eot) << dir;
    // Qwen3 writes an empty <think> block into the last reply, which the model writes too.
    EXPECT_NE(runs[1].find("Why did the chicken cross the road?" + eot), std::string::npos) << dir;
    const std::vector<std::string> call = masked_runs(tok, ex[1]);
    ASSERT_EQ(call.size(), 2u) << dir;
    EXPECT_NE(call[0].find("get_weather"), std::string::npos) << dir;
    EXPECT_EQ(call[0].find("18C, sunny"), std::string::npos) << dir;  // the tool's reply: no loss
    EXPECT_EQ(call[0].substr(call[0].size() - eot.size()), eot) << dir;
    EXPECT_EQ(ex[2].ids, ex[3].ids) << dir;  // string vs object arguments
  }
}

TEST(SftLoad, ShareGptArrayFileBecomesMessages) {
  const Tokenizer& tok = smollm2();
  const ChatFormat& chat = smollm2_chat();
  const auto ex = load_sft_dataset(kSft + "sharegpt.json", tok, &chat, {}, nullptr);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].source_line, 2);
  EXPECT_EQ(ex[1].source_line, 11);
  EXPECT_EQ(masked_runs(tok, ex[0]),
            (std::vector<std::string>{
                "<tool_call>\n{\"name\": \"convert_currency\", \"arguments\": {\"amount\": 100, "
                "\"from\": \"USD\", \"to\": \"EUR\"}}\n</tool_call><|im_end|>",
                "100 USD is 92.50 EUR.<|im_end|>"}));
  const std::string text = tok.decode(ex[0].ids);
  EXPECT_NE(text.find("{\"type\": \"function\", \"function\": {\"name\": \"convert_currency\""),
            std::string::npos);
  EXPECT_NE(text.find("<tool_response>\n{\"result\": 92.5}\n</tool_response>"), std::string::npos);
  EXPECT_EQ(masked_runs(tok, ex[1]),
            std::vector<std::string>{"Hello! [brackets], {braces} and \"quotes\".<|im_end|>"});
}

TEST(SftLoad, FormatsMixPerRowAndLossOnAllCoversEverything) {
  const Tokenizer& tok = smollm2();
  const std::string path =
      write_temp("mixed.jsonl",
                 "{\"text\": \"plain text\"}\n"
                 "{\"prompt\": \"Q: 1+1?\", \"completion\": \" 2\"}\n"
                 "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, "
                 "{\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": \"Hel\"}, "
                 "{\"type\": \"text\", \"text\": \"lo\"}]}]}\n");
  const auto ex = load_sft_dataset(path, tok, &smollm2_chat(), {}, nullptr);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(masked_runs(tok, ex[1]), std::vector<std::string>{" 2<|im_end|>"});
  EXPECT_EQ(masked_runs(tok, ex[2]), std::vector<std::string>{"Hello<|im_end|>"});  // parts joined
  SftLoadOptions all;
  all.loss_on = SftLoadOptions::LossOn::kAll;
  for (const auto& e : load_sft_dataset(path, tok, &smollm2_chat(), all, nullptr)) {
    EXPECT_EQ(e.loss_mask[0], 0);
    EXPECT_EQ(std::count(e.loss_mask.begin(), e.loss_mask.end(), 1),
              static_cast<int64_t>(e.ids.size()) - 1);
  }
  // One conversation written over several lines is one row.
  const std::string one =
      write_temp("one.json", "\n{\n  \"prompt\": \"a\",\n  \"completion\": \" b\"\n}\n");
  const auto single = load_sft_dataset(one, tok, nullptr, {}, nullptr);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].source_line, 2);
  EXPECT_EQ(masked_runs(tok, single[0]), std::vector<std::string>{" b<|im_end|>"});
}

// Real third-party tool-calling conversations (tests/data/third_party/README.md).
TEST(SftLoad, GlaiveToolCallingDemoLoads) {
  const std::string path = kData + "/third_party/glaive_toolcall_en_demo.json";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const Tokenizer& tok = smollm2();
  SftLoadOptions opt;
  opt.max_seq_len = 4096;
  SftLoadStats st;
  const auto ex = load_sft_dataset(path, tok, &smollm2_chat(), opt, &st);
  EXPECT_EQ(st.rows, 300);
  EXPECT_EQ(st.kept + st.dropped_too_long, 300)
      << (st.first_errors.empty() ? "" : st.first_errors[0]);
  int calls = 0;
  for (const auto& e : ex)
    for (const std::string& run : masked_runs(tok, e)) {
      EXPECT_EQ(run.substr(run.size() - 10), "<|im_end|>");
      EXPECT_EQ(run.find("<|im_start|>"), std::string::npos);
      calls += run.rfind("<tool_call>\n{\"name\": ", 0) == 0;
    }
  EXPECT_GT(calls, 150);
}

// --- errors ---------------------------------------------------------------------------------

TEST(SftLoad, BadRowsNameFileLineAndField) {
  const Tokenizer& tok = smollm2();
  const ChatFormat& chat = smollm2_chat();
  const std::string all = read(kSft + "bad.jsonl");
  std::vector<std::string> lines;
  for (size_t at = 0, nl; at < all.size(); at = nl + 1) {
    nl = all.find('\n', at);
    lines.push_back(all.substr(at, nl - at));
  }
  // Each broken row alone (after a good one, so it sits on line 2).
  const std::vector<std::pair<int, std::string>> want = {
      {2, "x.jsonl:2: messages[1].role: expected one of system, user, assistant, tool; got 'bot'"},
      {3, "x.jsonl:2:32: invalid JSON: syntax error while parsing object"},
      {4, "x.jsonl:2: completion: missing"},
      {5, "x.jsonl:2: messages[1].tool_calls[0].function.arguments: not valid JSON"},
      {7,
       "x.jsonl:2: conversations[1].from: expected one of human, gpt, system, function_call, "
       "observation, tool; got 'robot'"},
      {8, "x.jsonl:2: text: expected a string, got number"}};
  for (const auto& [line, msg] : want) {
    const std::string path = write_temp("x.jsonl", lines[0] + "\n" + lines[line - 1] + "\n");
    const std::string err = error_of([&] { load_sft_dataset(path, tok, &chat, {}, nullptr); });
    EXPECT_NE(err.find(msg), std::string::npos) << "line " << line << ": " << err;
  }
  EXPECT_NE(error_of([&] {
              load_sft_dataset(kSft + "bad.jsonl", tok, &chat, {}, nullptr);
            }).find("bad.jsonl:2: messages[1].role"),
            std::string::npos);
  // No chat template for a chat row.
  EXPECT_NE(error_of([&] {
              load_sft_dataset(kSft + "chat.jsonl", tok, nullptr, {}, nullptr);
            }).find("chat.jsonl:1: messages: chat rows need the model's chat template"),
            std::string::npos);
  // An array file that is not JSON: line and column of the fault.
  const std::string arr = write_temp("x.json", "[\n  {\"text\": \"a\"},\n  {\"text\" \"b\"}\n]\n");
  const std::string arr_err = error_of([&] { load_sft_dataset(arr, tok, nullptr, {}, nullptr); });
  EXPECT_NE(arr_err.find("x.json:3:13: invalid JSON"), std::string::npos) << arr_err;
}

TEST(SftLoad, SkipInvalidCountsAndKeepsTheFirstErrors) {
  SftLoadOptions opt;
  opt.skip_invalid = true;
  SftLoadStats st;
  const auto ex = load_sft_dataset(kSft + "bad.jsonl", smollm2(), &smollm2_chat(), opt, &st);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].source_line, 1);
  EXPECT_EQ(ex[1].source_line, 9);
  EXPECT_EQ(st.rows, 9);
  EXPECT_EQ(st.kept, 2);
  EXPECT_EQ(st.skipped_invalid, 6);
  EXPECT_EQ(st.no_loss_tokens, 1);  // line 6: a user turn alone
  ASSERT_EQ(st.first_errors.size(), 5u);
  EXPECT_NE(st.first_errors[0].find("bad.jsonl:2: messages[1].role"), std::string::npos);
  EXPECT_NE(st.first_errors[4].find("bad.jsonl:7: conversations[1].from"), std::string::npos);
  int64_t loss = 0, tokens = 0;
  for (const auto& e : ex) {
    tokens += static_cast<int64_t>(e.ids.size());
    loss += std::count(e.loss_mask.begin(), e.loss_mask.end(), 1);
  }
  EXPECT_EQ(st.tokens, tokens);
  EXPECT_EQ(st.loss_tokens, loss);
}

TEST(SftLoad, EmptyFilesAreErrors) {
  const Tokenizer& tok = smollm2();
  EXPECT_NE(error_of([&] {
              load_sft_dataset(kSft + "empty.jsonl", tok, nullptr, {}, nullptr);
            }).find("empty.jsonl: the file is empty"),
            std::string::npos);
  const std::string arr = write_temp("empty_array.json", " []\n");
  EXPECT_NE(error_of([&] { load_sft_dataset(arr, tok, nullptr, {}, nullptr); }).find("no rows"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_sft_dataset(kSft + "missing.jsonl", tok, nullptr, {}, nullptr);
            }).find("missing.jsonl: cannot open"),
            std::string::npos);
}

TEST(SftLoad, LongSequencesAreDroppedOrTruncated) {
  const Tokenizer& tok = smollm2();
  const int64_t prompt2 = static_cast<int64_t>(
      tok.encode(
             "This prompt is rather long, long enough that the answer falls past the cut entirely.")
          .size());
  SftLoadOptions opt;
  opt.max_seq_len = 8;
  ASSERT_GT(prompt2, opt.max_seq_len);
  SftLoadStats st;
  auto ex = load_sft_dataset(kSft + "long.jsonl", tok, nullptr, opt, &st);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(st.dropped_too_long, 2);
  EXPECT_EQ(st.truncated, 0);

  opt.truncation = SftLoadOptions::Truncation::kTruncate;
  ex = load_sft_dataset(kSft + "long.jsonl", tok, nullptr, opt, &st);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(st.truncated, 1);
  EXPECT_EQ(st.dropped_too_long, 1);  // truncation left row 2 no loss token
  EXPECT_EQ(ex[1].source_line, 3);
  EXPECT_EQ(ex[1].ids.size(), 8u);
  const std::vector<int32_t> q = tok.encode("Q:");
  std::vector<int32_t> want = q;
  const std::vector<int32_t> c =
      tok.encode(" this completion is long enough to be cut but some of it stays");
  want.insert(want.end(), c.begin(), c.begin() + (8 - q.size()));
  EXPECT_EQ(ex[1].ids, want);
}

// --- packing and batches --------------------------------------------------------------------

TEST(Packing, FirstFitDecreasingKeepsEveryIndexOnceWithinTheRow) {
  const std::vector<int64_t> lengths = {5, 3, 8, 2, 7, 1, 4, 6, 3, 8, 2, 2};
  const auto rows = pack_sequences(lengths, 10);
  std::vector<int> seen(lengths.size(), 0);
  int64_t total = 0;
  for (const auto& row : rows) {
    int64_t used = 0;
    for (int32_t i : row) used += lengths[i], ++seen[i];
    EXPECT_LE(used, 10);
    total += used;
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(rows.size(), static_cast<size_t>((total + 9) / 10));  // this set packs perfectly
  // Longest first, ties by index: 8 (index 2) opens row 0, 8 (index 9) row 1.
  EXPECT_EQ(rows[0][0], 2);
  EXPECT_EQ(rows[1][0], 9);
  EXPECT_EQ(pack_sequences(lengths, 10), rows);
  EXPECT_NE(error_of([&] {
              pack_sequences({3, 11}, 10);
            }).find("sequence 1 has 11 tokens"),
            std::string::npos);
  EXPECT_TRUE(pack_sequences({}, 10).empty());
}

TEST(Packing, RandomLengthsNeverOverflow) {
  Rng rng(7);
  std::vector<int64_t> lengths(2000);
  for (auto& l : lengths) l = 1 + static_cast<int64_t>(rng.next_u64() % 512);
  const auto rows = pack_sequences(lengths, 512);
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& row : rows) {
    int64_t used = 0;
    for (int32_t i : row) used += lengths[i], ++seen[i];
    EXPECT_LE(used, 512);
  }
  for (int s : seen) ASSERT_EQ(s, 1);
}

TEST(Packing, MakeBatchLaysSequencesEndToEnd) {
  std::vector<SftExample> ex(3);
  ex[0] = {{10, 11, 12, 13}, {0, 0, 1, 1}, 1};
  ex[1] = {{20, 21}, {0, 1}, 2};
  ex[2] = {{30, 31, 32}, {0, 1, 0}, 3};
  const Batch b = make_batch(ex, {2, 0, 1}, 1);
  EXPECT_EQ(b.tokens, (std::vector<int32_t>{30, 31, 32, 10, 11, 12, 13, 20, 21}));
  EXPECT_EQ(b.positions, (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(b.seq_start, (std::vector<int32_t>{0, 3, 7, 9}));
  // A target never crosses into the next sequence, even when that one's first token is masked.
  EXPECT_EQ(b.targets, (std::vector<int32_t>{31, -1, -1, -1, 12, 13, -1, 21, -1}));
  EXPECT_EQ(b.rows, 1);
  EXPECT_EQ(b.num_sequences(), 3);
  EXPECT_EQ(b.num_loss_tokens(), 4);
}

// --- batch order ----------------------------------------------------------------------------

std::vector<std::vector<int32_t>> epoch_batches(const BatchSampler& s, int64_t epoch) {
  std::vector<std::vector<int32_t>> out;
  for (int64_t i = 0; i < s.batches_per_epoch(epoch); ++i) out.push_back(s.batch_indices(epoch, i));
  return out;
}

std::vector<int64_t> some_lengths() {
  std::vector<int64_t> lengths(101);
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = 5 + static_cast<int64_t>((i * 37) % 60);
  return lengths;
}

TEST(BatchSampler, PackedEpochCoversEveryExampleOnceInFullRows) {
  const auto lengths = some_lengths();
  const BatchSampler s(lengths, 128, 4, true, 42);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::vector<int> seen(lengths.size(), 0);
    int64_t rows = 0;
    const int64_t n = s.batches_per_epoch(epoch);
    for (int64_t i = 0; i < n; ++i) {
      const auto idx = s.batch_indices(epoch, i);
      int64_t tokens = 0;
      for (int32_t k : idx) ++seen[k], tokens += lengths[k];
      EXPECT_LE(tokens, 128 * s.rows_in_batch(epoch, i));
      EXPECT_TRUE(i + 1 == n ? s.rows_in_batch(epoch, i) <= 4 : s.rows_in_batch(epoch, i) == 4);
      rows += s.rows_in_batch(epoch, i);
    }
    for (int c : seen) EXPECT_EQ(c, 1);
    EXPECT_EQ(n, (rows + 3) / 4);
  }
}

TEST(BatchSampler, SameSeedSameOrderOtherSeedOrEpochOther) {
  const auto lengths = some_lengths();
  for (const bool packing : {true, false}) {
    const BatchSampler a(lengths, 128, 4, packing, 42), b(lengths, 128, 4, packing, 42),
        c(lengths, 128, 4, packing, 43);
    EXPECT_EQ(epoch_batches(a, 0), epoch_batches(b, 0)) << packing;
    EXPECT_EQ(epoch_batches(a, 3), epoch_batches(b, 3)) << packing;
    EXPECT_NE(epoch_batches(a, 0), epoch_batches(c, 0)) << packing;
    EXPECT_NE(epoch_batches(a, 0), epoch_batches(a, 1)) << packing;
  }
}

TEST(BatchSampler, BatchIndicesArePureSoARunCanResume) {
  const auto lengths = some_lengths();
  const BatchSampler a(lengths, 128, 3, true, 9);
  const auto e1 = epoch_batches(a, 1);
  // Asked out of order, across epochs, and from a fresh sampler (a resumed run): the same.
  const BatchSampler resumed(lengths, 128, 3, true, 9);
  for (int64_t i = static_cast<int64_t>(e1.size()) - 1; i >= 0; --i) {
    EXPECT_EQ(a.batch_indices(1, i), e1[i]);
    (void)a.batch_indices(0, i % a.batches_per_epoch(0));
    EXPECT_EQ(resumed.batch_indices(1, i), e1[i]);
  }
}

TEST(BatchSampler, UnpackedBatchesHoldBatchSizeSequences) {
  const auto lengths = some_lengths();
  const BatchSampler s(lengths, 0, 8, false, 1);
  ASSERT_EQ(s.batches_per_epoch(0), 13);  // 101 = 12 * 8 + 5: nothing dropped
  std::set<int32_t> seen;
  for (int64_t i = 0; i < 13; ++i) {
    const auto idx = s.batch_indices(0, i);
    EXPECT_EQ(static_cast<int64_t>(idx.size()), s.rows_in_batch(0, i));
    EXPECT_EQ(idx.size(), i < 12 ? 8u : 5u);
    seen.insert(idx.begin(), idx.end());
  }
  EXPECT_EQ(seen.size(), lengths.size());
  EXPECT_NE(
      error_of([&] { BatchSampler(lengths, 32, 8, true, 1); }).find("more than the row length"),
      std::string::npos);
}

TEST(Split, SeededAndDisjoint) {
  std::vector<SftExample> ex(50);
  for (size_t i = 0; i < ex.size(); ++i)
    ex[i] = {{static_cast<int32_t>(i), 1}, {0, 1}, int64_t(i + 1)};
  const SftSplit a = split_train_eval(ex, 0.2, 0, 5), b = split_train_eval(ex, 0.2, 0, 5),
                 c = split_train_eval(ex, 0.2, 0, 6);
  ASSERT_EQ(a.eval.size(), 10u);
  ASSERT_EQ(a.train.size(), 40u);
  auto lines = [](const std::vector<SftExample>& v) {
    std::vector<int64_t> out;
    for (const auto& e : v) out.push_back(e.source_line);
    return out;
  };
  EXPECT_EQ(lines(a.eval), lines(b.eval));
  EXPECT_NE(lines(a.eval), lines(c.eval));
  std::set<int64_t> all;
  for (int64_t l : lines(a.eval)) all.insert(l);
  for (int64_t l : lines(a.train)) EXPECT_TRUE(all.insert(l).second) << l;  // disjoint
  EXPECT_EQ(all.size(), 50u);
  const std::vector<int64_t> train_lines = lines(a.train);
  EXPECT_TRUE(std::is_sorted(train_lines.begin(), train_lines.end()));  // file order kept
  EXPECT_EQ(split_train_eval(ex, 0.9, 3, 5).eval.size(), 3u);  // a count wins over the fraction
  EXPECT_NE(error_of([&] { split_train_eval(ex, 0.0, 50, 5); }).find("leaves none"),
            std::string::npos);
}

}  // namespace
}  // namespace tsft
