// The recipes end to end on the default model, shrunk to a few rows and steps: generated data and
// its split, the hand-written test set rendered in the recipe's layout, training, the reports on
// base and fine-tuned model with their headline numbers, reuse of a finished run, the domain
// system prompt in tool-calling rows, tool-call quality logged during training, and the config
// errors of the recipe sections.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "test_util.h"

namespace {

using tsft::testing::CliResult;
using tsft::testing::read_text;
namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBin = TSFT_BINARY;
const std::string kRepo = std::string(TSFT_TEST_DATA_DIR) + "/../..";
const std::string kDefaultModel = tsft::testing::default_model_path();
const std::string kHandwritten = std::string(TSFT_TEST_DATA_DIR) + "/handwritten/tool_selection.jsonl";

CliResult run(const std::string& args) { return tsft::testing::run_binary(kBin, args); }

using tsft::testing::read_json;
using tsft::testing::read_jsonl;
std::string temp_dir(const std::string& name) {
  return tsft::testing::fresh_temp_dir("recipe_" + name);
}

TEST(Recipe, ToolSelectionQuickEndToEnd) {
  const std::string d = temp_dir("selection");
  const std::string cmd = "train --config " + kRepo + "/configs/tool_selection_quick.yaml " +
                          "--num-examples 20 --max-steps 2 --output-dir " + d +
                          " --report.max_examples 6 --train.progress false --model.threads 2";
  const CliResult r = run(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.out;

  // Data: 20 rows, 4 held out (seed 42), the sentinel answers; hand-written set rendered.
  const auto train = read_jsonl(d + "/data/train.jsonl");
  const auto eval = read_jsonl(d + "/data/eval.jsonl");
  EXPECT_EQ(train.size(), 16u);
  EXPECT_EQ(eval.size(), 4u);
  std::set<std::string> prompts;
  for (const auto& row : train) prompts.insert(row["prompt"].get<std::string>());
  for (const auto& row : eval) {
    EXPECT_EQ(prompts.count(row["prompt"].get<std::string>()), 0u) << "held-out row in training";
    EXPECT_EQ(row["completion"].get<std::string>().rfind("<tool>", 0), 0u);
  }
  const auto hand = read_jsonl(d + "/data/handwritten.jsonl");
  ASSERT_EQ(hand.size(), read_jsonl(kHandwritten).size());
  EXPECT_EQ(hand[0]["prompt"].get<std::string>().rfind("Choose the one tool", 0), 0u);
  EXPECT_EQ(hand[0]["completion"].get<std::string>().rfind("<tool>", 0), 0u);

  // Trained, then base vs final on the held-out rows and on the hand-written ones.
  EXPECT_TRUE(fs::exists(d + "/model/model.safetensors")) << r.out;
  for (const char* rep : {"/report", "/report-handwritten"}) {
    const json j = read_json(d + rep + "/report.json");
    ASSERT_EQ(j["models"].size(), 2u) << rep;  // report.checkpoints: false
    EXPECT_EQ(j["models"][0]["name"], "base");
    EXPECT_EQ(j["models"][1]["name"], "final");
    EXPECT_TRUE(j["models"][1]["tool_selection"]["accuracy"].is_number());
    EXPECT_TRUE(fs::exists(d + rep + "/report.html"));
  }
  // The confidence gate: each model's threshold is chosen on the held-out rows and applied to the
  // hand-written ones (none for a model that reached no threshold on the held-out rows).
  const json held = read_json(d + "/report/report.json");
  const json handwritten = read_json(d + "/report-handwritten/report.json");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(held["models"][i]["tool_selection"]["gate"]["fixed_threshold"].is_null());
    const json& chosen = held["models"][i]["tool_selection"]["gate"]["operating_point"];
    const json& applied = handwritten["models"][i]["tool_selection"]["gate"];
    if (chosen.is_null()) {
      EXPECT_TRUE(applied["fixed_threshold"].is_null()) << i;
      continue;
    }
    EXPECT_EQ(applied["fixed_threshold"]["threshold"], chosen["threshold"]) << i;
    EXPECT_EQ(applied["fixed_threshold_from"], d + "/report/report.json") << i;
  }
  EXPECT_NE(r.out.find("report: " + d + "/report/report.html"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("held-out (4 examples): accuracy "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("handwritten (6 examples): accuracy "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("added 1 special token"), std::string::npos) << r.out;
  const json s = read_json(d + "/recipe_summary.json");
  EXPECT_GT(s["wall_seconds"].get<double>(), 0);
  EXPECT_GT(s["peak_rss_mib"].get<double>(), 100);
  EXPECT_EQ(s["data"]["train"], 16);
  EXPECT_TRUE(s["reports"]["held-out"]["metrics"]["accuracy"].contains("base"));

  // The same command again reuses the finished run instead of training it twice (also with keys
  // that do not change what is trained, such as resume_from).
  const CliResult again = run(cmd + " --train.resume_from latest --model.threads 1");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("training skipped"), std::string::npos) << again.out;
  EXPECT_EQ(read_jsonl(d + "/data/train.jsonl"), train);  // the same seed writes the same rows
}

TEST(Recipe, GenerateOnlyAndBaseModelInference) {
  const std::string d = temp_dir("gen_only");
  const CliResult g = run("train --config " + kRepo + "/configs/tool_selection.yaml " +
                          "--generate-only --num-examples 50 --output-dir " + d);
  ASSERT_EQ(g.exit_code, 0) << g.out;
  EXPECT_NE(g.out.find("--generate-only: stopping here"), std::string::npos);
  EXPECT_EQ(read_jsonl(d + "/data/train.jsonl").size(), 40u);
  EXPECT_EQ(read_jsonl(d + "/data/eval.jsonl").size(), 10u);
  EXPECT_FALSE(fs::exists(d + "/model"));

  const CliResult b = run("train --config " + kRepo + "/configs/tool_selection.yaml " +
                          "--base-model-inference --num-examples 30 --output-dir " + d +
                          " --report.max_examples 3 --model.threads 2");
  ASSERT_EQ(b.exit_code, 0) << b.out;
  const json j = read_json(d + "/report/report.json");
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["name"], "base");
  EXPECT_FALSE(fs::exists(d + "/model"));
  EXPECT_FALSE(fs::exists(d + "/metrics.jsonl"));
}

TEST(Recipe, ToolCallingDomainRowsAndTaskEvalDuringTraining) {
  const std::string d = temp_dir("calling");
  const CliResult r = run("train --config " + kRepo + "/configs/tool_calling.yaml " +
                          "--num-examples 20 --max-steps 1 --eval.task_examples 1 --max-seq-len 1536 " +
                          "--batch-size 1 --grad-accum 1 " +
                          "--report.max_examples 1 --report.max_new_tokens 24 --report.base false " +
                          "--output-dir " + d + " --train.progress false --model.threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto train = read_jsonl(d + "/data/train.jsonl");
  ASSERT_EQ(train.size(), 18u);
  std::set<std::string> systems;
  for (const auto& row : train) {
    const json& first = row["messages"][0];
    ASSERT_EQ(first["role"], "system");
    const std::string text = first["content"].get<std::string>();
    EXPECT_EQ(text.rfind("You are Sam, the virtual assistant of Northgate Motors", 0), 0u);
    EXPECT_NE(text.find("Current date and time: "), std::string::npos);
    EXPECT_EQ(text.find("{{"), std::string::npos);
    systems.insert(text);
    EXPECT_TRUE(row.contains("tools"));
  }
  EXPECT_EQ(systems.size(), train.size()) << "every row has its own date line / section order";
  // Tool-call quality of the training weights joined the eval line of metrics.jsonl: every
  // assistant turn of the first held-out session is scored.
  const auto held = read_jsonl(d + "/data/eval.jsonl");
  ASSERT_FALSE(held.empty());
  int assistant_turns = 0;
  for (const auto& m : held[0]["messages"]) assistant_turns += m["role"] == "assistant";
  ASSERT_GE(assistant_turns, 1);
  bool logged = false;
  for (const auto& m : read_jsonl(d + "/metrics.jsonl"))
    if (m.contains("eval_loss")) {
      logged = true;
      EXPECT_TRUE(m.contains("task_name_f1")) << m.dump();
      EXPECT_TRUE(m.contains("task_hallucinated_call_rate")) << m.dump();
      EXPECT_EQ(m["task_turns"], assistant_turns);
    }
  EXPECT_TRUE(logged);
  const json j = read_json(d + "/report/report.json");
  EXPECT_EQ(j["task"], "tool_calling");
  EXPECT_EQ(j["models"].back()["name"], "final");
  EXPECT_TRUE(fs::exists(d + "/adapter/adapter_model.safetensors"));
  EXPECT_NE(r.out.find("tool-name F1"), std::string::npos) << r.out;
}

TEST(Recipe, UserRowsJoinTheGeneratedOnes) {
  const std::string d = temp_dir("user_rows");
  const std::string glaive = std::string(TSFT_TEST_DATA_DIR) + "/third_party/glaive_toolcall_en_demo.json";
  const CliResult r = run("train --config " + kRepo + "/configs/tool_calling.yaml --generate-only " +
                          "--num-examples 10 --data " + glaive + " --output-dir " + d);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto train = read_jsonl(d + "/data/train.jsonl");
  EXPECT_EQ(train.size(), 9u + 300u);
  EXPECT_NE(r.out.find("(300 from "), std::string::npos) << r.out;
  int64_t with_system = 0;
  for (const auto& row : train) {
    ASSERT_TRUE(row.contains("messages"));  // ShareGPT rows written in OpenAI layout
    with_system += row["messages"][0]["role"] == "system";
  }
  EXPECT_GE(with_system, 9);
}

// The row kinds of a tool-calling recipe come from generate.share_*: all ask-first here.
TEST(Recipe, RowKindSharesReachTheGenerator) {
  const std::string d = temp_dir("shares");
  std::string only_ask;
  for (const char* k : {"single", "distractors", "no_call", "parallel", "multi_turn", "follow_up"})
    only_ask += std::string(" --generate.share_") + k + " 0";
  const CliResult r = run("train --config " + kRepo + "/configs/tool_calling.yaml --generate-only " +
                          "--num-examples 10 --generate.share_ask_first 1" + only_ask +
                          " --output-dir " + d);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto train = read_jsonl(d + "/data/train.jsonl");
  ASSERT_EQ(train.size(), 9u);
  for (const auto& row : train) {
    const json& m = row["messages"];  // system, request, question, answer, call, result, reply
    ASSERT_EQ(m.size(), 7u) << row.dump();
    EXPECT_EQ(m[2]["role"], "assistant");
    EXPECT_FALSE(m[2].contains("tool_calls"));
    EXPECT_TRUE(m[4].contains("tool_calls"));
  }
  const CliResult bad = run("train --config " + kRepo + "/configs/tool_calling.yaml " +
                            "--generate-only --generate.share_ask_first 0.5 --output-dir " + d);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("the generate.share_* keys must sum to 1, got 1.4"), std::string::npos)
      << bad.out;
}

// The generalist recipe makes rows that each offer their own functions, none of them a
// hand-written evaluation function.
TEST(Recipe, GeneralistRecipeDrawsItsOwnFunctionsPerRow) {
  const std::string d = temp_dir("general");
  const CliResult r = run("train --config " + kRepo + "/configs/tool_calling_general.yaml " +
                          "--generate-only --num-examples 60 --output-dir " + d);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("generated 60 tool-calling-general rows"), std::string::npos) << r.out;
  const auto train = read_jsonl(d + "/data/train.jsonl");
  const auto held = read_jsonl(d + "/data/eval.jsonl");
  EXPECT_EQ(train.size() + held.size(), 60u);
  EXPECT_EQ(held.size(), 3u);
  std::set<std::string> handwritten;
  for (const auto& row : read_jsonl(std::string(TSFT_TEST_DATA_DIR) + "/handwritten/tool_calling.jsonl"))
    for (const auto& t : row["tools"]) handwritten.insert(t["function"]["name"].get<std::string>());
  ASSERT_GT(handwritten.size(), 60u);
  std::set<std::string> offered;
  for (const auto* rows : {&train, &held})
    for (const auto& row : *rows) {
      ASSERT_TRUE(row.contains("tools")) << row.dump();
      for (const auto& t : row["tools"]) {
        const std::string name = t["function"]["name"];
        EXPECT_EQ(handwritten.count(name), 0u) << name;
        offered.insert(name);
      }
    }
  EXPECT_GT(offered.size(), 40u);  // not one fixed tool set
  // The recipe asks for several requests per row over the same tools (requests_per_row).
  size_t longest = 0;
  for (const auto& row : train) {
    size_t users = 0;
    for (const auto& m : row["messages"]) users += m["role"] == "user";
    longest = std::max(longest, users);
  }
  EXPECT_GE(longest, 2u);
  // Options that belong to the other generators are refused, naming the key.
  const CliResult t = run("train --config " + kRepo + "/configs/tool_calling_general.yaml " +
                          "--generate-only --generate.tools x.json --output-dir " + d);
  EXPECT_NE(t.exit_code, 0);
  EXPECT_NE(t.out.find("generate.tools"), std::string::npos) << t.out;
  const CliResult s = run("train --config " + kRepo + "/configs/tool_calling_general.yaml " +
                          "--generate-only --generate.sentinel '<tool>' --output-dir " + d);
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.out.find("generate.sentinel"), std::string::npos) << s.out;
}

// The generalist's second stage draws fresh rows (its own seed): none of its requests is one the
// first stage trained on. It starts from the first stage's merged model, given here as --model
// since a fresh clone has no run.
TEST(Recipe, GeneralistSecondStageDrawsFreshRows) {
  const std::string d1 = temp_dir("general_stage1"), d2 = temp_dir("general_stage2");
  const CliResult a = run("train --config " + kRepo + "/configs/tool_calling_general.yaml " +
                          "--generate-only --num-examples 200 --output-dir " + d1);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  const CliResult b = run("train --config " + kRepo + "/configs/tool_calling_general_stage2.yaml " +
                          "--model " + kDefaultModel + " --generate-only --num-examples 200 " +
                          "--output-dir " + d2);
  ASSERT_EQ(b.exit_code, 0) << b.out;
  const auto user_texts = [](const std::string& dir) {
    std::set<std::string> out;
    for (const auto& row : read_jsonl(dir + "/data/train.jsonl"))
      for (const auto& m : row["messages"])
        if (m["role"] == "user") out.insert(m["content"].get<std::string>());
    return out;
  };
  const std::set<std::string> first = user_texts(d1), second = user_texts(d2);
  ASSERT_GT(second.size(), 150u);
  int shared = 0;
  for (const auto& t : second) shared += static_cast<int>(first.count(t));
  EXPECT_LE(shared, 2) << "the second stage repeats the first stage's requests";
}

// The tools a real dataset offers, written as a tools file the generator accepts.
TEST(Recipe, DataToolsWritesTheDatasetsTools) {
  const std::string d = temp_dir("data_tools");
  const std::string glaive = std::string(TSFT_TEST_DATA_DIR) + "/third_party/glaive_toolcall_en_demo.json";
  const CliResult r = run("data tools --data " + glaive + " --out " + d + "/tools.json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json tools = read_json(d + "/tools.json");
  ASSERT_TRUE(tools.is_array());
  ASSERT_GT(tools.size(), 20u);
  std::set<std::string> names;
  for (const auto& t : tools) {
    EXPECT_EQ(t["type"], "function");
    EXPECT_TRUE(names.insert(t["function"]["name"].get<std::string>()).second) << t.dump();
  }
  EXPECT_NE(r.out.find("wrote " + std::to_string(tools.size()) + " tools offered by 300 rows"),
            std::string::npos) << r.out;
  // glaive offers some names with several schemas: the first is kept and the others are named.
  EXPECT_NE(r.out.find("offered with more than one schema"), std::string::npos) << r.out;
  const CliResult g = run("gen tool-calling --n 12 --seed 3 --tools " + d + "/tools.json --out " +
                          d + "/gen.jsonl");
  ASSERT_EQ(g.exit_code, 0) << g.out;
  EXPECT_EQ(read_jsonl(d + "/gen.jsonl").size(), 12u);
}

TEST(Recipe, ConfigMistakesAreNamed) {
  const std::string d = temp_dir("errors");
  const std::string sel = "train --config " + kRepo + "/configs/tool_selection.yaml --output-dir " + d;
  auto err = [&](const std::string& args) {
    const CliResult r = run(args);
    EXPECT_NE(r.exit_code, 0) << args;
    return r.out;
  };
  EXPECT_NE(err(sel + " --data.eval x.jsonl").find("data.eval"), std::string::npos);
  EXPECT_NE(err(sel + " --generate.system_prompt p.md").find("generate.system_prompt"),
            std::string::npos);
  EXPECT_NE(err(sel + " --generate.requests_per_row 3").find("generate.requests_per_row"),
            std::string::npos);
  EXPECT_NE(err(sel + " --report.task none --base-model-inference").find("--base-model-inference"),
            std::string::npos);
  const std::string glaive =
      std::string(TSFT_TEST_DATA_DIR) + "/third_party/glaive_toolcall_en_demo.json";
  EXPECT_NE(err(sel + " --generate.task none --report.task none --generate-only --data " + glaive)
                .find("--generate-only: the config makes no data"),
            std::string::npos);
  EXPECT_NE(err(sel + " --generate.task none").find("missing required key data.train"),
            std::string::npos);
  // A hand-written row naming a tool the recipe does not offer: file and line.
  std::ofstream(d + "/bad.jsonl") << "{\"request\": \"hi\", \"tool\": \"calculator\"}\n"
                                  << "{\"request\": \"yo\", \"tool\": \"teleport\"}\n";
  EXPECT_NE(err(sel + " --num-examples 12 --report.test_data " + d + "/bad.jsonl")
                .find(d + "/bad.jsonl:2: tool: 'teleport' is not one of the recipe's tools"),
            std::string::npos);
  EXPECT_NE(err("train --config " + kRepo + "/configs/tool_calling.yaml --output-dir " + d +
                " --num-examples 0")
                .find("generate.num_examples"),
            std::string::npos);
}

}  // namespace
