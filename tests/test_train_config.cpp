// Run config (YAML + --section.key overrides): loading, precedence, every kind of user mistake
// with its key and file:line, the to_yaml round trip, the docs being current; the progress line's
// formatting and metrics.jsonl truncation on resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "train/metrics_log.h"
#include "core/progress.h"
#include "data/gen_tool_calling.h"
#include "train/train_config.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;

class TrainConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tsft_train_config_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A minimal valid file; `extra` is appended (its first line is line 7).
  std::string write_run(const std::string& extra) {
    return write("run.yaml",
                 "model:\n"
                 "  path: models/tiny\n"
                 "data:\n"
                 "  train: data/train.jsonl\n"
                 "train:\n"
                 "  output_dir: out\n" +
                     extra);
  }

  // The tsft::Error message of loading, or "" when it loaded.
  static std::string error_of(const std::string& yaml, const std::vector<std::string>& ov = {}) {
    try {
      load_train_config(yaml, ov);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(TrainConfigTest, LoadsFileResolvesPathsAndKeepsDefaults) {
  const std::string path = write_run(
      "  learning_rate: 1e-4\n"
      "  lr_scheduler: linear\n"
      "  resume_from: latest\n"
      "lora:\n"
      "  enabled: yes\n"
      "  r: 8\n"
      "  target_modules: [q_proj, v_proj]\n");
  const TrainConfig c = load_train_config(path, {});
  EXPECT_EQ(c.model.path, (dir_ / "models/tiny").string());
  EXPECT_EQ(c.data.train, (dir_ / "data/train.jsonl").string());
  EXPECT_EQ(c.train.output_dir, (dir_ / "out").string());
  EXPECT_EQ(c.train.resume_from, "latest");  // a word, not a path
  EXPECT_DOUBLE_EQ(c.train.learning_rate, 1e-4);
  EXPECT_EQ(c.train.lr_scheduler, "linear");
  EXPECT_TRUE(c.lora.enabled);
  EXPECT_EQ(c.lora.r, 8);
  EXPECT_EQ(c.lora.target_modules, (std::vector<std::string>{"q_proj", "v_proj"}));
  // Untouched keys keep the struct's defaults.
  EXPECT_EQ(c.data.max_seq_len, 512);
  EXPECT_TRUE(c.data.packing);
  EXPECT_EQ(c.data.eval, "");
  EXPECT_EQ(c.train.batch_size, 8);
  EXPECT_DOUBLE_EQ(c.train.adam_beta2, 0.999);

  const LoraConfig lc = c.lora_config();
  EXPECT_EQ(lc.rank, 8);
  EXPECT_FLOAT_EQ(lc.alpha, 32.0f);
  EXPECT_FLOAT_EQ(lc.dropout, 0.05f);
  EXPECT_FLOAT_EQ(lc.scale(), 4.0f);
  EXPECT_EQ(lc.target_modules, c.lora.target_modules);
}

TEST_F(TrainConfigTest, OverridesWinOverTheFile) {
  const std::string path = write_run("  learning_rate: 1e-4\n  epochs: 3\n");
  const TrainConfig c = load_train_config(
      path, {"train.learning_rate=5e-5", "lora.target_modules=gate_proj, up_proj",
             "data.packing=false", "data.eval=held_out.jsonl", "model.threads=4"});
  EXPECT_DOUBLE_EQ(c.train.learning_rate, 5e-5);
  EXPECT_DOUBLE_EQ(c.train.epochs, 3.0);  // from the file
  EXPECT_EQ(c.lora.target_modules, (std::vector<std::string>{"gate_proj", "up_proj"}));
  EXPECT_FALSE(c.data.packing);
  EXPECT_EQ(c.model.threads, 4);
  // Paths from overrides are relative to the working directory, not the file.
  EXPECT_EQ(c.data.eval, (fs::current_path() / "held_out.jsonl").lexically_normal().string());

  const TrainConfig flow = load_train_config(path, {"lora.target_modules=[k_proj]"});
  EXPECT_EQ(flow.lora.target_modules, (std::vector<std::string>{"k_proj"}));
}

TEST_F(TrainConfigTest, EverythingFromOverridesWithoutAFile) {
  const TrainConfig c = load_train_config(
      "", {"model.path=/m", "data.train=/d.jsonl", "train.output_dir=/o", "eval.steps=50"});
  EXPECT_EQ(c.model.path, "/m");
  EXPECT_EQ(c.eval.steps, 50);
  EXPECT_NE(error_of("", {"model.path=/m", "data.train=/d.jsonl"}).find("train.output_dir"),
            std::string::npos);
}

TEST_F(TrainConfigTest, OverridesFromArgs) {
  std::vector<std::string> argv_s = {"--config",
                                     "run.yaml",
                                     "--train.learning_rate",
                                     "1e-4",
                                     "--lora.r=4",
                                     "--lora.enabled",
                                     "--verbose",
                                     "--data.packing",
                                     "false",
                                     "--model.path",
                                     "/m"};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  std::vector<std::string> rest;
  const auto ov = overrides_from_args(static_cast<int>(argv.size()), argv.data(), &rest);
  EXPECT_EQ(ov,
            (std::vector<std::string>{"train.learning_rate=1e-4", "lora.r=4", "lora.enabled=true",
                                      "data.packing=false", "model.path=/m"}));
  EXPECT_EQ(rest, (std::vector<std::string>{"--config", "run.yaml", "--verbose"}));

  std::string typo = "--train.learnig_rate=1";
  char* bad[] = {typo.data()};
  try {
    overrides_from_args(1, bad, &rest);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean train.learning_rate"), std::string::npos)
        << e.what();
  }
  std::string dangling = "--train.seed";
  char* missing[] = {dangling.data()};
  EXPECT_THROW(overrides_from_args(1, missing, &rest), Error);
}

TEST_F(TrainConfigTest, ShortFlagsAreTheirKeys) {
  std::vector<std::string> argv_s = {"--model",      "/m.gguf", "--data",  "/d.jsonl",
                                     "--output-dir", "/out",    "--epochs", "2",
                                     "--batch-size", "4",       "--grad-accum", "2",
                                     "--lr=5e-5",    "--save-steps", "50", "--eval-steps",
                                     "20",           "--save-total-limit", "3", "--seed",
                                     "42",           "--lora"};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  std::vector<std::string> rest;
  const auto ov = overrides_from_args(static_cast<int>(argv.size()), argv.data(), &rest);
  EXPECT_TRUE(rest.empty());
  const TrainConfig c = load_train_config("", ov);
  EXPECT_EQ(c.model.path, "/m.gguf");
  EXPECT_EQ(c.data.train, "/d.jsonl");
  EXPECT_EQ(c.train.output_dir, "/out");
  EXPECT_EQ(c.train.epochs, 2.0);
  EXPECT_EQ(c.train.batch_size, 4);
  EXPECT_EQ(c.train.grad_accum, 2);
  EXPECT_EQ(c.train.learning_rate, 5e-5);
  EXPECT_EQ(c.train.save_steps, 50);
  EXPECT_EQ(c.eval.steps, 20);
  EXPECT_EQ(c.train.save_total_limit, 3);
  EXPECT_EQ(c.train.seed, 42);
  EXPECT_TRUE(c.lora.enabled);
  // Every alias names a real key.
  for (const auto& [alias, key] : flag_aliases()) EXPECT_TRUE(is_config_key(key)) << alias;
}

// Each case: the message names the key (or section) and where it was given. The file is
// "model: path, train: output_dir" (lines 1-4) plus the case's text from line 5; data.train comes
// from an override.
TEST_F(TrainConfigTest, ErrorsNameTheKeyAndFileLine) {
  struct Case {
    std::string extra;
    std::vector<std::string> must_contain;
  };
  const std::vector<Case> cases = {
      {"  learning_rate: abc\n",
       {"train.learning_rate: expected a number, got 'abc' (run.yaml:5)"}},
      {"  learnig_rate: 1e-4\n",
       {"unknown key train.learnig_rate (run.yaml:5)", "did you mean train.learning_rate?"}},
      {"  max_seq_len: 128\n",
       {"train.max_seq_len", "run.yaml:5", "did you mean data.max_seq_len"}},
      {"trian:\n  seed: 1\n", {"unknown section 'trian' (run.yaml:5)", "did you mean train?"}},
      {"  learning_rate: 0\n", {"train.learning_rate: must be > 0, got 0 (run.yaml:5)"}},
      {"  learning_rate: -1e-4\n", {"train.learning_rate: must be > 0", "run.yaml:5"}},
      {"  batch_size: 0\n", {"train.batch_size: must be >= 1, got 0 (run.yaml:5)"}},
      {"  batch_size: 2.5\n", {"train.batch_size: expected an integer, got '2.5' (run.yaml:5)"}},
      {"  lr_scheduler: cosin\n",
       {"train.lr_scheduler: unknown value 'cosin' (run.yaml:5)", "did you mean cosine?",
        "constant, constant_with_warmup, linear, cosine"}},
      {"  progress: maybe\n", {"train.progress: expected true or false", "run.yaml:5"}},
      {"  max_steps: 0\n", {"train.max_steps", "run.yaml:5"}},
      {"  seed: [1, 2]\n", {"train.seed: expected an integer, got a list (run.yaml:5)"}},
      {"  seed: 1\n  seed: 2\n", {"train.seed: given twice (run.yaml:5 and run.yaml:6)"}},
      {"lora:\n  r: 0\n", {"lora.r: must be >= 1, got 0 (run.yaml:6)"}},
      {"lora:\n  alpha: 0\n", {"lora.alpha: must be > 0", "run.yaml:6"}},
      {"lora:\n  dropout: 1\n", {"lora.dropout: must be in [0, 1), got 1 (run.yaml:6)"}},
      {"lora:\n  dropout: -0.1\n", {"lora.dropout: must be in [0, 1)", "run.yaml:6"}},
      {"lora:\n  target_modules: [q_proj, qq_proj]\n",
       {"lora.target_modules: unknown value 'qq_proj' (run.yaml:6)", "did you mean q_proj?"}},
      {"lora:\n  target_modules: [q_proj, q_proj]\n",
       {"lora.target_modules", "twice", "run.yaml:6"}},
      {"data:\n  eval_fraction: 1.0\n", {"data.eval_fraction: must be in [0, 1)", "run.yaml:6"}},
      {"data:\n  max_seq_len: 1\n", {"data.max_seq_len: must be >= 2, got 1 (run.yaml:6)"}},
      {"data:\n  truncation: cut\n",
       {"data.truncation: unknown value 'cut' (run.yaml:6)", "Allowed: drop, truncate"}},
      {"data:\n  loss_on: everything\n",
       {"data.loss_on", "run.yaml:6", "auto, assistant, completion, all"}},
      {"data:\n  eval: e.jsonl\n  eval_fraction: 0.1\n",
       {"data.eval_fraction (run.yaml:7) and data.eval (run.yaml:6)"}},
      {"eval:\n  batch_size: 0\n", {"eval.batch_size: must be >= 1", "run.yaml:6"}},
      {"eval:\n  steps: -1\n", {"eval.steps: must be >= 0", "run.yaml:6"}},
  };
  for (const Case& c : cases) {
    const std::string text = "model:\n  path: m\ntrain:\n  output_dir: out\n" + c.extra;
    const std::string msg = error_of(write("run.yaml", text), {"data.train=t.jsonl"});
    ASSERT_FALSE(msg.empty()) << "no error for:\n" << text;
    for (std::string s : c.must_contain) {
      // Messages name the file as it was given: here the full temporary path.
      for (size_t at = 0; (at = s.find("run.yaml:", at)) != std::string::npos;) {
        s.replace(at, 8, (dir_ / "run.yaml").string());
        at += (dir_ / "run.yaml").string().size();
      }
      EXPECT_NE(msg.find(s), std::string::npos) << "'" << s << "' not in: " << msg;
    }
  }
}

TEST_F(TrainConfigTest, OtherErrors) {
  // Missing required key names the key and the file.
  const std::string no_model = write("a.yaml", "data:\n  train: t\ntrain:\n  output_dir: o\n");
  std::string msg = error_of(no_model);
  EXPECT_NE(msg.find("missing required key model.path"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a.yaml"), std::string::npos) << msg;
  // Bad override: names the flag.
  msg = error_of(write_run(""), {"train.learning_rate=abc"});
  EXPECT_NE(msg.find("train.learning_rate: expected a number, got 'abc' (--train.learning_rate)"),
            std::string::npos)
      << msg;
  msg = error_of(write_run(""), {"train.warmup_ratio=1.5"});
  EXPECT_NE(msg.find("train.warmup_ratio: must be in [0, 1]"), std::string::npos) << msg;
  // Syntax errors carry the line.
  msg = error_of(write("bad.yaml", "model:\n  path: m\n  x: [1, 2\n"));
  EXPECT_NE(msg.find("bad.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid YAML"), std::string::npos) << msg;
  // Non-existent file.
  msg = error_of((dir_ / "nope.yaml").string());
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  // A section that is not a mapping.
  msg = error_of(write("s.yaml", "train: 3\n"));
  EXPECT_NE(msg.find("train: expected a mapping"), std::string::npos) << msg;
  EXPECT_NE(msg.find("s.yaml:1"), std::string::npos) << msg;
  // Quantized base weights only make sense with LoRA.
  msg = error_of(write_run("lora:\n  base_weights: quantized\n"));
  EXPECT_NE(msg.find("lora.base_weights"), std::string::npos) << msg;
  EXPECT_EQ(error_of(write_run("lora:\n  enabled: true\n  base_weights: quantized\n")), "");
}

// The recipe's tool-calling row kinds: defaults are the generator's; set ones must still sum to
// 1, and they apply to tool-calling only.
TEST_F(TrainConfigTest, ToolCallingSharesSumToOneAndApplyToToolCallingOnly) {
  const TrainConfig defaults;
  const ToolCallingOptions gen;
  const auto have = defaults.generate.shares();
  EXPECT_EQ(have[static_cast<int>(CallKind::kAskFirst)], defaults.generate.share_ask_first);
  for (int k = 0; k < kCallKinds; ++k)
    EXPECT_EQ(have[k], gen.shares[k]) << call_kind_name(static_cast<CallKind>(k));

  const std::string calling = write("calling.yaml",
                                    "model:\n  path: models/tiny\ntrain:\n  output_dir: out\n"
                                    "generate:\n  task: tool-calling\n  share_follow_up: 0.05\n"
                                    "  share_ask_first: 0.2\n");
  EXPECT_EQ(error_of(calling), "");
  EXPECT_EQ(load_train_config(calling, {}).generate.share_ask_first, 0.2);
  std::string msg = error_of(calling, {"generate.share_ask_first=0"});
  EXPECT_NE(msg.find("the generate.share_* keys must sum to 1, got 0.8"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("generate.share_ask_first (--generate.share_ask_first)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("calling.yaml:7"), std::string::npos) << msg;  // share_follow_up's line
  msg = error_of(calling, {"generate.share_ask_first=1.5"});
  EXPECT_NE(msg.find("generate.share_ask_first: must be in [0, 1]"), std::string::npos) << msg;
  msg = error_of(write_run(""), {"generate.share_single=0.5"});
  EXPECT_NE(msg.find("are for generate.task: tool-calling"), std::string::npos) << msg;
}

TEST_F(TrainConfigTest, ToYamlRoundTrips) {
  const std::string path = write("run.yaml",
                                 "model:\n"
                                 "  path: models/tiny\n"
                                 "  chat_template: 'tmpl #1: \"odd\".jinja'\n"
                                 "data:\n"
                                 "  train: ../shared/train.jsonl\n"
                                 "  eval_fraction: 0.1\n"
                                 "  truncation: truncate\n"
                                 "lora:\n"
                                 "  enabled: true\n"
                                 "  alpha: 16\n"
                                 "  target_modules: q_proj,o_proj\n"
                                 "train:\n"
                                 "  output_dir: out\n"
                                 "  learning_rate: 3.0e-4\n"
                                 "  warmup_ratio: 0.03\n"
                                 "  resume_from: ckpt/checkpoint-100\n"
                                 "  precision: bf16\n");
  const TrainConfig c = load_train_config(path, {"train.seed=7"});
  EXPECT_EQ(c.model.chat_template, (dir_ / "tmpl #1: \"odd\".jinja").string());
  EXPECT_EQ(c.train.resume_from, (dir_ / "ckpt/checkpoint-100").string());
  EXPECT_EQ(c.data.train, (dir_.parent_path() / "shared/train.jsonl").string());

  const std::string dumped = write("resolved.yaml", to_yaml(c));
  const TrainConfig back = load_train_config(dumped, {});
  EXPECT_TRUE(back == c) << to_yaml(c) << "\n---\n" << to_yaml(back);
  EXPECT_EQ(to_yaml(back), to_yaml(c));
  // Every key appears in the dump and in the JSON.
  const nlohmann::json j = to_json(c);
  EXPECT_EQ(j["train"]["seed"], 7);
  EXPECT_EQ(j["lora"]["target_modules"], nlohmann::json({"q_proj", "o_proj"}));
  EXPECT_DOUBLE_EQ(j["train"]["learning_rate"].get<double>(), 3e-4);
  size_t keys = 0;
  for (const auto& [section, obj] : j.items()) keys += obj.size();
  EXPECT_EQ(keys, 72u);
}

TEST_F(TrainConfigTest, HelpListsEveryKeyWithDefault) {
  const std::string h = config_help();
  // Named: items() of a temporary would dangle.
  const nlohmann::json all =
      to_json(load_train_config("", {"model.path=/m", "data.train=/d", "train.output_dir=/o"}));
  for (const auto& [section, obj] : all.items())
    for (const auto& [key, v] : obj.items())
      EXPECT_NE(h.find("--" + section + "." + key + " <"), std::string::npos) << key;
  EXPECT_NE(h.find("constant|constant_with_warmup|linear|cosine"), std::string::npos);
  EXPECT_NE(h.find("--train.learning_rate <float>  (default 2e-05)"), std::string::npos) << h;
  EXPECT_NE(h.find("--model.path <path>  (required)"), std::string::npos);
}

// docs/CONFIG.md is config_reference_markdown(); TSFT_UPDATE_DOCS=1 rewrites it.
TEST_F(TrainConfigTest, ConfigDocIsCurrent) {
  const std::string doc = std::string(TSFT_TEST_DATA_DIR) + "/../../docs/CONFIG.md";
  const std::string want = config_reference_markdown();
  if (std::getenv("TSFT_UPDATE_DOCS")) std::ofstream(doc, std::ios::binary) << want;
  std::ifstream in(doc, std::ios::binary);
  const std::string have(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(have, want) << "docs/CONFIG.md is stale: run TSFT_UPDATE_DOCS=1 test_train_config";
}

// The example configs load (with the required paths they name) and are valid.
TEST_F(TrainConfigTest, ExampleConfigsLoad) {
  const std::string configs = std::string(TSFT_TEST_DATA_DIR) + "/../../configs/";
  const TrainConfig full = load_train_config(configs + "example_full.yaml", {});
  EXPECT_FALSE(full.lora.enabled);
  const TrainConfig lora = load_train_config(configs + "example_lora.yaml", {});
  EXPECT_TRUE(lora.lora.enabled);
  EXPECT_GT(lora.train.learning_rate, full.train.learning_rate);
}

TEST(Progress, FormatEta) {
  EXPECT_EQ(format_eta(0), "0s");
  EXPECT_EQ(format_eta(44.6), "45s");
  EXPECT_EQ(format_eta(192), "3m12s");
  EXPECT_EQ(format_eta(3599.4), "59m59s");
  EXPECT_EQ(format_eta(3600 + 5 * 60 + 30), "1h05m");
  EXPECT_EQ(format_eta(2 * 86400 + 3 * 3600), "2d03h");
  EXPECT_EQ(format_eta(-1), "--");
  EXPECT_EQ(format_eta(std::numeric_limits<double>::infinity()), "--");
  EXPECT_EQ(format_eta(std::nan("")), "--");
}

TEST(Progress, FormatRateAndBar) {
  EXPECT_EQ(format_rate(2345.4), "2,345");
  EXPECT_EQ(format_rate(999.5), "1,000");
  EXPECT_EQ(format_rate(1234567), "1,234,567");
  EXPECT_EQ(format_rate(12), "12");
  EXPECT_EQ(format_rate(3.14), "3.1");
  EXPECT_EQ(format_bar(0.0, 5), "[>    ]");
  EXPECT_EQ(format_bar(0.5, 10), "[=====>    ]");
  EXPECT_EQ(format_bar(1.0, 4), "[====]");
  EXPECT_EQ(format_bar(2.0, 4), "[====]");
}

TEST(Progress, Line) {
  EXPECT_EQ(format_progress_line(120, 500, 0.48, 1.23451, 1.8e-4, 2345, 192, 10),
            "step 120/500 [==>       ] 24% | epoch 0.48 | loss 1.2345 | lr 1.80e-04 | "
            "2,345 tok/s | ETA 3m12s");
  EXPECT_EQ(format_progress_line(7, 0, 0.1, 2.0, 1e-5, 50, -1, 10),
            "step 7 | epoch 0.10 | loss 2.0000 | lr 1.00e-05 | 50 tok/s");
}

TEST(Progress, CountLines) {
  EXPECT_EQ(format_count_line("eval final", 120, 2000, 45.2, "examples", 41, 10),
            "eval final 120/2000 [>         ] 6% | 45 examples/s | ETA 41s");
  EXPECT_EQ(format_count_line("scored", 3, 0, 2.5, "turns", -1, 0), "scored 3 | 2.5 turns/s");
  // Without a terminal, at most one line per tenth of the total.
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar(100, true, 0, f, /*tty=*/false);
    for (int i = 1; i <= 100; ++i) bar.update_count(i, "eval", "examples");
  }
  std::rewind(f);
  std::string out;
  for (int ch; (ch = std::fgetc(f)) != EOF;) out += static_cast<char>(ch);
  std::fclose(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 11) << out;  // tenths 0..10
  EXPECT_NE(out.find("eval 100/100 100%"), std::string::npos) << out;
}

TEST(Progress, PlainLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar(100, true, 0, f, /*tty=*/false);
    bar.update(10, 0.1, 2.5, 1e-4, 100);
    bar.message("eval loss 2.4");
    bar.update(20, 0.2, 2.4, 1e-4, 100);
    ProgressBar off(100, false, 0, f, false);
    off.update(30, 0.3, 2.3, 1e-4, 100);  // disabled: prints nothing
    off.message("saved");                 // messages still print
  }
  std::rewind(f);
  std::string out;
  for (int ch; (ch = std::fgetc(f)) != EOF;) out += static_cast<char>(ch);
  std::fclose(f);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4);
  EXPECT_EQ(out.rfind("step 10/100 10% | epoch 0.10 | loss 2.5000", 0), 0u) << out;
  EXPECT_NE(out.find("\neval loss 2.4\nstep 20/100"), std::string::npos) << out;
  EXPECT_EQ(out.find("step 30"), std::string::npos);
  EXPECT_NE(out.find("\nsaved\n"), std::string::npos);
}

TEST(Progress, TerminalRedrawsInPlace) {
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar(10, true, 0, f, /*tty=*/true);
    bar.update(1, 0.1, 1.0, 1e-4, 10);
    bar.message("hello");
    bar.finish();
  }
  std::rewind(f);
  std::string out;
  for (int ch; (ch = std::fgetc(f)) != EOF;) out += static_cast<char>(ch);
  std::fclose(f);
  // Line drawn, cleared for the message, redrawn, then ended once.
  EXPECT_EQ(out.rfind("\r\033[Kstep 1/10 [", 0), 0u);
  EXPECT_NE(out.find("\r\033[Khello\nstep 1/10 ["), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST_F(TrainConfigTest, MetricsLogAppendsAndTruncates) {
  const std::string out = (dir_ / "run").string();
  {
    MetricsLog log(out);
    log.log({{"type", "config"}});
    for (int s = 10; s <= 50; s += 10) log.log({{"step", s}, {"loss", 1.0 / s}});
    log.log({{"step", 30}, {"eval_loss", 0.5}});
  }
  const std::string path = out + "/metrics.jsonl";
  {
    std::ofstream(path, std::ios::app) << "{\"step\": 60, \"lo";  // half a line from a crash
  }
  MetricsLog::truncate_after_step(path, 30);
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["type"], "config");
  EXPECT_EQ(lines[1]["step"], 10);
  EXPECT_EQ(lines[3]["step"], 30);
  EXPECT_EQ(lines[4]["eval_loss"], 0.5);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  {
    MetricsLog again(out);  // resume appends after the kept lines
    again.log({{"step", 40}});
  }
  std::ifstream in2(path);
  int n = 0;
  std::string last;
  for (std::string l; std::getline(in2, l); ++n) last = l;
  EXPECT_EQ(n, 6);
  EXPECT_EQ(nlohmann::json::parse(last)["step"], 40);
  MetricsLog::truncate_after_step((dir_ / "missing.jsonl").string(), 5);  // no file: no-op
  EXPECT_FALSE(fs::exists(dir_ / "missing.jsonl"));
}

}  // namespace
}  // namespace tsft
