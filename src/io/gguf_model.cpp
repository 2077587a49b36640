// GGUF -> ModelConfig and float32 weights. llama.cpp names tensors "blk.N.attn_q.weight" etc.
// and (for llama) interleaves the rows of q/k per head for its RoPE; both are undone here.
#include <cstring>
#include <vector>

#include "backend/cpu/dequant.h"
#include "backend/cpu/matvec_quant.h"
#include "core/error.h"
#include "io/gguf_model.h"
#include "io/model_loader.h"

namespace tsft {

std::string gguf_tensor_name(const std::string& hf) {
  static const std::pair<const char*, const char*> kLayerMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string prefix = "model.layers.";
  TSFT_CHECK(hf.rfind(prefix, 0) == 0, hf);
  const size_t dot = hf.find('.', prefix.size());
  const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  const std::string rest = hf.substr(dot + 1);
  for (const auto& [h, g] : kLayerMap)
    if (rest == h) return "blk." + layer + "." + g;
  TSFT_CHECK(false, "no GGUF name for ", hf);
  __builtin_unreachable();
}

void permute_qk_rows(uint8_t* w, int64_t rows, size_t row_bytes, int64_t n_heads, bool to_gguf) {
  const int64_t per_head = rows / n_heads, half = per_head / 2;
  std::vector<uint8_t> tmp(static_cast<size_t>(per_head) * row_bytes);
  for (int64_t h = 0; h < n_heads; ++h) {
    uint8_t* base = w + h * per_head * row_bytes;
    std::memcpy(tmp.data(), base, tmp.size());
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t gguf_row = 2 * i + j, hf_row = j * half + i;
        const int64_t to = to_gguf ? gguf_row : hf_row, from = to_gguf ? hf_row : gguf_row;
        std::memcpy(base + to * row_bytes, tmp.data() + from * row_bytes, row_bytes);
      }
  }
}

ModelConfig config_from_gguf(const GgufFile& g) {
  const std::string arch_name = g.get_string("general.architecture");
  const ArchSpec* spec = find_arch_by_name(arch_name);
  if (spec == nullptr)
    fail(g.path(), ": unsupported architecture '", arch_name, "'; supported: ", known_arch_names());
  const std::string a = arch_name + ".";
  ModelConfig c;
  c.arch = spec->arch;
  c.qkv_bias = spec->qkv_bias;
  c.qk_norm = spec->qk_norm;
  c.hidden = static_cast<int64_t>(g.get_uint(a + "embedding_length"));
  c.n_layers = static_cast<int64_t>(g.get_uint(a + "block_count"));
  c.n_heads = static_cast<int64_t>(g.get_uint(a + "attention.head_count"));
  c.n_kv_heads = static_cast<int64_t>(g.get_uint_or(a + "attention.head_count_kv", c.n_heads));
  c.head_dim = static_cast<int64_t>(
      g.get_uint_or(a + "attention.key_length", c.n_heads > 0 ? c.hidden / c.n_heads : 0));
  c.intermediate = static_cast<int64_t>(g.get_uint(a + "feed_forward_length"));
  c.max_positions = static_cast<int64_t>(g.get_uint_or(a + "context_length", 2048));
  c.rms_eps = static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  c.rope_theta = static_cast<float>(g.get_float_or(a + "rope.freq_base", 10000.0));
  if (g.has(a + "vocab_size")) {
    c.vocab = static_cast<int64_t>(g.get_uint(a + "vocab_size"));
  } else {
    const GgufTensorInfo* emb = g.find_tensor("token_embd.weight");
    if (emb == nullptr) fail(g.path(), ": tensor 'token_embd.weight' missing");
    c.vocab = emb->ne.size() == 2 ? emb->ne[1] : 0;
  }
  const std::string scaling = g.get_string_or(a + "rope.scaling.type", "none");
  if (scaling == "linear") {
    c.rope_scaling.type = RopeScaling::Type::kLinear;
    c.rope_scaling.factor = static_cast<float>(g.get_float(a + "rope.scaling.factor"));
  } else if (scaling != "none") {
    fail(g.path(), ": rope scaling type '", scaling, "' is not supported");
  }
  if (const GgufTensorInfo* rf = g.find_tensor("rope_freqs.weight")) {
    // llama3-style schedules are stored as per-frequency divisors.
    if (rf->dtype != DType::kF32 || rf->ne.size() != 1 || rf->ne[0] * 2 != c.head_dim)
      fail(g.path(), ": tensor 'rope_freqs.weight' must be F32 of size head_dim/2");
    c.rope_scaling.type = RopeScaling::Type::kFactors;
    c.rope_scaling.freq_factors.resize(rf->ne[0]);
    std::memcpy(c.rope_scaling.freq_factors.data(), rf->data, rf->ne[0] * sizeof(float));
  }
  c.tie_embeddings = g.find_tensor("output.weight") == nullptr;
  const uint64_t kNone = ~0ull;
  const uint64_t bos = g.get_uint_or("tokenizer.ggml.bos_token_id", kNone);
  if (bos != kNone) c.bos_id = static_cast<int32_t>(bos);
  const uint64_t eos = g.get_uint_or("tokenizer.ggml.eos_token_id", kNone);
  if (eos != kNone) c.eos_ids.push_back(static_cast<int32_t>(eos));
  const uint64_t eot = g.get_uint_or("tokenizer.ggml.eot_token_id", kNone);
  if (eot != kNone && eot != eos) c.eos_ids.push_back(static_cast<int32_t>(eot));
  c.validate(g.path());
  return c;
}

ModelWeights weights_from_gguf(const GgufFile& g, const ModelConfig& cfg,
                               std::map<std::string, int>& type_counts) {
  ModelWeights w = ModelWeights::allocate(cfg);
  const bool permuted = arch_spec(cfg.arch).gguf_permuted_qk;
  w.for_each(cfg, [&](const std::string& hf, Tensor& dst, Tensor* quant) {
    const std::string name = gguf_tensor_name(hf);
    const GgufTensorInfo* t = g.find_tensor(name);
    if (t == nullptr) fail(g.path(), ": tensor '", name, "' missing (", hf, ")");
    const Tensor src = t->view();
    if (!(src.shape == dst.shape))
      fail(g.path(), ": tensor '", name, "' has shape ", src.shape.to_string(), ", expected ",
           dst.shape.to_string());
    dequantize_row(t->dtype, t->data, dst.f32(), dst.numel());
    ++type_counts[std::string(dtype_name(t->dtype))];
    const bool is_q = hf.find("q_proj.") != std::string::npos;
    const bool is_k = hf.find("k_proj.") != std::string::npos;
    const int64_t heads = is_q ? cfg.n_heads : cfg.n_kv_heads;
    const int64_t rows = dst.shape[0], cols = dst.shape.ndim == 2 ? dst.shape[1] : 1;
    if (permuted && (is_q || is_k))
      permute_qk_rows(static_cast<uint8_t*>(dst.data), rows, cols * sizeof(float), heads, false);
    // Keep the stored blocks of linear-layer matrices for decoding (read 4.5-8.5 bits a weight).
    if (quant != nullptr && matvec_quant_supported(t->dtype)) {
      auto& blob = w.quant_store.emplace_back(t->data, t->data + t->nbytes);
      if (permuted && (is_q || is_k)) permute_qk_rows(blob.data(), rows, t->nbytes / rows, heads, false);
      *quant = Tensor{t->dtype, dst.shape, blob.data()};
    }
  });
  return w;
}

}  // namespace tsft
