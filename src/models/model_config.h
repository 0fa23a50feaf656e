// The hyper-parameters of a decoder-only transformer, read from a GGUF file's metadata or an
// HF config.json. Everything the forward pass, the KV cache and the memory planner need to
// know about a model's shapes lives here, with one meaning regardless of the file format.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/ops.h"

namespace hearth {
namespace io {
class GGUFFile;
}

struct RopeScaling {
  enum class Kind { None, Linear, Llama3 };
  Kind kind = Kind::None;
  float factor = 1.0f;
  float low_freq_factor = 1.0f;   // llama3 only
  float high_freq_factor = 4.0f;  // llama3 only
  int64_t original_context = 8192;
};

struct ModelConfig {
  std::string arch;           // "llama" (Llama 1/2/3, Mistral, TinyLlama, ...)
  std::string name;           // general.name or the folder name, for display
  int64_t n_vocab = 0;
  int64_t dim = 0;            // hidden size
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;     // < n_heads: grouped-query attention
  int64_t head_dim = 0;
  int64_t ffn_dim = 0;
  int64_t max_context = 0;    // trained context length
  int64_t sliding_window = 0; // 0: full attention
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  int64_t rope_dim = 0;       // rotated dims per head (== head_dim for Llama)
  ops::RopeMode rope_mode = ops::RopeMode::Interleaved;
  RopeScaling rope_scaling;
  std::vector<float> rope_freq_factors;  // GGUF rope_freqs.weight (llama3 scaling baked in)
  bool tied_embeddings = false;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  // Inverse frequencies of the rotary embedding (rope_dim / 2 values), scaling applied.
  std::vector<float> rope_inv_freq() const;
  // Throws a FormatError naming `source` when a value is missing or inconsistent.
  void validate(const std::string& source) const;
};

// Reads `{arch}.*` keys (llama.context_length, llama.embedding_length, ...).
ModelConfig config_from_gguf(const io::GGUFFile& file);
// Reads an HF config.json (LlamaForCausalLM, MistralForCausalLM, ...). HF checkpoints store
// q/k rows in rotate-half order, so these configs use RopeMode::Neox.
ModelConfig config_from_hf(const nlohmann::json& config, const std::string& path);

}  // namespace hearth
