// The model catalog `hearth fit` plans for without any file: popular open-weight models with
// the architecture values of their published config.json (data/models.json, compiled in;
// format in docs/fit.md).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "models/model_config.h"

namespace hearth::fit {

// What the planner needs beyond hearth's ModelConfig to count a model's weights.
struct ArchExtras {
  int64_t n_experts = 0;         // mixture of experts: ModelConfig::ffn_dim is one expert's
  int64_t n_active_experts = 0;  // experts each token is routed through
  bool qkv_bias = false;         // q/k/v projections have biases (Qwen2)
  bool qk_norm = false;          // per-head RMSNorm of q and k (Qwen3, Gemma 3)
  int64_t norms_per_layer = 2;   // Gemma 2/3 add post-attention and post-FFN norms: 4
};

struct CatalogModel {
  std::string id;       // what --model takes: "mistral-7b-v0.1"
  std::string name;     // for display: "Mistral 7B v0.1"
  std::string hf_repo;  // "mistralai/Mistral-7B-v0.1"
  std::string family;
  double params_b = 0;         // published parameter count, billions
  double vision_params_b = 0;  // of which a vision encoder hearth does not plan for
  ModelConfig config;          // dims, layers, heads, KV heads, head size, vocabulary, FFN,
                               // max context, tied embeddings (arch "llama": the decoder
                               // hearth plans every catalog model as)
  ArchExtras extras;
  std::string source;  // where the values come from
};

// Parses a catalog; throws FormatError naming `origin`, the entry and the field on bad input.
std::vector<CatalogModel> parse_catalog(std::string_view json_text, const std::string& origin);
// The compiled-in catalog, parsed once.
const std::vector<CatalogModel>& catalog();
// By id or HF repository, ignoring case and punctuation ("Mistral-7B-v0.1",
// "mistralai/mistral-7b-v0.1"); nullptr when there is none.
const CatalogModel* find_catalog_model(std::string_view id);
// Ids of catalog models that look like `query`, best first (for "did you mean").
std::vector<std::string> similar_catalog_ids(std::string_view query);

}  // namespace hearth::fit
