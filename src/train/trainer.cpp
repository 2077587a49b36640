#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "chat/chat_format.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fs_util.h"
#include "core/malloc_tuning.h"
#include "core/threads.h"
#include "data/batch_sampler.h"
#include "data/packing.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "export/hf_export.h"
#include "io/peft_adapter.h"
#include "io/model_loader.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/metrics_log.h"
#include "core/progress.h"
#include "train/train_model.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string mib(double bytes) { return str(static_cast<int64_t>(std::llround(bytes / 1048576.0)), " MiB"); }

SftLoadOptions load_options(const TrainConfig& c) {
  SftLoadOptions o;
  o.max_seq_len = c.data.max_seq_len;
  o.truncation = c.data.truncation == "truncate" ? SftLoadOptions::Truncation::kTruncate
                                                 : SftLoadOptions::Truncation::kDrop;
  if (c.data.loss_on == "assistant") o.loss_on = SftLoadOptions::LossOn::kAssistant;
  else if (c.data.loss_on == "completion") o.loss_on = SftLoadOptions::LossOn::kCompletion;
  else if (c.data.loss_on == "all") o.loss_on = SftLoadOptions::LossOn::kAll;
  else o.loss_on = SftLoadOptions::LossOn::kAuto;
  o.add_eos = c.data.add_eos;
  o.skip_invalid = c.data.skip_invalid;
  if (!c.data.tools.empty()) o.tools = read_tools_file(c.data.tools);
  return o;
}

std::string describe(const SftLoadStats& s, const std::string& path) {
  std::string out = str(path, ": ", s.rows, " rows, ", s.kept, " kept (", s.tokens, " tokens, ",
                        s.loss_tokens, " with loss)");
  if (s.dropped_too_long) out += str(", ", s.dropped_too_long, " dropped as too long");
  if (s.truncated) out += str(", ", s.truncated, " truncated");
  if (s.no_loss_tokens) out += str(", ", s.no_loss_tokens, " without any loss token dropped");
  if (s.skipped_invalid) {
    out += str(", ", s.skipped_invalid, " invalid skipped");
    for (const std::string& e : s.first_errors) out += "\n  skipped: " + e;
  }
  return out;
}

// The keys whose change would make a resumed run a different run.
nlohmann::json trajectory_keys(const TrainConfig& c) {
  nlohmann::json j = to_json(c);
  nlohmann::json k;
  k["model.path"] = j["model"]["path"];
  k["data"] = j["data"];
  k["lora"] = j["lora"];
  for (const char* key : {"seed", "batch_size", "grad_accum", "learning_rate", "lr_scheduler",
                          "warmup_ratio", "warmup_steps", "weight_decay", "adam_beta1",
                          "adam_beta2", "adam_eps", "max_grad_norm", "precision", "epochs",
                          "max_steps"})
    k[std::string("train.") + key] = j["train"][key];
  return k;
}

uint64_t micro_key(uint64_t seed, int64_t step, int64_t micro) {
  return (seed * 0x9e3779b97f4a7c15ull) ^ (static_cast<uint64_t>(step) << 20) ^
         static_cast<uint64_t>(micro);
}

std::vector<int64_t> lengths_of(const std::vector<SftExample>& examples) {
  std::vector<int64_t> lengths;
  lengths.reserve(examples.size());
  for (const SftExample& e : examples) lengths.push_back(static_cast<int64_t>(e.ids.size()));
  return lengths;
}

struct Cursor {
  int64_t epoch = 0, index = 0;
};

}  // namespace

TrainResult run_training(const TrainConfig& c, const TrainHooks& hooks) {
  auto say = [&](const std::string& s) {
    if (!hooks.quiet) std::fprintf(stderr, "%s\n", s.c_str());
  };
  if (c.model.threads > 0) set_num_threads(static_cast<int>(c.model.threads));
  keep_large_allocations_in_heap();
  const std::string out_dir = c.train.output_dir;
  ensure_writable_dir(out_dir);
  if (c.train.precision == "bf16")
    fail("train.precision: bf16 mixed precision is not implemented in this build; use f32 (auto "
         "picks f32 here)");

  // Model and tokenizer.
  LoadedModel lm = load_model(c.model.path, /*with_tokenizer=*/true);
  if (lm.tokenizer == nullptr) fail(c.model.path, ": the model has no tokenizer");
  if (!c.model.chat_template.empty()) {
    std::ifstream f(c.model.chat_template, std::ios::binary);
    if (!f) fail("model.chat_template: cannot read ", c.model.chat_template);
    TokenizerSpec spec = lm.tokenizer->spec();
    spec.chat_template.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    lm.tokenizer = std::make_unique<Tokenizer>(std::move(spec));
  }
  if (!c.model.add_special_tokens.empty()) {
    if (c.lora.enabled)
      fail("model.add_special_tokens: a new token's embedding row must be trained, and LoRA "
           "leaves embeddings frozen; use full fine-tuning (lora.enabled: false)");
    const int64_t before = lm.tokenizer->vocab_size();
    lm.tokenizer =
        std::make_unique<Tokenizer>(lm.tokenizer->with_special_tokens(c.model.add_special_tokens));
    const int64_t after = lm.tokenizer->vocab_size();
    if (after > lm.model->config().vocab) lm.model->grow_vocab(after);
    say(str("added ", after - before, " special token(s) (", c.model.add_special_tokens.size(),
            " asked; existing ones keep their ids): vocabulary ", before, " -> ", after));
  }
  const Tokenizer& tok = *lm.tokenizer;
  std::unique_ptr<ChatFormat> chat;
  if (!tok.chat_template().empty())
    chat = std::make_unique<ChatFormat>(ChatFormat::from_tokenizer(tok, c.model.path));
  Transformer& model = *lm.model;
  const ModelConfig& mc = model.config();
  if (c.lora.enabled && c.lora.base_weights == "quantized") {
    if (model.weights().layers.empty() || model.weights().layers[0].wq_q.data == nullptr)
      fail("lora.base_weights: 'quantized' needs a model whose block weights are stored quantized "
           "(a Q4_0, Q4_1 or Q8_0 GGUF); ", c.model.path, " has none");
    model.mutable_weights() = drop_f32_block_linears(std::move(model.mutable_weights()), mc);
  }

  // Data.
  const SftLoadOptions lo = load_options(c);
  SftLoadStats train_stats;
  std::vector<SftExample> train =
      load_sft_dataset(c.data.train, tok, chat.get(), lo, &train_stats);
  say(describe(train_stats, c.data.train));
  std::vector<SftExample> eval;
  if (!c.data.eval.empty()) {
    SftLoadStats es;
    eval = load_sft_dataset(c.data.eval, tok, chat.get(), lo, &es);
    say(describe(es, c.data.eval));
  } else if (c.data.eval_fraction > 0 || c.data.eval_count > 0) {
    SftSplit sp = split_train_eval(train, c.data.eval_fraction, c.data.eval_count,
                                   static_cast<uint64_t>(c.data.seed));
    train = std::move(sp.train);
    eval = std::move(sp.eval);
    say(str("split: ", train.size(), " train, ", eval.size(), " eval examples"));
  }
  if (train.empty()) fail(c.data.train, ": no training examples left");

  const BatchSampler sampler(lengths_of(train), c.data.max_seq_len, c.train.batch_size,
                             c.data.packing, static_cast<uint64_t>(c.train.seed));
  const int64_t per_epoch = sampler.batches_per_epoch(0);
  int64_t total_steps = c.train.max_steps > 0
                            ? c.train.max_steps
                            : static_cast<int64_t>(std::floor(c.train.epochs * per_epoch /
                                                              c.train.grad_accum));
  total_steps = std::max<int64_t>(total_steps, 1);

  // Trainable parameters.
  std::unique_ptr<LoraWeights> lora;
  if (c.lora.enabled) {
    Rng rng(static_cast<uint64_t>(c.train.seed));
    lora = std::make_unique<LoraWeights>(LoraWeights::create(mc, c.lora_config(), rng));
  }
  TrainModelOptions tmo;
  tmo.gradient_checkpointing = c.train.gradient_checkpointing;
  TrainableModel tm(mc, model.mutable_weights(), lora.get(), tmo);
  AdamWConfig ac;
  ac.beta1 = c.train.adam_beta1;
  ac.beta2 = c.train.adam_beta2;
  ac.eps = c.train.adam_eps;
  ac.weight_decay = c.train.weight_decay;
  AdamW opt(tm.params(), ac);
  const int64_t warmup =
      resolve_warmup_steps(c.train.warmup_steps, c.train.warmup_ratio, total_steps);
  const LrSchedule sched(parse_lr_schedule(c.train.lr_scheduler),
                         static_cast<float>(c.train.learning_rate), total_steps, warmup);

  // Memory plan and disk check, before any work.
  int64_t n_trainable = 0, n_model = 0;
  for (const Param& p : tm.params()) n_trainable += p.numel;
  model.mutable_weights().for_each(mc, [&](const std::string&, Tensor& t, Tensor*) {
    n_model += t.numel();
  });
  const double weight_bytes = static_cast<double>(weights_bytes(model.weights()));
  const int64_t max_tokens = c.train.batch_size * c.data.max_seq_len;
  const ActivationPlan ap = tm.plan(max_tokens);
  const double logits_bytes = 4.0 * 128 * mc.vocab * 2;
  say(str("memory plan (", c.lora.enabled ? "LoRA" : "full fine-tuning",
          c.lora.enabled && c.lora.base_weights == "quantized" ? " on the quantized base" : "",
          ", float32, up to ",
          max_tokens, " tokens per micro-batch", c.train.gradient_checkpointing ? ", recomputation" : "",
          "):\n  weights ", mib(weight_bytes), "\n  trainable ", n_trainable, " parameters: grads ",
          mib(4.0 * n_trainable), ", AdamW state ", mib(8.0 * n_trainable), "\n  activations ",
          mib(static_cast<double>(ap.saved_bytes)), " saved + ",
          mib(static_cast<double>(ap.scratch_bytes)), " scratch + ", mib(logits_bytes),
          " LM-head chunk\n  total about ",
          mib(weight_bytes + 12.0 * n_trainable + ap.saved_bytes + ap.scratch_bytes + logits_bytes)));
  const uint64_t ckpt_bytes = static_cast<uint64_t>(12.0 * n_trainable +
                                                    4.0 * (c.lora.enabled ? n_trainable : n_model)) +
                              (32u << 20);
  const uint64_t final_bytes = static_cast<uint64_t>(4.0 * (c.lora.enabled ? n_trainable : n_model)) + (32u << 20);
  check_free_space(out_dir, ckpt_bytes * 2 + final_bytes, "checkpoints and the final model");

  // Resume.
  int64_t step = 0;
  Cursor cur;
  std::string resume_dir = c.train.resume_from;
  if (resume_dir == "latest") {
    resume_dir = latest_checkpoint(out_dir);
    if (resume_dir.empty()) say(str("resume_from=latest: no checkpoint in ", out_dir, "; starting fresh"));
  }
  if (!resume_dir.empty()) {
    const nlohmann::json st = load_checkpoint(resume_dir, tm.params(), opt);
    if (st.contains("trajectory") && st["trajectory"] != trajectory_keys(c)) {
      std::string diff;
      const nlohmann::json now = trajectory_keys(c);
      for (auto it = now.begin(); it != now.end(); ++it)
        if (!st["trajectory"].contains(it.key()) || st["trajectory"][it.key()] != it.value())
          diff += (diff.empty() ? "" : ", ") + it.key();
      fail(resume_dir, ": the checkpoint was made with different settings (", diff,
           "); resuming would not continue the same run");
    }
    step = st.at("step").get<int64_t>();
    cur.epoch = st.at("cursor_epoch").get<int64_t>();
    cur.index = st.at("cursor_index").get<int64_t>();
    say(str("resumed from ", resume_dir, " at step ", step));
  }
  TrainResult res;
  res.start_step = step;
  res.total_steps = total_steps;

  {
    std::ofstream f(out_dir + "/train_config.yaml");
    f << to_yaml(c);
    if (!f) fail("cannot write ", out_dir, "/train_config.yaml");
  }
  const std::string metrics_path = out_dir + "/metrics.jsonl";
  if (fs::exists(metrics_path)) MetricsLog::truncate_after_step(metrics_path, step);
  MetricsLog metrics(out_dir);
  ProgressBar bar(total_steps, c.train.progress && !hooks.quiet, step);

  // Evaluation batches are the same at every evaluation: planned once.
  std::unique_ptr<BatchSampler> eval_sampler;
  if (!eval.empty())
    eval_sampler = std::make_unique<BatchSampler>(lengths_of(eval), c.data.max_seq_len,
                                                  c.eval.batch_size, c.data.packing, 0);
  auto evaluate = [&]() -> nlohmann::json {
    const BatchSampler& es = *eval_sampler;
    int64_t nb = es.batches_per_epoch(0);
    if (c.eval.max_batches > 0) nb = std::min(nb, c.eval.max_batches);
    LossStats tot;
    for (int64_t i = 0; i < nb; ++i) {
      const Batch b = make_batch(eval, es.batch_indices(0, i), es.rows_in_batch(0, i));
      const LossStats s = tm.forward_loss(b);
      tot.loss_sum += s.loss_sum, tot.loss_tokens += s.loss_tokens, tot.correct += s.correct;
    }
    const double loss = tot.loss_tokens ? tot.loss_sum / tot.loss_tokens : 0.0;
    res.last_eval_loss = loss;
    return {{"step", step},
            {"eval_loss", loss},
            {"perplexity", std::exp(loss)},
            {"eval_mean_token_accuracy",
             tot.loss_tokens ? static_cast<double>(tot.correct) / tot.loss_tokens : 0.0},
            {"eval_tokens", tot.loss_tokens}};
  };

  auto epoch_value = [&](const Cursor& k) {
    return static_cast<double>(k.epoch) +
           static_cast<double>(k.index) / static_cast<double>(sampler.batches_per_epoch(k.epoch));
  };

  // What the run outputs, written at the end and into every checkpoint (so any checkpoint can be
  // loaded as it is): a PEFT adapter or a Hugging Face model directory.
  const std::string output_name = lora ? "adapter" : "model";
  auto write_output = [&](const std::string& dir) {
    if (lora) write_peft_adapter(dir, *lora, mc, c.model.path);
    else write_hf_model(dir, mc, model.weights(), &tok, &lm.gen_defaults);
  };

  auto save = [&]() {
    nlohmann::json st = {{"step", step},
                         {"epoch", epoch_value(cur)},
                         {"cursor_epoch", cur.epoch},
                         {"cursor_index", cur.index},
                         {"total_steps", total_steps},
                         {"trajectory", trajectory_keys(c)},
                         {"config", to_json(c)}};
    save_checkpoint(out_dir, step, tm.params(), opt, st,
                    static_cast<int>(c.train.save_total_limit),
                    [&](const std::string& tmp) { write_output(tmp + "/" + output_name); });
    bar.message(str("saved ", out_dir, "/checkpoint-", step));
  };

  // The loop: grad_accum micro-batches per optimizer step, loss normalised by the loss tokens of
  // the whole step.
  const auto t_start = Clock::now();
  double window_loss = 0, window_tokens_s = 0;
  int64_t window_steps = 0, window_tokens = 0, window_correct = 0, window_loss_tokens = 0;
  auto window_t0 = Clock::now();
  while (step < total_steps) {
    std::vector<Batch> micro;
    int64_t n_loss = 0;
    for (int64_t a = 0; a < c.train.grad_accum; ++a) {
      micro.push_back(make_batch(train, sampler.batch_indices(cur.epoch, cur.index),
                                 sampler.rows_in_batch(cur.epoch, cur.index)));
      n_loss += micro.back().num_loss_tokens();
      if (++cur.index >= sampler.batches_per_epoch(cur.epoch)) cur.epoch++, cur.index = 0;
    }
    tm.zero_grad();
    LossStats st;
    for (size_t i = 0; i < micro.size(); ++i) {
      const LossStats s = tm.forward_backward(
          micro[i], 1.0f / static_cast<float>(std::max<int64_t>(n_loss, 1)),
          micro_key(static_cast<uint64_t>(c.train.seed), step, static_cast<int64_t>(i)));
      st.loss_sum += s.loss_sum, st.loss_tokens += s.loss_tokens, st.correct += s.correct;
      window_tokens += micro[i].num_tokens();
    }
    const double loss = st.loss_tokens ? st.loss_sum / st.loss_tokens : 0.0;
    const double norm = c.train.max_grad_norm > 0 ? clip_grad_norm(tm.params(), c.train.max_grad_norm)
                                                  : grad_norm(tm.params());
    if (!std::isfinite(loss) || !std::isfinite(norm)) {
      bar.finish();
      const std::string last = latest_checkpoint(out_dir);
      fail("step ", step + 1, ": the ", std::isfinite(loss) ? "gradient norm" : "loss",
           " is not finite (loss ", loss, ", grad norm ", norm, "); stopped without updating. ",
           last.empty() ? std::string("No checkpoint was saved yet.")
                        : "The last good checkpoint is " + last + ".",
           " Try a lower train.learning_rate or train.max_grad_norm.");
    }
    const float lr = sched.lr_at(step);
    opt.step(lr);
    ++step;
    res.steps = step;
    res.step_losses.push_back(loss);
    res.grad_norms.push_back(norm);
    window_loss += loss, window_steps++;
    window_correct += st.correct, window_loss_tokens += st.loss_tokens;

    const bool last_step = step == total_steps;
    if (step % std::max<int64_t>(c.train.logging_steps, 1) == 0 || last_step) {
      const double dt = seconds_since(window_t0);
      window_tokens_s = dt > 0 ? window_tokens / dt : 0;
      const double mean_loss = window_loss / window_steps;
      metrics.log({{"step", step},
                   {"epoch", epoch_value(cur)},
                   {"loss", mean_loss},
                   {"lr", lr},
                   {"grad_norm", norm},
                   {"tokens_per_s", window_tokens_s},
                   {"mean_token_accuracy",
                    window_loss_tokens ? static_cast<double>(window_correct) / window_loss_tokens : 0.0},
                   {"elapsed_s", seconds_since(t_start)}});
      bar.update(step, epoch_value(cur), mean_loss, lr, window_tokens_s);
      window_loss = 0, window_steps = 0, window_tokens = 0, window_correct = 0,
      window_loss_tokens = 0;
      window_t0 = Clock::now();
    }
    if (!eval.empty() && ((c.eval.steps > 0 && step % c.eval.steps == 0) || last_step)) {
      nlohmann::json e = evaluate();
      if (hooks.task_eval) {
        const nlohmann::json t = hooks.task_eval(tok, mc, model.weights(), lora.get());
        for (auto it = t.begin(); it != t.end(); ++it) e[it.key()] = it.value();
      }
      metrics.log(e);
      bar.message(str("step ", step, ": eval_loss ", e["eval_loss"].get<double>(), ", perplexity ",
                      e["perplexity"].get<double>()));
    }
    if ((c.train.save_steps > 0 && step % c.train.save_steps == 0) || last_step) save();
    if (hooks.stop_after_step == step && !last_step) {
      bar.finish();
      return res;
    }
  }
  bar.finish();

  const std::string final_dir = out_dir + "/" + output_name;
  write_output(final_dir);
  res.final_dir = final_dir;
  say(str("wrote ", final_dir));
  return res;
}

}  // namespace tsft
