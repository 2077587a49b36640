// The registry of supported architectures: one entry per family (arch_*.cpp), naming it as
// Hugging Face (config.json "architectures"/"model_type") and GGUF ("general.architecture") do.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tsft {

enum class Arch { kLlama, kQwen2, kQwen3 };

struct ArchSpec {
  Arch arch;
  std::string_view name;                       // our name, also GGUF's general.architecture
  std::vector<std::string_view> hf_model_types;  // config.json "model_type"
  std::vector<std::string_view> hf_classes;      // config.json "architectures"
  bool qkv_bias;         // q/k/v projections carry a bias
  bool qk_norm;          // per-head RMSNorm on q and k before RoPE
  bool gguf_permuted_qk; // llama.cpp's converter interleaves q/k rows for its RoPE: undo on load
};

const std::vector<ArchSpec>& arch_registry();
const ArchSpec& arch_spec(Arch arch);
// nullptr when unknown; the caller reports the user error with the file name.
const ArchSpec* find_arch_by_name(std::string_view name);
const ArchSpec* find_arch_by_hf(std::string_view model_type, std::string_view hf_class);
std::string known_arch_names();

// One registration function per architecture file.
ArchSpec make_llama_spec();
ArchSpec make_qwen2_spec();
ArchSpec make_qwen3_spec();

}  // namespace tsft
