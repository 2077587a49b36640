// `toolsft train` end to end on a tiny random model that carries SmolLM2's real tokenizer and
// chat template: determinism, exact resume, outputs that load back, and the errors that must
// stop a run before or during training.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "export/hf_export.h"
#include "io/peft_adapter.h"
#include "io/model_loader.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;
const std::string kData = TSFT_TEST_DATA_DIR;

std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("tsft_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// A 2-layer model with the SmolLM2 vocabulary, written as a Hugging Face directory once.
const std::string& tiny_model_dir() {
  static const std::string dir = [] {
    const std::string d = temp_dir("model");
    const Tokenizer tok = Tokenizer::from_json_file(kData + "/smollm2/tokenizer.json");
    ModelConfig c;
    c.arch = Arch::kLlama;
    c.hidden = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 8;
    c.intermediate = 64, c.vocab = tok.vocab_size(), c.max_positions = 2048;
    c.rms_eps = 1e-5f, c.rope_theta = 10000.0f, c.tie_embeddings = true;
    c.bos_id = tok.bos_id();
    c.eos_ids = {tok.eos_id()};
    ModelWeights w = ModelWeights::allocate(c);
    Rng rng(11);
    w.for_each(c, [&](const std::string& name, Tensor& t, Tensor*) {
      const bool norm = name.find("norm") != std::string::npos;
      for (int64_t i = 0; i < t.numel(); ++i)
        t.f32()[i] = norm ? 1.0f : static_cast<float>((rng.uniform() - 0.5) * 0.2);
    });
    write_hf_model(d + "/m", c, w, &tok, nullptr);
    return d + "/m";
  }();
  return dir;
}

TrainConfig base_config(const std::string& out, bool lora) {
  TrainConfig c;
  c.model.path = tiny_model_dir();
  c.data.train = kData + "/sft/chat.jsonl";
  c.data.max_seq_len = 256;
  c.train.output_dir = out;
  c.train.max_steps = 6;
  c.train.batch_size = 1;
  c.train.grad_accum = 2;
  c.train.learning_rate = lora ? 1e-2 : 1e-3;
  c.train.warmup_steps = 2;
  c.train.weight_decay = 0.01;
  c.train.logging_steps = 1;
  c.train.progress = false;
  c.lora.enabled = lora;
  c.lora.r = 4;
  c.lora.dropout = 0.1;  // dropout masks must also continue exactly
  return c;
}

class Trainer : public ::testing::TestWithParam<bool> {};

TEST_P(Trainer, SameSeedSameLossesAndResumeContinuesExactly) {
  const bool lora = GetParam();
  const std::string tag = lora ? "lora" : "full";
  TrainHooks quiet;
  quiet.quiet = true;
  const TrainResult a = run_training(base_config(temp_dir(tag + "_a"), lora), quiet);
  const TrainResult b = run_training(base_config(temp_dir(tag + "_b"), lora), quiet);
  ASSERT_EQ(a.step_losses.size(), 6u);
  EXPECT_EQ(a.step_losses, b.step_losses);  // bit for bit
  EXPECT_LT(a.step_losses.back(), a.step_losses.front()) << "training did not lower the loss";

  // Stopped after step 4 (checkpoint every 2 steps), then resumed from the latest checkpoint.
  const std::string dir = temp_dir(tag + "_resume");
  TrainConfig c = base_config(dir, lora);
  c.train.save_steps = 2;
  TrainHooks stop = quiet;
  stop.stop_after_step = 4;
  const TrainResult first = run_training(c, stop);
  EXPECT_EQ(first.steps, 4);
  EXPECT_EQ(latest_checkpoint(dir), dir + "/checkpoint-4");
  c.train.resume_from = "latest";
  const TrainResult rest = run_training(c, quiet);
  EXPECT_EQ(rest.start_step, 4);
  ASSERT_EQ(rest.step_losses.size(), 2u);
  EXPECT_EQ(rest.step_losses[0], a.step_losses[4]);
  EXPECT_EQ(rest.step_losses[1], a.step_losses[5]);
  // The metrics log holds each step once.
  std::ifstream f(dir + "/metrics.jsonl");
  std::string line;
  int loss_lines = 0;
  while (std::getline(f, line))
    if (line.find("\"loss\"") != std::string::npos) ++loss_lines;
  EXPECT_EQ(loss_lines, 6);

  // A resumed run with different settings is refused, naming the setting.
  c.train.learning_rate *= 2;
  try {
    run_training(c, quiet);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.learning_rate"), std::string::npos) << e.what();
  }
}

TEST_P(Trainer, FinalOutputLoadsAndMatchesTheTrainedWeights) {
  const bool lora = GetParam();
  const std::string dir = temp_dir(std::string("out_") + (lora ? "lora" : "full"));
  TrainHooks quiet;
  quiet.quiet = true;
  TrainConfig c = base_config(dir, lora);
  c.train.max_steps = 3;
  const TrainResult r = run_training(c, quiet);
  ASSERT_EQ(r.final_dir, dir + (lora ? "/adapter" : "/model"));
  LoadedModel base = load_model(tiny_model_dir(), true);
  if (lora) {
    const LoraWeights lw = read_peft_adapter(r.final_dir, base.model->config());
    // Training moved B away from its zero init.
    double sum = 0;
    for (const auto& layer : lw.layers)
      for (const auto& p : layer)
        if (p.enabled)
          for (int64_t i = 0; i < p.b.numel(); ++i) sum += std::fabs(p.b.f32()[i]);
    EXPECT_GT(sum, 0.0);
    // The checkpoint carries the same adapter.
    const LoraWeights in_ckpt = read_peft_adapter(dir + "/checkpoint-3/adapter", base.model->config());
    EXPECT_EQ(0, std::memcmp(in_ckpt.layers[1][6].b.data, lw.layers[1][6].b.data, lw.layers[1][6].b.nbytes()));
  } else {
    LoadedModel trained = load_model(r.final_dir, true);
    ASSERT_NE(trained.tokenizer, nullptr);
    // The last checkpoint holds the same model as a loadable directory.
    LoadedModel in_ckpt = load_model(dir + "/checkpoint-3/model", true);
    EXPECT_EQ(0, std::memcmp(in_ckpt.model->weights().layers[1].w_down.data,
                             trained.model->weights().layers[1].w_down.data,
                             trained.model->weights().layers[1].w_down.nbytes()));
    EXPECT_EQ(trained.tokenizer->chat_template(), base.tokenizer->chat_template());
    EXPECT_NE(0, std::memcmp(trained.model->weights().layers[0].wq.data,
                             base.model->weights().layers[0].wq.data,
                             base.model->weights().layers[0].wq.nbytes()));
  }
}

INSTANTIATE_TEST_SUITE_P(FullAndLora, Trainer, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "lora" : "full"; });

// A sentinel token joins the tokenizer and the embedding, is learnt, and is saved with both.
TEST(TrainerTokens, AddedSpecialTokenIsTrainedAndSaved) {
  const std::string dir = temp_dir("sentinel");
  const std::string data = dir + "/data.jsonl";
  std::ofstream(data) << "{\"prompt\": \"Weather in Oslo?\\nTool:\", \"completion\": \"<tool>get_weather\"}\n"
                      << "{\"prompt\": \"What is 2+2?\\nTool:\", \"completion\": \"<tool>calculator\"}\n";
  TrainConfig c = base_config(dir + "/out", false);
  c.data.train = data;
  c.train.max_steps = 3;
  c.train.learning_rate = 1e-2;
  c.model.add_special_tokens = {"<tool>"};
  TrainHooks quiet;
  quiet.quiet = true;
  const TrainResult r = run_training(c, quiet);
  LoadedModel base = load_model(tiny_model_dir(), true);
  LoadedModel trained = load_model(r.final_dir, true);
  const int64_t V = base.model->config().vocab;
  ASSERT_EQ(trained.model->config().vocab, V + 1);
  ASSERT_EQ(trained.tokenizer->token_id("<tool>"), std::optional<int32_t>(static_cast<int32_t>(V)));
  EXPECT_EQ(trained.tokenizer->encode("<tool>get_weather")[0], V);
  EXPECT_TRUE(trained.tokenizer->is_special(static_cast<int32_t>(V)));
  // The new row started at the mean of the old rows and moved with training.
  const int64_t C = base.model->config().hidden;
  const float* old_embed = base.model->weights().embed.f32();
  const float* row = trained.model->weights().embed.f32() + V * C;
  double moved = 0;
  for (int64_t j = 0; j < C; ++j) {
    double mean = 0;
    for (int64_t v = 0; v < V; ++v) mean += old_embed[v * C + j];
    moved += std::fabs(row[j] - mean / V);
  }
  EXPECT_GT(moved, 1e-4);
  // LoRA cannot train the new row: refused by name.
  TrainConfig l = c;
  l.lora.enabled = true;
  l.train.output_dir = dir + "/lora";
  try {
    run_training(l, quiet);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.add_special_tokens"), std::string::npos) << e.what();
  }
}

TEST(TrainerErrors, UnwritableOutputDirFailsBeforeLoading) {
  const std::string d = temp_dir("unwritable");
  std::ofstream(d + "/file") << "x";
  TrainConfig c = base_config(d + "/file/out", false);
  c.model.path = "/nonexistent/model";  // never reached
  try {
    run_training(c, TrainHooks{.stop_after_step = -1, .quiet = true, .task_eval = {}});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(d + "/file/out"), std::string::npos) << e.what();
  }
}

TEST(TrainerErrors, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  const std::string d = temp_dir("nan");
  TrainConfig c = base_config(d, false);
  c.train.max_steps = 8;
  c.train.warmup_steps = 0;
  c.train.lr_scheduler = "constant";
  c.train.max_grad_norm = 0;
  c.train.save_steps = 1;
  c.train.save_total_limit = 0;
  c.train.learning_rate = 1e30;  // the weights blow up after the first update
  try {
    run_training(c, TrainHooks{.stop_after_step = -1, .quiet = true, .task_eval = {}});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("not finite"), std::string::npos) << msg;
    EXPECT_NE(msg.find("last good checkpoint"), std::string::npos) << msg;
  }
  const std::string last = latest_checkpoint(d);
  ASSERT_FALSE(last.empty());
  EXPECT_TRUE(fs::exists(last + "/params.safetensors"));
}

}  // namespace
}  // namespace tsft
