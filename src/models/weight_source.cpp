#include "models/weight_source.h"

#include <array>
#include <charconv>

#include "core/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"

namespace hearth {

const TensorView& WeightSource::get(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  const std::string in_file = file_name(name);
  if (in_file != name)
    fail_format("{}: tensor '{}' ({}) is missing", path(), in_file, name);
  fail_format("{}: tensor '{}' is missing", path(), name);
}

const TensorView& WeightSource::get(std::string_view name, const std::vector<int64_t>& shape) const {
  const TensorView& t = get(name);
  if (t.shape != shape) {
    TensorView expected;
    expected.shape = shape;
    fail_format("{}: tensor '{}' has shape {}, expected {} from the model's config", path(),
                file_name(name), t.shape_string(), expected.shape_string());
  }
  return t;
}

namespace {

class GGUFWeights final : public WeightSource {
 public:
  explicit GGUFWeights(std::shared_ptr<const io::GGUFFile> f) : file_(std::move(f)) {}
  const TensorView* find(std::string_view name) const override { return file_->find_tensor(name); }
  const std::string& path() const override { return file_->path(); }
  std::vector<std::pair<std::string, const TensorView*>> all() const override {
    std::vector<std::pair<std::string, const TensorView*>> out;
    for (const auto& t : file_->tensors()) out.emplace_back(t.name, &t);
    return out;
  }
  bool mapped_from_file() const override { return file_->is_file_mapping(); }

 private:
  std::shared_ptr<const io::GGUFFile> file_;
};

struct NamePair {
  const char* gguf;
  const char* hf;
};
constexpr std::array<NamePair, 3> kGlobalNames{{
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
}};
constexpr std::array<NamePair, 9> kLayerNames{{
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
}};

class HFWeights final : public WeightSource {
 public:
  HFWeights(std::shared_ptr<const io::SafetensorsModel> m, std::string folder)
      : model_(std::move(m)), folder_(std::move(folder)) {}
  const TensorView* find(std::string_view name) const override {
    const std::string hf = hf_name_for(name);
    return hf.empty() ? nullptr : model_->find_tensor(hf);
  }
  const std::string& path() const override { return folder_; }
  std::string file_name(std::string_view name) const override {
    std::string hf = hf_name_for(name);
    return hf.empty() ? std::string(name) : hf;
  }
  std::vector<std::pair<std::string, const TensorView*>> all() const override {
    std::vector<std::pair<std::string, const TensorView*>> out;
    for (const auto& [gguf, hf] : kGlobalNames)
      if (const auto* t = model_->find_tensor(hf)) out.emplace_back(gguf, t);
    for (int layer = 0;; ++layer) {
      bool any = false;
      for (const auto& [gguf, hf] : kLayerNames) {
        const std::string g = "blk." + std::to_string(layer) + "." + gguf;
        if (const auto* t = find(g)) {
          out.emplace_back(g, t);
          any = true;
        }
      }
      if (!any) break;
    }
    return out;
  }

 private:
  std::shared_ptr<const io::SafetensorsModel> model_;
  std::string folder_;
};

}  // namespace

std::string hf_name_for(std::string_view name) {
  for (const auto& [gguf, hf] : kGlobalNames)
    if (name == gguf) return hf;
  if (!name.starts_with("blk.")) return "";
  const std::string_view rest = name.substr(4);
  int layer = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), layer);
  if (ec != std::errc() || p == rest.data() + rest.size() || *p != '.') return "";
  const std::string_view suffix(p + 1, rest.data() + rest.size() - (p + 1));
  for (const auto& [gguf, hf] : kLayerNames)
    if (suffix == gguf) return "model.layers." + std::to_string(layer) + "." + hf;
  return "";
}

std::unique_ptr<WeightSource> gguf_weights(std::shared_ptr<const io::GGUFFile> file) {
  return std::make_unique<GGUFWeights>(std::move(file));
}

std::unique_ptr<WeightSource> hf_weights(std::shared_ptr<const io::SafetensorsModel> model,
                                         std::string folder) {
  return std::make_unique<HFWeights>(std::move(model), std::move(folder));
}

}  // namespace hearth
