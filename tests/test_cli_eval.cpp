// toolsft gen + eval end to end on the default model: both tool-selection modes, tool calling,
// perplexity and a training run's checkpoints, each writing report.json/.md/.html; bad inputs
// give one-line errors; toolsft data check on real and broken data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace {

using tsft::testing::CliResult;
using tsft::testing::read_text;

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBin = TSFT_BINARY;
const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kDefaultModel = tsft::testing::default_model_path();

CliResult run(const std::string& args) { return tsft::testing::run_binary(kBin, args); }

using tsft::testing::read_json;
std::string temp_dir(const std::string& name) { return tsft::testing::fresh_temp_dir("eval_" + name); }

void expect_report_files(const std::string& out) {
  for (const char* f : {"report.json", "report.md", "report.html"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << out << "/" << f;
  const std::string html = read_text(out + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
}

TEST(CliEval, ToolSelectionScoringAndGeneration) {
  const std::string d = temp_dir("sel");
  const CliResult g =
      run("gen tool-selection --n 12 --seed 3 --format chat --out " + d + "/data.jsonl");
  ASSERT_EQ(g.exit_code, 0) << g.out;
  const CliResult r = run("eval --data " + d + "/data.jsonl --mode both --threads 2 --model " +
                          kDefaultModel + " --name base --out " + d + "/report");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("| base (scoring)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("report: " + d + "/report/report.html"), std::string::npos) << r.out;
  expect_report_files(d + "/report");
  const json j = read_json(d + "/report/report.json");
  EXPECT_EQ(j["format"], "toolsft-eval/1");
  EXPECT_EQ(j["task"], "tool_selection");
  EXPECT_EQ(j["dataset"]["examples"], 12);
  ASSERT_EQ(j["models"].size(), 2u);
  const json& gen = j["models"][0]["tool_selection"];
  const json& s = j["models"][1]["tool_selection"];  // scoring last, so the report details it
  EXPECT_EQ(s["mode"], "scoring");
  EXPECT_EQ(gen["mode"], "generation");
  EXPECT_EQ(s["labels"].size(), 6u);
  EXPECT_EQ(s["n"], 12);
  EXPECT_EQ(s["invalid_rate"], 0.0);  // scoring always names a candidate
  EXPECT_TRUE(s["calibration"]["ece"].is_number());
  EXPECT_TRUE(gen["calibration"].is_null());
  int64_t total = 0;
  for (const auto& row : gen["confusion"])
    for (const auto& c : row) total += c.get<int64_t>();
  EXPECT_EQ(total, 12);
}

TEST(CliEval, ToolCallingAndPerplexity) {
  const std::string d = temp_dir("tc");
  ASSERT_EQ(run("gen tool-calling --n 4 --seed 5 --out " + d + "/calls.jsonl").exit_code, 0);
  const CliResult r = run("eval --task tool-calling --data " + d +
                          "/calls.jsonl --max-examples 3 --max-new-tokens 24 --threads 2 "
                          "--max-errors 1 --out " + d + "/report");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  expect_report_files(d + "/report");
  const json j = read_json(d + "/report/report.json");
  EXPECT_EQ(j["task"], "tool_calling");
  const json& tc = j["models"][0]["tool_calling"];
  EXPECT_EQ(tc["turns"], 3);
  EXPECT_EQ(tc["call_turns"].get<int>() + tc["no_call_turns"].get<int>(), 3);
  // --max-errors 1: the errors sample holds one failing turn if any turn failed.
  const auto rate = [&](const char* k) { return tc[k].is_null() ? 0.0 : tc[k].get<double>(); };
  const double failing = tc["call_turns"].get<int>() * (1.0 - rate("ast_accuracy")) +
                         tc["no_call_turns"].get<int>() * rate("hallucinated_call_rate");
  EXPECT_EQ(tc["errors"].size(), failing > 0.5 ? 1u : 0u);
  const CliResult bad = run("eval --task tool-calling --data " + d + "/calls.jsonl --max-errors -1 "
                            "--model " + kDefaultModel + " --out " + d + "/bad");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--max-errors"), std::string::npos) << bad.out;

  const CliResult p = run("eval --task perplexity --data " + kData +
                          "/third_party/glaive_toolcall_en_demo.json --max-examples 3 "
                          "--threads 2 --out " + d + "/ppl");
  ASSERT_EQ(p.exit_code, 0) << p.out;
  const json pj = read_json(d + "/ppl/report.json");
  const json& ppl = pj["models"][0]["perplexity"];
  EXPECT_GT(ppl["tokens"].get<int64_t>(), 100);
  EXPECT_GT(ppl["perplexity"].get<double>(), 1.0);
  EXPECT_LT(ppl["perplexity"].get<double>(), 100.0);  // an instruct model on chat replies
}

// --decoding both: each model twice, free and schema-constrained; the constrained replies hold no
// call that fails to parse or names an unknown function.
TEST(CliEval, ToolCallingFreeAndConstrainedCompared) {
  const std::string d = temp_dir("tc_constrained");
  ASSERT_EQ(run("gen tool-calling --n 4 --seed 5 --out " + d + "/calls.jsonl").exit_code, 0);
  const CliResult r = run("eval --task tool-calling --decoding both --data " + d +
                          "/calls.jsonl --max-examples 3 --max-new-tokens 48 --threads 2 --out " +
                          d + "/report");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json j = read_json(d + "/report/report.json");
  ASSERT_EQ(j["models"].size(), 2u);
  const json& free_run = j["models"][0];
  const json& constrained = j["models"][1];
  EXPECT_EQ(free_run["decoding"], "free");
  EXPECT_EQ(constrained["decoding"], "constrained");
  EXPECT_NE(constrained["name"].get<std::string>().find("(constrained)"), std::string::npos);
  EXPECT_TRUE(constrained["constraint_seconds"].is_number());
  EXPECT_EQ(constrained["tool_calling"]["turns"], 3);
  // The call gate: over the turns where the model called, with the rates at every threshold;
  // its threshold for a stated precision applies to other data by --gate-from (names matched).
  for (const json& m : j["models"]) {
    const json& g = m["tool_calling"]["gate"];
    ASSERT_TRUE(g.is_object()) << m.dump();
    EXPECT_EQ(g["rates"].size(), g["curve"].size());
    int64_t called = 0;  // turns with a call: predicted calls spread over at most 3 turns
    if (!g["curve"].empty()) called = g["curve"].back()["answered"].get<int64_t>();
    EXPECT_EQ(g["n"], called);
    EXPECT_LE(called, 3);
  }
  {
    // A held-out report naming both entries with their chosen thresholds (the untuned model
    // calls nothing on these turns, so its own curve is empty): the thresholds are applied.
    const std::string name = j["models"][0]["name"].get<std::string>();
    const std::string base = name.substr(0, name.rfind(" (free)"));
    std::ofstream(d + "/dev.json") << json{
        {"format", "toolsft-eval/1"},
        {"task", "tool_calling"},
        {"models",
         {{{"name", base + " (free)"},
           {"tool_calling", {{"gate", {{"operating_point", {{"threshold", 0.25}}}}}}}},
          {{"name", base + " (constrained)"},
           {"tool_calling", {{"gate", {{"operating_point", {{"threshold", 0.5}}}}}}}}}}};
    const CliResult t = run("eval --task tool-calling --decoding both --data " + d +
                            "/calls.jsonl --max-examples 3 --max-new-tokens 48 --threads 2 " +
                            "--gate-from " + d + "/dev.json --out " + d + "/gated");
    ASSERT_EQ(t.exit_code, 0) << t.out;
    const json g = read_json(d + "/gated/report.json");
    for (size_t i = 0; i < 2; ++i) {
      const json& gate = g["models"][i]["tool_calling"]["gate"];
      const double want = i == 0 ? 0.25 : 0.5;
      EXPECT_EQ(gate["fixed_threshold"]["threshold"], want);
      EXPECT_EQ(gate["fixed_threshold_rates"]["threshold"], want);
      EXPECT_EQ(gate["fixed_threshold_from"], d + "/dev.json");
    }
    const std::string md = read_text(d + "/gated/report.md");
    EXPECT_NE(md.find(": call gate"), std::string::npos) << md;
    EXPECT_NE(md.find("threshold from " + d + "/dev.json"), std::string::npos) << md;
  }
  // A conversation without tools (as glaive's plain chats are) is answered in text only.
  {
    std::ofstream(d + "/no_tools.jsonl")
        << R"({"messages": [{"role": "user", "content": "Say hello."},)"
        << R"( {"role": "assistant", "content": "Hello!"}]})" << "\n";
    const CliResult n = run("eval --task tool-calling --decoding constrained --data " + d +
                            "/no_tools.jsonl --max-new-tokens 16 --threads 2 --out " + d + "/nt");
    ASSERT_EQ(n.exit_code, 0) << n.out;
    const json t = read_json(d + "/nt/report.json")["models"][0]["tool_calling"];
    EXPECT_EQ(t["no_call_turns"], 1);
    EXPECT_EQ(t["predicted_calls"], 0);
  }
  for (const char* bad : {"--task tool-calling --decoding greedy", "--task perplexity --decoding both"}) {
    const CliResult e = run(std::string("eval ") + bad + " --data " + d + "/calls.jsonl --model " +
                            kDefaultModel + " --out " + d + "/x");
    EXPECT_NE(e.exit_code, 0) << bad;
    EXPECT_NE(e.out.find("--decoding"), std::string::npos) << e.out;
  }
}

// --call-gate: the gate applied while decoding. At 1 every turn with tools is answered in text
// (free and constrained), counted in the entry's call_gate; at 0 nothing is withheld.
TEST(CliEval, CallGateWhileDecodingWithholdsCalls) {
  const std::string d = temp_dir("tc_call_gate");
  ASSERT_EQ(run("gen tool-calling --n 4 --seed 5 --out " + d + "/calls.jsonl").exit_code, 0);
  for (const char* t : {"1", "0"}) {
    const CliResult r = run("eval --task tool-calling --decoding both --data " + d +
                            "/calls.jsonl --max-examples 3 --max-new-tokens 24 --threads 2 " +
                            "--call-gate " + t + " --out " + d + "/gate" + t);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json j = read_json(d + "/gate" + t + "/report.json");
    ASSERT_EQ(j["models"].size(), 2u);
    for (const json& m : j["models"]) {
      const json& tc = m["tool_calling"];
      ASSERT_EQ(tc["turns"], 3);
      EXPECT_EQ(m["call_gate"]["threshold"], std::stod(t));
      if (std::string(t) == "1") {
        EXPECT_EQ(m["call_gate"]["calls_withheld"], 3) << m.dump();
        EXPECT_EQ(tc["predicted_calls"], 0) << m.dump();
      } else {
        EXPECT_EQ(m["call_gate"]["calls_withheld"], 0) << m.dump();
      }
    }
  }
}

// The confidence gate end to end: a threshold chosen on one generated set at a stated precision,
// then applied to another by --gate-from (and one given by hand with --gate-threshold).
TEST(CliEval, ConfidenceGateChosenOnOneSetAndAppliedToAnother) {
  const std::string d = temp_dir("gate");
  ASSERT_EQ(run("gen tool-selection --n 12 --seed 3 --format chat --out " + d + "/val.jsonl")
                .exit_code, 0);
  ASSERT_EQ(run("gen tool-selection --n 12 --seed 4 --format chat --out " + d + "/test.jsonl")
                .exit_code, 0);
  const std::string model = " --threads 2 --quiet --model " + kDefaultModel + " --name base";
  const CliResult v = run("eval --data " + d + "/val.jsonl --gate-precision 0.3 " +
                          "--gate-threshold 0.5" + model + " --out " + d + "/val");
  ASSERT_EQ(v.exit_code, 0) << v.out;
  const json val = read_json(d + "/val/report.json");
  const json& g = val["models"][0]["tool_selection"]["gate"];
  EXPECT_EQ(g["target_precision"], 0.3);
  EXPECT_EQ(g["n"], 12);
  ASSERT_FALSE(g["curve"].empty());
  const json& all = g["curve"].back();
  EXPECT_EQ(all["answered"], 12);
  EXPECT_EQ(all["coverage"], 1.0);
  EXPECT_EQ(all["precision"], val["models"][0]["tool_selection"]["accuracy"]);
  EXPECT_EQ(g["full_coverage_precision"], all["precision"]);
  // --gate-threshold 0.5 answers what the curve's points at or above 0.5 answer.
  int64_t answered = 0;
  for (const json& p : g["curve"])
    if (p["threshold"].get<double>() >= 0.5) answered = p["answered"].get<int64_t>();
  EXPECT_EQ(g["fixed_threshold"]["threshold"], 0.5);
  EXPECT_EQ(g["fixed_threshold"]["answered"], answered);
  EXPECT_EQ(g["fixed_threshold_from"], "--gate-threshold");
  ASSERT_TRUE(g["operating_point"].is_object()) << g.dump();
  EXPECT_GE(g["operating_point"]["precision"].get<double>(), 0.3);
  const std::string md = read_text(d + "/val/report.md");
  EXPECT_NE(md.find("## base: confidence gate"), std::string::npos) << md;
  EXPECT_NE(md.find("| precision ≥ 30% (target)"), std::string::npos) << md;
  EXPECT_NE(read_text(d + "/val/report.html").find("Coverage vs precision"), std::string::npos);

  const CliResult t = run("eval --data " + d + "/test.jsonl --gate-from " + d +
                          "/val/report.json" + model + " --out " + d + "/test");
  ASSERT_EQ(t.exit_code, 0) << t.out;
  const json test = read_json(d + "/test/report.json");
  const json& tg = test["models"][0]["tool_selection"]["gate"];
  EXPECT_EQ(tg["fixed_threshold"]["threshold"], g["operating_point"]["threshold"]);
  EXPECT_EQ(tg["fixed_threshold_from"], d + "/val/report.json");
  EXPECT_EQ(tg["target_precision"], 0.99);  // the default

  // A model the validation report does not name fails before anything is scored.
  const CliResult other = run("eval --data " + d + "/test.jsonl --gate-from " + d +
                              "/val/report.json --threads 2 --model " + kDefaultModel +
                              " --name other --out " + d + "/other");
  EXPECT_EQ(other.exit_code, 1) << other.out;
  EXPECT_NE(other.out.find("val/report.json: no model named 'other' (it has 'base')"),
            std::string::npos)
      << other.out;
}

// A two-step LoRA run saving every step, then its base, checkpoints and final adapter compared.
TEST(CliEval, EveryCheckpointOfARunInOneTable) {
  const std::string d = temp_dir("run");
  ASSERT_EQ(run("gen tool-selection --n 16 --seed 1 --out " + d + "/data.jsonl").exit_code, 0);
  const std::string cfg = d + "/run.yaml";
  std::ofstream(cfg) << "model:\n  path: " << kDefaultModel << "\ndata:\n  train: " << d
                     << "/data.jsonl\n  max_seq_len: 128\nlora:\n  enabled: true\n  r: 4\n"
                     << "train:\n  output_dir: " << d << "/out\n  max_steps: 2\n"
                     << "  batch_size: 2\n  save_steps: 1\n  logging_steps: 1\n"
                     << "  progress: false\n";
  const CliResult t = run("train --config " + cfg);
  ASSERT_EQ(t.exit_code, 0) << t.out;
  // `eval --checkpoints` on the run, writing the report into d/<name>; its report.json.
  auto eval_run = [&](const std::string& name) {
    const CliResult r = run("eval --data " + d + "/data.jsonl --max-examples 6 --threads 2 " +
                            "--checkpoints " + d + "/out --out " + d + "/" + name);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return r.exit_code == 0 ? read_json(d + "/" + name + "/report.json") : json::object();
  };
  const json j = eval_run("report");
  // The run ended on a save: checkpoint-2 holds the final weights, so it is scored once, as
  // the final model at step 2.
  ASSERT_TRUE(j.contains("models"));
  ASSERT_EQ(j["models"].size(), 3u) << j.dump();
  EXPECT_EQ(j["models"][0]["name"], "base");
  EXPECT_EQ(j["models"][1]["name"], "checkpoint-1");
  EXPECT_EQ(j["models"][1]["step"], 1);
  EXPECT_EQ(j["models"][2]["name"], "final");
  EXPECT_EQ(j["models"][2]["step"], 2);
  EXPECT_EQ(j["training"]["train"].size(), 2u);
  EXPECT_NE(read_text(d + "/report/report.md").find("| checkpoint-1"), std::string::npos);

  // Once the final adapter differs from the last checkpoint, both are scored.
  {
    std::fstream f(d + "/out/adapter/adapter_model.safetensors",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x01');  // the high byte of the last weight: a different value, same layout
  }
  const json j2 = eval_run("report2");
  ASSERT_TRUE(j2.contains("models"));
  ASSERT_EQ(j2["models"].size(), 4u) << j2.dump();
  EXPECT_EQ(j2["models"][2]["name"], "checkpoint-2");
  EXPECT_EQ(j2["models"][3]["name"], "final");
  EXPECT_TRUE(j2["models"][3]["step"].is_null());
}

TEST(CliData, CheckReportsLayoutsToolsAndLengths) {
  const CliResult r = run("data check --data " + kData +
                          "/third_party/glaive_toolcall_en_demo.json --max-seq-len 1024");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("300 rows, 300 valid, 0 invalid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("layouts: 300 chat"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("longer than max_seq_len 1024: "), std::string::npos) << r.out;
  const CliResult bad = run("data check --data " + kData + "/sft/bad.jsonl");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bad.jsonl:2: messages[1].role"), std::string::npos) << bad.out;
  const CliResult skip = run("data check --skip-invalid --data " + kData + "/sft/bad.jsonl");
  ASSERT_EQ(skip.exit_code, 0) << skip.out;
  EXPECT_NE(skip.out.find("9 rows, 3 valid, 6 invalid"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("invalid: " + kData + "/sft/bad.jsonl:4: completion: missing"),
            std::string::npos) << skip.out;
}

TEST(CliEval, BadInputsGiveOneLineErrors) {
  const std::string d = temp_dir("bad");
  std::ofstream(d + "/x.jsonl") << "{\"prompt\": \"p\", \"completion\": \"a\"}\n{\"prompt\": 3}\n";
  auto one_line = [](const CliResult& r, const std::string& want) {
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("error: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
  };
  one_line(run("eval --data " + d + "/x.jsonl --task classify"), "--task: expected");
  one_line(run("eval --data " + d + "/x.jsonl --mode guess"), "--mode: expected");
  one_line(run("eval --data " + d + "/x.jsonl"), "x.jsonl:2: prompt: expected a string");
  one_line(run("eval --data " + d + "/missing.jsonl"), "missing.jsonl: cannot open");
  one_line(run("eval --data " + d + "/x.jsonl --model /nonexistent/m.gguf"),
           "/nonexistent/m.gguf: no such model");
  one_line(run("eval --data " + d + "/x.jsonl --checkpoints " + d),
           "not a training run's output directory");
  one_line(run("eval --data " + d + "/x.jsonl --skip-invalid"), "at least two candidate tools");
  // The confidence gate's options.
  const std::string x = "eval --data " + d + "/x.jsonl ";
  for (const char* p : {"0", "1.5", "-1", "nan", "inf"})
    one_line(run(x + "--gate-precision " + p),
             std::string("--gate-precision: expected a precision in (0, 1], got ") + p);
  one_line(run(x + "--gate-precision high"), "option --gate-precision expects a number, got 'high'");
  for (const char* t : {"-0.1", "1.01", "nan"})
    one_line(run(x + "--gate-threshold " + t),
             std::string("--gate-threshold: expected a confidence in [0, 1], got ") + t);
  one_line(run(x + "--gate-threshold 0.5 --gate-from r.json"), "give one or the other");
  one_line(run(x + "--task perplexity --gate-precision 0.9"), "need tool-selection scoring");
  one_line(run(x + "--mode generation --gate-threshold 0.5"), "need tool-selection scoring");
  one_line(run(x + "--gate-from " + d + "/none.json"), "none.json: cannot open");
  one_line(run(x + "--call-gate 0.5"), "--call-gate applies to --task tool-calling only");
  for (const char* t : {"-0.1", "2", "nan"})
    one_line(run(x + "--task tool-calling --call-gate " + t),
             std::string("--call-gate: expected a probability in [0, 1], got ") + t);
  one_line(run(x + "--gate-from " + d + "/x.jsonl"), "x.jsonl: not valid JSON");
  std::ofstream(d + "/calls.json") << R"({"format": "toolsft-eval/1", "task": "tool_calling", "models": []})";
  one_line(run(x + "--gate-from " + d + "/calls.json"),
           "calls.json: a tool_calling report; a --task tool-selection gate needs thresholds");
  std::ofstream(d + "/gen.json")
      << R"({"task": "tool_selection", "models": [{"name": "base", "tool_selection": {"gate": null}}]})";
  one_line(run(x + "--gate-from " + d + "/gen.json"), "gen.json: no model has a confidence gate");
  // Limits are accepted: what fails then is the data.
  one_line(run(x + "--gate-precision 1 --gate-threshold 0"), "x.jsonl:2: prompt: expected a string");
  one_line(run(x + "--gate-threshold 1"), "x.jsonl:2: prompt: expected a string");
  EXPECT_EQ(run("eval").exit_code, 2);
}

}  // namespace
