#include "io/hf_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace tsft {
namespace {

using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json parse_json(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail(source, ": invalid JSON at byte ", e.byte, ": ", e.what());
  }
}

class Fields {
 public:
  Fields(const json& j, std::string source) : j_(j), source_(std::move(source)) {}

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  int64_t integer(const char* key) const {
    if (!has(key)) fail(source_, ": missing field '", key, "'");
    return integer_or(key, 0);
  }
  int64_t integer_or(const char* key, int64_t def) const {
    if (!has(key)) return def;
    const json& v = j_[key];
    if (!v.is_number_integer()) fail(source_, ": field '", key, "' must be an integer, got ", v.dump());
    return v.get<int64_t>();
  }
  double number_or(const char* key, double def) const {
    if (!has(key)) return def;
    const json& v = j_[key];
    if (!v.is_number()) fail(source_, ": field '", key, "' must be a number, got ", v.dump());
    return v.get<double>();
  }
  bool boolean_or(const char* key, bool def) const {
    if (!has(key)) return def;
    const json& v = j_[key];
    if (!v.is_boolean()) fail(source_, ": field '", key, "' must be true or false, got ", v.dump());
    return v.get<bool>();
  }
  std::string string_or(const char* key, const std::string& def) const {
    if (!has(key)) return def;
    const json& v = j_[key];
    if (!v.is_string()) fail(source_, ": field '", key, "' must be a string, got ", v.dump());
    return v.get<std::string>();
  }
  // An int or a list of ints (eos_token_id).
  std::vector<int32_t> int_list(const char* key) const {
    std::vector<int32_t> out;
    if (!has(key)) return out;
    const json& v = j_[key];
    if (v.is_number_integer()) {
      out.push_back(v.get<int32_t>());
    } else if (v.is_array()) {
      for (const auto& e : v) {
        if (!e.is_number_integer()) fail(source_, ": field '", key, "' must hold integers");
        out.push_back(e.get<int32_t>());
      }
    } else {
      fail(source_, ": field '", key, "' must be an integer or a list of integers");
    }
    return out;
  }
  const std::string& source() const { return source_; }

 private:
  const json& j_;
  std::string source_;
};

RopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  RopeScaling rs;
  if (j.is_null()) return rs;
  if (!j.is_object()) fail(source, ": field 'rope_scaling' must be an object or null");
  Fields f(j, source + " rope_scaling");
  std::string type = f.string_or("rope_type", f.string_or("type", "default"));
  if (type == "default") return rs;
  if (type == "linear") {
    rs.type = RopeScaling::Type::kLinear;
    rs.factor = static_cast<float>(f.number_or("factor", 1.0));
  } else if (type == "llama3") {
    rs.type = RopeScaling::Type::kLlama3;
    rs.factor = static_cast<float>(f.number_or("factor", 8.0));
    rs.low_freq_factor = static_cast<float>(f.number_or("low_freq_factor", 1.0));
    rs.high_freq_factor = static_cast<float>(f.number_or("high_freq_factor", 4.0));
    rs.original_max_position =
        static_cast<float>(f.integer("original_max_position_embeddings"));
  } else {
    fail(source, ": rope_scaling type '", type, "' is not supported (supported: default, linear, llama3)");
  }
  if (!(rs.factor > 0.0f)) fail(source, ": rope_scaling.factor must be positive");
  return rs;
}

}  // namespace

ModelConfig parse_hf_config_text(const std::string& text, const std::string& source) {
  const json j = parse_json(text, source);
  if (!j.is_object()) fail(source, ": expected a JSON object");
  Fields f(j, source);
  std::string hf_class;
  if (f.has("architectures")) {
    const json& a = j["architectures"];
    if (!a.is_array() || a.empty() || !a[0].is_string())
      fail(source, ": field 'architectures' must be a non-empty list of strings");
    hf_class = a[0].get<std::string>();
  }
  const std::string model_type = f.string_or("model_type", "");
  const ArchSpec* spec = find_arch_by_hf(model_type, hf_class);
  if (spec == nullptr)
    fail(source, ": unsupported architecture (model_type '", model_type, "', architectures '",
         hf_class, "'); supported: ", known_arch_names());

  ModelConfig c;
  c.arch = spec->arch;
  c.qkv_bias = spec->qkv_bias;
  c.qk_norm = spec->qk_norm;
  c.hidden = f.integer("hidden_size");
  c.n_layers = f.integer("num_hidden_layers");
  c.n_heads = f.integer("num_attention_heads");
  c.n_kv_heads = f.integer_or("num_key_value_heads", c.n_heads);
  c.head_dim = f.integer_or("head_dim", c.n_heads > 0 ? c.hidden / c.n_heads : 0);
  c.intermediate = f.integer("intermediate_size");
  c.vocab = f.integer("vocab_size");
  c.max_positions = f.integer_or("max_position_embeddings", 2048);
  c.rms_eps = static_cast<float>(f.number_or("rms_norm_eps", 1e-6));
  c.rope_theta = static_cast<float>(f.number_or("rope_theta", 10000.0));
  c.tie_embeddings = f.boolean_or("tie_word_embeddings", false);
  if (f.boolean_or("attention_bias", false) && !c.qkv_bias)
    fail(source, ": attention_bias=true is not supported for ", spec->name);
  if (f.boolean_or("mlp_bias", false)) fail(source, ": mlp_bias=true is not supported");
  if (j.contains("rope_scaling")) c.rope_scaling = parse_rope_scaling(j["rope_scaling"], source);
  // transformers >= 5 writes "rope_parameters": {"rope_theta", "rope_type", factor, ...}.
  if (j.contains("rope_parameters") && !j["rope_parameters"].is_null()) {
    const json& rp = j["rope_parameters"];
    if (!rp.is_object()) fail(source, ": field 'rope_parameters' must be an object");
    Fields rf(rp, source + " rope_parameters");
    c.rope_theta = static_cast<float>(rf.number_or("rope_theta", c.rope_theta));
    c.rope_scaling = parse_rope_scaling(rp, source + " rope_parameters");
  }
  const auto bos = f.int_list("bos_token_id");
  if (!bos.empty()) c.bos_id = bos[0];
  c.eos_ids = f.int_list("eos_token_id");
  c.validate(source);
  return c;
}

ModelConfig parse_hf_config(const std::string& path) {
  return parse_hf_config_text(read_text(path), path);
}

void apply_generation_config(const std::string& path, GenerationConfig& gen) {
  const json j = parse_json(read_text(path), path);
  if (!j.is_object()) fail(path, ": expected a JSON object");
  Fields f(j, path);
  const auto eos = f.int_list("eos_token_id");
  if (!eos.empty()) gen.eos_ids = eos;
  const bool sample = f.boolean_or("do_sample", false);
  if (sample) {
    gen.sampling.temperature = static_cast<float>(f.number_or("temperature", 1.0));
    gen.sampling.top_p = static_cast<float>(f.number_or("top_p", 1.0));
    gen.sampling.top_k = static_cast<int32_t>(f.integer_or("top_k", 50));
  }
  if (f.has("max_new_tokens")) gen.max_new_tokens = f.integer("max_new_tokens");
}

}  // namespace tsft
