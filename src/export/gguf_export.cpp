// GGUF export: the keys and tensors llama.cpp's convert_hf_to_gguf.py writes for llama / qwen2 /
// qwen3, so that llama.cpp, Ollama and our own loader read back the same model and tokenizer.
#include "export/gguf_export.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/quantize.h"
#include "core/error.h"
#include "core/half.h"
#include "io/gguf_model.h"
#include "io/gguf_writer.h"

namespace tsft {
namespace {

// llama.cpp's LlamaFileType values for general.file_type.
uint32_t file_type_id(GgufType t) {
  switch (t) {
    case GgufType::kF32:
      return 0;
    case GgufType::kF16:
      return 1;
    case GgufType::kQ8_0:
      return 7;
    case GgufType::kBF16:
      return 32;
  }
  TSFT_CHECK(false, "bad GgufType");
  __builtin_unreachable();
}

// Adds one tensor (PyTorch shape: (rows, cols) or (n)) in the type the export asks for.
void add_tensor(GgufWriter& gw, const std::string& name, const float* x, int64_t rows, int64_t cols,
                bool is_matrix, GgufType type) {
  const int64_t n = rows * cols;
  const std::vector<int64_t> ne =
      is_matrix ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{n};
  DType dt = DType::kF32;
  if (is_matrix) {
    if (type == GgufType::kF16) dt = DType::kF16;
    if (type == GgufType::kBF16) dt = DType::kBF16;
    // gguf-py cannot quantize rows that are not whole blocks; the converter then writes F16.
    if (type == GgufType::kQ8_0) dt = cols % 32 == 0 ? DType::kQ8_0 : DType::kF16;
  }
  std::vector<uint8_t> bytes(dtype_bytes(dt, n));
  switch (dt) {
    case DType::kF32:
      std::memcpy(bytes.data(), x, bytes.size());
      break;
    case DType::kF16:
    case DType::kBF16: {
      uint16_t* h = reinterpret_cast<uint16_t*>(bytes.data());
      for (int64_t i = 0; i < n; ++i)
        h[i] = dt == DType::kF16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
      break;
    }
    case DType::kQ8_0:
      quantize_row_q8_0(x, bytes.data(), n);
      break;
    default:
      TSFT_CHECK(false, "unexpected dtype");
  }
  gw.add_tensor(name, dt, ne, bytes.data());
}

// llama.cpp's converter turns Llama 3's frequency schedule into per-frequency divisors
// (rope_freqs.weight), computed as its generate_extra_tensors does.
std::vector<float> llama3_freq_factors(const ModelConfig& cfg) {
  const RopeScaling& s = cfg.rope_scaling;
  const double low_wavelen = s.original_max_position / s.low_freq_factor;
  const double high_wavelen = s.original_max_position / s.high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < cfg.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(cfg.rope_theta),
                                       static_cast<double>(i) / static_cast<double>(cfg.head_dim));
    const double wavelen = 2.0 * M_PI / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(s.factor);
    } else {
      const double smooth = (s.original_max_position / wavelen - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / s.factor + smooth)));
    }
  }
  return out;
}

const char* pre_name(const TokenizerSpec& s, const std::string& path) {
  switch (s.pre) {
    case PreTokenizerKind::kSmolLM2:
      return "smollm";
    case PreTokenizerKind::kGpt2:
      return "gpt2";
    case PreTokenizerKind::kQwen2:
      return "qwen2";
    case PreTokenizerKind::kLlama3:
      return "llama-bpe";
  }
  fail(path, ": tokenizer pre-tokenizer has no GGUF name");
}

// tokenizer.ggml.*: tokens in GPT-2's byte alphabet (as stored), added tokens as their content,
// token_type 1 normal / 3 control (special added) / 4 user-defined (other added) / 5 unused (the
// padding rows of an embedding larger than the tokenizer, named [PADn] as the converter does).
void add_tokenizer(GgufWriter& gw, const Tokenizer& tok, const ModelConfig& cfg,
                   const std::string& path) {
  const TokenizerSpec& s = tok.spec();
  if (s.model != ModelKind::kByteLevelBpe)
    fail(path,
         ": only byte-level BPE tokenizers can be exported to GGUF (this one is "
         "SentencePiece-style: llama.cpp needs token scores we do not have)");
  if (s.ignore_merges != (s.pre == PreTokenizerKind::kLlama3) || s.fuse_unk)
    fail(path,
         ": the tokenizer's BPE options (ignore_merges/fuse_unk) have no GGUF equivalent "
         "for its pre-tokenizer");
  const int64_t n_tok = tok.vocab_size();
  if (n_tok > cfg.vocab)
    fail(path, ": the tokenizer has ", n_tok, " tokens but the model only ", cfg.vocab,
         " embedding rows");
  std::vector<std::string> tokens(static_cast<size_t>(cfg.vocab));
  std::vector<int32_t> types(static_cast<size_t>(cfg.vocab), 1);
  for (int64_t i = 0; i < cfg.vocab; ++i) {
    if (i < static_cast<int64_t>(s.vocab.size())) {
      tokens[i] = s.vocab[i];
    } else {
      tokens[i] = "[PAD" + std::to_string(i) + "]";
      types[i] = 5;
    }
  }
  for (const AddedToken& t : s.added) {
    tokens[t.id] = t.content;
    types[t.id] = t.special ? 3 : 4;
  }
  std::vector<std::string> merges;
  merges.reserve(s.merges.size());
  for (const auto& [a, b] : s.merges) merges.push_back(a + " " + b);
  gw.set_string("tokenizer.ggml.model", "gpt2");
  gw.set_string("tokenizer.ggml.pre", pre_name(s, path));
  gw.set_string_array("tokenizer.ggml.tokens", tokens);
  gw.set_i32_array("tokenizer.ggml.token_type", types);
  gw.set_string_array("tokenizer.ggml.merges", merges);
  if (tok.pad_id() >= 0) gw.set_u32("tokenizer.ggml.padding_token_id", tok.pad_id());
  gw.set_bool("tokenizer.ggml.add_bos_token", tok.add_bos());
  if (!tok.chat_template().empty()) gw.set_string("tokenizer.chat_template", tok.chat_template());
}

}  // namespace

GgufType parse_gguf_type(const std::string& s, const std::string& what) {
  if (s == "f32") return GgufType::kF32;
  if (s == "f16") return GgufType::kF16;
  if (s == "bf16") return GgufType::kBF16;
  if (s == "q8_0") return GgufType::kQ8_0;
  fail(what, ": unknown GGUF type '", s, "' (known: f32, f16, bf16, q8_0)");
}

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kF32:
      return "f32";
    case GgufType::kF16:
      return "f16";
    case GgufType::kBF16:
      return "bf16";
    case GgufType::kQ8_0:
      return "q8_0";
  }
  return "?";
}

void write_gguf_model(const std::string& path, const ModelConfig& cfg, const ModelWeights& w,
                      const Tokenizer* tok, const GenerationConfig* gen, GgufType type) {
  const ArchSpec& spec = arch_spec(cfg.arch);
  const std::string a = std::string(spec.name) + ".";
  GgufWriter gw;
  gw.set_string("general.architecture", std::string(spec.name));
  gw.set_string("general.type", "model");
  gw.set_u32("general.file_type", file_type_id(type));
  gw.set_u32("general.quantization_version", 2);
  gw.set_u32(a + "vocab_size", static_cast<uint32_t>(cfg.vocab));
  gw.set_u32(a + "context_length", static_cast<uint32_t>(cfg.max_positions));
  gw.set_u32(a + "embedding_length", static_cast<uint32_t>(cfg.hidden));
  gw.set_u32(a + "block_count", static_cast<uint32_t>(cfg.n_layers));
  gw.set_u32(a + "feed_forward_length", static_cast<uint32_t>(cfg.intermediate));
  gw.set_u32(a + "attention.head_count", static_cast<uint32_t>(cfg.n_heads));
  gw.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(cfg.n_kv_heads));
  gw.set_u32(a + "attention.key_length", static_cast<uint32_t>(cfg.head_dim));
  gw.set_u32(a + "attention.value_length", static_cast<uint32_t>(cfg.head_dim));
  gw.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(cfg.head_dim));
  gw.set_f32(a + "attention.layer_norm_rms_epsilon", cfg.rms_eps);
  gw.set_f32(a + "rope.freq_base", cfg.rope_theta);

  std::vector<float> freq_factors;
  switch (cfg.rope_scaling.type) {
    case RopeScaling::Type::kNone:
      break;
    case RopeScaling::Type::kLinear:
      gw.set_string(a + "rope.scaling.type", "linear");
      gw.set_f32(a + "rope.scaling.factor", cfg.rope_scaling.factor);
      break;
    case RopeScaling::Type::kLlama3:
      freq_factors = llama3_freq_factors(cfg);
      break;
    case RopeScaling::Type::kFactors:
      freq_factors = cfg.rope_scaling.freq_factors;
      break;
  }
  // llama.cpp reads rope_freqs.weight for the llama arch only.
  if (!freq_factors.empty() && cfg.arch != Arch::kLlama)
    fail(path, ": per-frequency RoPE factors are only read by llama.cpp for the llama arch, not ",
         spec.name);

  // End-of-generation ids: the tokenizer's eos as eos_token_id, one more (e.g. <|im_end|> beside
  // <|endoftext|>) as eot_token_id; llama.cpp stops at both.
  std::vector<int32_t> eog = gen != nullptr && !gen->eos_ids.empty() ? gen->eos_ids : cfg.eos_ids;
  const int32_t eos = tok != nullptr && tok->eos_id() >= 0 ? tok->eos_id()
                      : eog.empty()                        ? -1
                                                           : eog[0];
  std::vector<int32_t> others;
  for (int32_t id : eog)
    if (id != eos && std::find(others.begin(), others.end(), id) == others.end())
      others.push_back(id);
  if (others.size() > 1)
    fail(path, ": GGUF holds two end-of-generation ids (eos and eot); this model has ",
         others.size() + 1);
  const int32_t bos = tok != nullptr && tok->bos_id() >= 0 ? tok->bos_id() : cfg.bos_id;
  if (bos >= 0) gw.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(bos));
  if (eos >= 0) gw.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eos));
  if (!others.empty()) gw.set_u32("tokenizer.ggml.eot_token_id", static_cast<uint32_t>(others[0]));
  if (tok != nullptr) add_tokenizer(gw, *tok, cfg, path);

  // for_each only visits; it is non-const because loaders fill the tensors through it.
  const bool permuted = spec.gguf_permuted_qk;
  const_cast<ModelWeights&>(w).for_each(cfg, [&](const std::string& hf, Tensor& t, Tensor*) {
    TSFT_CHECK(t.data != nullptr && t.dtype == DType::kF32, hf, " has no float32 data to export");
    const bool is_matrix = t.shape.ndim == 2;
    const int64_t rows = t.shape[0], cols = is_matrix ? t.shape[1] : 1;
    const bool is_q = hf.find("q_proj.") != std::string::npos;
    const bool is_k = hf.find("k_proj.") != std::string::npos;
    const std::string name = gguf_tensor_name(hf);
    if (permuted && (is_q || is_k)) {
      std::vector<float> p(t.f32(), t.f32() + rows * cols);
      permute_qk_rows(reinterpret_cast<uint8_t*>(p.data()), rows, cols * sizeof(float),
                      is_q ? cfg.n_heads : cfg.n_kv_heads, /*to_gguf=*/true);
      add_tensor(gw, name, p.data(), rows, cols, is_matrix, type);
    } else {
      add_tensor(gw, name, t.f32(), rows, cols, is_matrix, type);
    }
  });
  if (!freq_factors.empty())
    add_tensor(gw, "rope_freqs.weight", freq_factors.data(),
               static_cast<int64_t>(freq_factors.size()), 1, false, GgufType::kF32);
  gw.write(path);
}

}  // namespace tsft
