#include "fit/model_shape.h"

#include <charconv>
#include <filesystem>
#include <map>
#include <memory>

#include "core/error.h"
#include "fit/file_index.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/model_locator.h"
#include "io/safetensors.h"
#include "models/weight_source.h"

namespace hearth::fit {
namespace {

// "blk.12.attn_q.weight" -> 12; -1 for tensors outside the blocks.
int64_t layer_of(const std::string& name) {
  if (!name.starts_with("blk.")) return -1;
  int64_t layer = -1;
  const char* begin = name.data() + 4;
  const auto [end, ec] = std::from_chars(begin, name.data() + name.size(), layer);
  return ec == std::errc() && end != begin ? layer : -1;
}

// The type most of the matrix bytes are stored in (what "the file's type" means to a person).
DType dominant_type(const std::vector<WeightTensor>& tensors) {
  std::map<DType, uint64_t> bytes;
  for (const auto& t : tensors)
    if (t.shape.size() >= 2) bytes[t.stored] += t.stored_bytes;
  DType best = DType::F32;
  uint64_t most = 0;
  for (const auto& [type, n] : bytes)
    if (n > most) best = type, most = n;
  return best;
}

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

std::vector<WeightTensor> decoder_tensors(const ModelConfig& c, const ArchExtras& x) {
  std::vector<WeightTensor> out;
  auto add = [&](std::string name, std::vector<int64_t> shape, int64_t layer, bool expert = false) {
    out.push_back({std::move(name), std::move(shape), layer, expert});
  };
  add("token_embd.weight", {c.n_vocab, c.dim}, -1);
  add("output_norm.weight", {c.dim}, -1);
  if (!c.tied_embeddings) add("output.weight", {c.n_vocab, c.dim}, -1);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(p + "attn_norm.weight", {c.dim}, i);
    add(p + "ffn_norm.weight", {c.dim}, i);
    for (int64_t k = 2; k < x.norms_per_layer; ++k)
      add(p + "extra_norm_" + std::to_string(k - 1) + ".weight", {c.dim}, i);
    add(p + "attn_q.weight", {c.q_dim(), c.dim}, i);
    add(p + "attn_k.weight", {c.kv_dim(), c.dim}, i);
    add(p + "attn_v.weight", {c.kv_dim(), c.dim}, i);
    add(p + "attn_output.weight", {c.dim, c.q_dim()}, i);
    if (x.qkv_bias) {
      add(p + "attn_q.bias", {c.q_dim()}, i);
      add(p + "attn_k.bias", {c.kv_dim()}, i);
      add(p + "attn_v.bias", {c.kv_dim()}, i);
    }
    if (x.qk_norm) {
      add(p + "attn_q_norm.weight", {c.head_dim}, i);
      add(p + "attn_k_norm.weight", {c.head_dim}, i);
    }
    if (x.n_experts > 0) {
      add(p + "ffn_gate_inp.weight", {x.n_experts, c.dim}, i);
      add(p + "ffn_gate_exps.weight", {x.n_experts, c.ffn_dim, c.dim}, i, true);
      add(p + "ffn_up_exps.weight", {x.n_experts, c.ffn_dim, c.dim}, i, true);
      add(p + "ffn_down_exps.weight", {x.n_experts, c.dim, c.ffn_dim}, i, true);
    } else {
      add(p + "ffn_gate.weight", {c.ffn_dim, c.dim}, i);
      add(p + "ffn_up.weight", {c.ffn_dim, c.dim}, i);
      add(p + "ffn_down.weight", {c.dim, c.ffn_dim}, i);
    }
  }
  return out;
}

ModelShape shape_from_catalog(const CatalogModel& m) {
  ModelShape s;
  s.id = m.id;
  s.name = m.name;
  s.config = m.config;
  s.extras = m.extras;
  s.tensors = decoder_tensors(m.config, m.extras);
  return s;
}

ModelShape shape_from_local(const std::string& spec) {
  const io::ModelLocation loc = io::locate_model(spec);
  ModelShape s;
  s.id = loc.path;
  s.local = true;
  std::unique_ptr<WeightSource> weights;
  if (loc.format == io::ModelFormat::GGUF) {
    auto file = std::make_shared<const io::GGUFFile>(io::GGUFFile::open(loc.path));
    s.config = config_from_gguf(*file);
    s.mapped_bytes = file->file_size();
    s.parsed_bytes = parsed_bytes(*file);
    weights = gguf_weights(std::move(file));
  } else {
    const std::string config_path = (std::filesystem::path(loc.path) / "config.json").string();
    s.config = config_from_hf(io::read_json_file(config_path), config_path);
    auto st = std::make_shared<const io::SafetensorsModel>(
        io::SafetensorsModel::open_folder(loc.path));
    for (const auto& f : st->files()) s.mapped_bytes += file_size(f.path());
    s.parsed_bytes = parsed_bytes(*st);
    weights = hf_weights(std::move(st), loc.path);
  }
  const ModelConfig& c = s.config;
  if (c.n_layers > kMaxPlanLayers)
    fail_format("{}: {} layers is not a plausible model (at most {})", loc.path, c.n_layers,
                kMaxPlanLayers);
  for (int64_t width : {c.dim, c.ffn_dim, c.n_vocab, c.q_dim(), c.kv_dim()})
    if (width > kMaxPlanWidth)
      fail_format("{}: a width of {} is not a plausible model (at most {})", loc.path, width,
                  kMaxPlanWidth);
  s.name = s.config.name.empty() ? std::filesystem::path(loc.path).filename().string()
                                 : s.config.name;
  for (const auto& [name, t] : weights->all()) {
    WeightTensor w{name, t->shape, layer_of(name), name.find("_exps.") != std::string::npos,
                   t->dtype, t->nbytes};
    if (w.layer >= s.config.n_layers)
      fail_format("{}: tensor '{}' belongs to block {} but the model has {} blocks", loc.path,
                  name, w.layer, s.config.n_layers);
    s.tensors.push_back(std::move(w));
  }
  if (s.tensors.empty()) fail_format("{}: the model has no weight tensors", loc.path);
  s.file_type = dominant_type(s.tensors);
  return s;
}

int64_t parameter_count(const ModelShape& m) {
  int64_t n = 0;
  for (const auto& t : m.tensors) {
    int64_t e = 1;
    for (int64_t d : t.shape) e *= d;
    n += e;
  }
  return n;
}

}  // namespace hearth::fit
