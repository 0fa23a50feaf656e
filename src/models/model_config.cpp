#include "models/model_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/gguf.h"

namespace hearth {

std::vector<float> ModelConfig::rope_inv_freq() const {
  const int64_t half = rope_dim / 2;
  std::vector<float> inv(half);
  for (int64_t i = 0; i < half; ++i) {
    double f = std::pow(static_cast<double>(rope_theta), -2.0 * i / static_cast<double>(rope_dim));
    if (!rope_freq_factors.empty()) f /= rope_freq_factors[i];
    switch (rope_scaling.kind) {
      case RopeScaling::Kind::None:
        break;
      case RopeScaling::Kind::Linear:
        f /= rope_scaling.factor;
        break;
      case RopeScaling::Kind::Llama3: {
        // Long wavelengths are stretched by `factor`, short ones kept, with a smooth blend
        // between (transformers' _compute_llama3_parameters).
        const double old_ctx = static_cast<double>(rope_scaling.original_context);
        const double low_wavelen = old_ctx / rope_scaling.low_freq_factor;
        const double high_wavelen = old_ctx / rope_scaling.high_freq_factor;
        const double wavelen = 2.0 * M_PI / f;
        if (wavelen > low_wavelen) {
          f /= rope_scaling.factor;
        } else if (wavelen >= high_wavelen) {
          const double smooth = (old_ctx / wavelen - rope_scaling.low_freq_factor) /
                                (rope_scaling.high_freq_factor - rope_scaling.low_freq_factor);
          f = (1.0 - smooth) * f / rope_scaling.factor + smooth * f;
        }
        break;
      }
    }
    inv[i] = static_cast<float>(f);
  }
  return inv;
}

void ModelConfig::validate(const std::string& source) const {
  auto require = [&](bool ok, const char* what) {
    if (!ok) fail_format("{}: invalid model config: {}", source, what);
  };
  require(n_vocab > 0, "vocabulary size must be positive");
  require(dim > 0, "hidden size must be positive");
  require(n_layers > 0, "layer count must be positive");
  require(n_heads > 0, "head count must be positive");
  require(n_kv_heads > 0 && n_heads % n_kv_heads == 0,
          "the KV head count must divide the head count");
  require(head_dim > 0 && head_dim % 2 == 0, "head size must be positive and even");
  require(ffn_dim > 0, "feed-forward size must be positive");
  require(rope_dim > 0 && rope_dim <= head_dim && rope_dim % 2 == 0,
          "rotary dimension must be even and at most the head size");
  require(rope_freq_factors.empty() || static_cast<int64_t>(rope_freq_factors.size()) == rope_dim / 2,
          "rope_freqs.weight must have rope_dim/2 entries");
  require(rms_eps > 0, "RMS norm epsilon must be positive");
  require(max_context > 0, "context length must be positive");
}

ModelConfig config_from_gguf(const io::GGUFFile& f) {
  ModelConfig c;
  c.arch = f.get_string("general.architecture");
  if (c.arch != "llama")
    fail_format("{}: architecture '{}' is not supported (supported: llama — Llama 1/2/3, Mistral, "
                "TinyLlama)", f.path(), c.arch);
  const std::string a = c.arch + ".";
  c.name = f.find_string("general.name").value_or("");
  c.dim = f.get_int(a + "embedding_length");
  c.n_layers = f.get_int(a + "block_count");
  c.n_heads = f.get_int(a + "attention.head_count");
  c.n_kv_heads = f.find_int(a + "attention.head_count_kv").value_or(c.n_heads);
  c.head_dim = f.find_int(a + "attention.key_length").value_or(c.n_heads ? c.dim / c.n_heads : 0);
  c.ffn_dim = f.get_int(a + "feed_forward_length");
  c.max_context = f.get_int(a + "context_length");
  c.rms_eps = static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon"));
  c.rope_theta = static_cast<float>(f.find_float(a + "rope.freq_base").value_or(10000.0));
  c.rope_dim = f.find_int(a + "rope.dimension_count").value_or(c.head_dim);
  c.rope_mode = ops::RopeMode::Interleaved;
  if (auto type = f.find_string(a + "rope.scaling.type"); type && *type == "linear") {
    c.rope_scaling.kind = RopeScaling::Kind::Linear;
    c.rope_scaling.factor = static_cast<float>(f.get_float(a + "rope.scaling.factor"));
  }
  c.sliding_window = f.find_int(a + "attention.sliding_window").value_or(0);
  if (const auto* freqs = f.find_tensor("rope_freqs.weight")) {
    if (freqs->dtype != DType::F32)
      fail_format("{}: tensor 'rope_freqs.weight' must be F32, found {}", f.path(),
                  dtype_name(freqs->dtype));
    const auto* p = static_cast<const float*>(freqs->data);
    c.rope_freq_factors.assign(p, p + freqs->numel());
  }
  const TensorView& embd = f.tensor("token_embd.weight");
  c.n_vocab = f.find_int(a + "vocab_size").value_or(embd.shape.empty() ? 0 : embd.shape[0]);
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  c.validate(f.path());
  return c;
}

namespace {

template <typename T>
T hf_required(const nlohmann::json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    fail_format("{}: config.json has no '{}' (is this a complete Hugging Face model folder?)", path,
                key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail_format("{}: config.json key '{}' has the wrong type ({})", path, key, it->type_name());
  }
}

template <typename T>
T hf_optional(const nlohmann::json& j, const char* key, T fallback, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return hf_required<T>(j, key, path);
}

}  // namespace

ModelConfig config_from_hf(const nlohmann::json& j, const std::string& path) {
  ModelConfig c;
  if (!j.is_object()) fail_format("{}: config.json is not a JSON object", path);
  const auto model_type = hf_optional<std::string>(j, "model_type", "", path);
  if (model_type != "llama" && model_type != "mistral")
    fail_format("{}: model_type '{}' is not supported (supported: llama, mistral)", path,
                model_type.empty() ? "(missing)" : model_type);
  c.arch = "llama";
  c.dim = hf_required<int64_t>(j, "hidden_size", path);
  c.n_layers = hf_required<int64_t>(j, "num_hidden_layers", path);
  c.n_heads = hf_required<int64_t>(j, "num_attention_heads", path);
  c.n_kv_heads = hf_optional<int64_t>(j, "num_key_value_heads", c.n_heads, path);
  c.head_dim = hf_optional<int64_t>(j, "head_dim", c.n_heads ? c.dim / c.n_heads : 0, path);
  c.ffn_dim = hf_required<int64_t>(j, "intermediate_size", path);
  c.n_vocab = hf_required<int64_t>(j, "vocab_size", path);
  c.max_context = hf_optional<int64_t>(j, "max_position_embeddings", 2048, path);
  c.rms_eps = static_cast<float>(hf_optional<double>(j, "rms_norm_eps", 1e-6, path));
  c.rope_theta = static_cast<float>(hf_optional<double>(j, "rope_theta", 10000.0, path));
  c.rope_dim = c.head_dim;
  c.rope_mode = ops::RopeMode::Neox;
  c.tied_embeddings = hf_optional<bool>(j, "tie_word_embeddings", false, path);
  if (model_type == "mistral") c.sliding_window = hf_optional<int64_t>(j, "sliding_window", 0, path);
  const auto act = hf_optional<std::string>(j, "hidden_act", "silu", path);
  if (act != "silu") fail_format("{}: hidden_act '{}' is not supported (llama uses silu)", path, act);
  if (auto rs = j.find("rope_scaling"); rs != j.end() && rs->is_object()) {
    std::string type = hf_optional<std::string>(*rs, "rope_type", "", path);
    if (type.empty()) type = hf_optional<std::string>(*rs, "type", "", path);
    c.rope_scaling.factor = static_cast<float>(hf_optional<double>(*rs, "factor", 1.0, path));
    if (type == "llama3") {
      c.rope_scaling.kind = RopeScaling::Kind::Llama3;
      c.rope_scaling.low_freq_factor = static_cast<float>(hf_optional<double>(*rs, "low_freq_factor", 1.0, path));
      c.rope_scaling.high_freq_factor = static_cast<float>(hf_optional<double>(*rs, "high_freq_factor", 4.0, path));
      c.rope_scaling.original_context =
          hf_optional<int64_t>(*rs, "original_max_position_embeddings", 8192, path);
    } else if (type == "linear") {
      c.rope_scaling.kind = RopeScaling::Kind::Linear;
    } else if (!type.empty() && type != "default") {
      fail_format("{}: rope_scaling type '{}' is not supported (supported: linear, llama3)", path,
                  type);
    }
  }
  c.validate(path);
  return c;
}

}  // namespace hearth
