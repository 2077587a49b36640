#include "model/config.h"

#include "core/error.h"

namespace tsft {

void ModelConfig::validate(const std::string& source) const {
  auto need_positive = [&](int64_t v, const char* field) {
    if (v <= 0) fail(source, ": ", field, " must be positive, got ", v);
  };
  need_positive(hidden, "hidden_size");
  need_positive(n_layers, "num_hidden_layers");
  need_positive(n_heads, "num_attention_heads");
  need_positive(n_kv_heads, "num_key_value_heads");
  need_positive(head_dim, "head_dim");
  need_positive(intermediate, "intermediate_size");
  need_positive(vocab, "vocab_size");
  if (n_heads % n_kv_heads != 0)
    fail(source, ": num_attention_heads (", n_heads, ") is not a multiple of num_key_value_heads (",
         n_kv_heads, ")");
  if (head_dim % 2 != 0) fail(source, ": head_dim must be even for RoPE, got ", head_dim);
  if (!(rms_eps > 0.0f)) fail(source, ": rms_norm_eps must be positive");
  if (!(rope_theta > 0.0f)) fail(source, ": rope_theta must be positive");
  if (rope_scaling.type == RopeScaling::Type::kLlama3 &&
      !(rope_scaling.high_freq_factor > rope_scaling.low_freq_factor))
    fail(source, ": rope_scaling.high_freq_factor must exceed low_freq_factor");
}

int64_t ModelConfig::num_params() const {
  const int64_t attn = hidden * q_dim() + 2 * hidden * kv_dim() + q_dim() * hidden +
                       (qkv_bias ? q_dim() + 2 * kv_dim() : 0) + (qk_norm ? 2 * head_dim : 0);
  const int64_t mlp = 3 * hidden * intermediate;
  const int64_t per_layer = attn + mlp + 2 * hidden;
  return vocab * hidden * (tie_embeddings ? 1 : 2) + n_layers * per_layer + hidden;
}

}  // namespace tsft
