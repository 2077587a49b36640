// The training graph of a decoder-only transformer on the CPU: forward over a padding-free Batch
// keeping what backward needs, then backward into the gradients of either every weight (full
// fine-tuning) or the LoRA pairs only (the base stays frozen). The LM head and cross-entropy run
// only on positions that carry loss.
#pragma once

#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "model/config.h"
#include "model/weights.h"
#include "model/lora.h"
#include "train/param.h"

namespace tsft {

struct TrainModelOptions {
  bool gradient_checkpointing = false;  // keep only each block's input; recompute in backward
};

struct LossStats {
  double loss_sum = 0;      // sum of token cross-entropies
  int64_t loss_tokens = 0;  // tokens that carried loss
  int64_t correct = 0;      // of those, how many the argmax got right
};

// Bytes the training step needs besides weights, gradients and optimizer state (reported in
// the memory plan).
struct ActivationPlan {
  int64_t saved_bytes = 0;    // activations kept from forward to backward
  int64_t scratch_bytes = 0;  // per-layer working buffers
};

class TrainableModel {
 public:
  // weights: float32 model weights (updated in place by the optimizer in full fine-tuning).
  // lora: null for full fine-tuning; else only its pairs are trained.
  TrainableModel(const ModelConfig& cfg, ModelWeights& weights, LoraWeights* lora,
                 TrainModelOptions opt);
  ~TrainableModel();
  TrainableModel(const TrainableModel&) = delete;
  TrainableModel& operator=(const TrainableModel&) = delete;

  const ModelConfig& config() const { return cfg_; }
  ParamList& params() { return params_; }
  bool is_lora() const { return lora_ != nullptr; }
  void zero_grad();

  // Forward and backward on one micro-batch. Gradients are ADDED to the parameters' grads as
  // grad_scale * d(sum of token losses)/d(param), so grad_scale = 1 / (loss tokens of the whole
  // optimizer step) gives the mean-token loss across accumulated micro-batches. dropout_key
  // makes LoRA dropout masks a pure function of (key, layer, module, element).
  LossStats forward_backward(const Batch& b, float grad_scale, uint64_t dropout_key);
  // Forward only (evaluation): no dropout, nothing kept.
  LossStats forward_loss(const Batch& b);

  ActivationPlan plan(int64_t tokens) const;

 private:
  struct Acts;
  void ensure(int64_t N);
  // Checks the batch, drops what cannot carry loss (into `trimmed`), runs embeddings and every
  // block forward; returns the batch actually run, or null when no position carries loss.
  const Batch* begin(const Batch& batch, Batch& trimmed, bool train, uint64_t key);
  void layer_forward(int64_t l, const float* x, Acts& a, int64_t N, bool train, uint64_t key);
  void layer_backward(int64_t l, float* dx, const Acts& a, int64_t N, uint64_t key);
  LossStats head_loss(const Batch& b, const float* x_last, float grad_scale, float* dx_last);
  void lora_forward(int64_t l, LoraTarget t, float* y, const float* x, float* xs, int64_t N,
                    int64_t in, int64_t out, bool train, uint64_t key);
  void lora_backward(int64_t l, LoraTarget t, float* dx, const float* dy, const float* x,
                     const float* xs, int64_t N, int64_t in, int64_t out, uint64_t key);
  void linear_fwd(float* y, const float* x, const Tensor& w, const Tensor& wq, const Tensor& b,
                  int64_t N, int64_t in, int64_t out);
  const float* base(const Tensor& w, const Tensor& wq);  // float32 view of a base matrix

  ModelConfig cfg_;
  ModelWeights& w_;
  LoraWeights* lora_;
  TrainModelOptions opt_;
  ParamList params_;
  // Gradients: same layout as the weights (full) or as the LoRA pairs.
  ModelWeights gw_;
  LoraWeights glora_;
  std::vector<float> inv_freq_;

  int64_t cap_ = 0;
  std::vector<Acts> acts_;     // per layer (all saved), or one scratch set with checkpointing
  std::vector<float> xs_in_;   // (L+1, N, C) block inputs; xs_in_[L] is the final hidden
  std::vector<float> cos_, sin_;
  std::vector<float> dx_, tmp_c_, tmp_f_, tmp_f2_, tmp_f3_, tmp_q_, tmp_q2_, tmp_kv_, tmp_kv2_,
      tmp_kv3_, drop_;
  std::vector<float> head_x_, head_dx_, head_rstd_, lora_d_, wbuf_;
  std::vector<int32_t> head_rows_, head_tgt_;
  const Batch* batch_ = nullptr;  // the batch being run
};

}  // namespace tsft
