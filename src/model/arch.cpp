#include "model/arch.h"

#include "core/error.h"

namespace tsft {

const std::vector<ArchSpec>& arch_registry() {
  static const std::vector<ArchSpec> kRegistry = {make_llama_spec(), make_qwen2_spec(),
                                                  make_qwen3_spec()};
  return kRegistry;
}

const ArchSpec& arch_spec(Arch arch) {
  for (const auto& s : arch_registry())
    if (s.arch == arch) return s;
  TSFT_CHECK(false, "architecture missing from the registry");
  __builtin_unreachable();
}

const ArchSpec* find_arch_by_name(std::string_view name) {
  for (const auto& s : arch_registry())
    if (s.name == name) return &s;
  return nullptr;
}

const ArchSpec* find_arch_by_hf(std::string_view model_type, std::string_view hf_class) {
  for (const auto& s : arch_registry()) {
    for (auto t : s.hf_model_types)
      if (!model_type.empty() && t == model_type) return &s;
    for (auto c : s.hf_classes)
      if (!hf_class.empty() && c == hf_class) return &s;
  }
  return nullptr;
}

std::string known_arch_names() {
  std::string out;
  for (const auto& s : arch_registry()) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

}  // namespace tsft
