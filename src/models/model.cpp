#include "models/model.h"

#include <cctype>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "models/llama.h"

namespace hearth {
namespace {

// Built-in architectures are listed here (not registered from static initialisers, which a
// static library's linker may drop).
std::map<std::string, ArchitectureFactory>& registry() {
  static std::map<std::string, ArchitectureFactory> r{{"llama", &make_llama}};
  return r;
}

}  // namespace

bool register_architecture(const std::string& arch, ArchitectureFactory factory) {
  registry()[arch] = std::move(factory);
  return true;
}

kv::KVType default_kv_type(bool all_matrices_f32) {
  return all_matrices_f32 ? kv::KVType::F32 : kv::KVType::F16;
}

std::optional<kv::KVType> parse_kv_type(const std::string& name) {
  std::string n = name;
  for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (n == "auto") return std::nullopt;
  if (n == "f32") return kv::KVType::F32;
  if (n == "f16") return kv::KVType::F16;
  fail("--kv-type {}: choose auto (F32 for a model all in F32, else F16), f32 or f16", name);
}

kv::KVType Model::kv_type() const {
  if (kv_type_) return *kv_type_;
  bool all_f32 = true;
  for (const auto& [name, t] : weights_->all())
    if (t->shape.size() >= 2 && t->dtype != DType::F32) all_f32 = false;
  return default_kv_type(all_f32);
}

kv::KVCacheConfig kv_cache_config(const ModelConfig& config, int64_t n_tokens,
                                  int64_t block_size, kv::KVType type) {
  kv::KVCacheConfig c;
  c.type = type;
  c.n_layers = config.n_layers;
  c.kv_dim = config.kv_dim();
  c.head_dim = config.head_dim;
  c.block_size = block_size;
  c.n_blocks = (n_tokens + block_size - 1) / block_size;
  return c;
}

uint64_t Model::weight_bytes_per_token() const {
  uint64_t bytes = 0;
  for (const auto& [name, t] : weights_->all()) {
    if (t->shape.size() < 2) continue;  // norms: negligible, and cached as F32
    if (name == "token_embd.weight" && !config_.tied_embeddings) {
      bytes += t->row_bytes();  // one row gathered per token
      continue;
    }
    bytes += t->nbytes;
  }
  return bytes;
}

void Model::offload(const GpuOffload& offload) {
  if (offload.gpu_layers > 0)
    fail("the '{}' architecture has no GPU path; run it with --gpu-layers 0", config_.arch);
}

std::unique_ptr<Model> make_model(ModelConfig config, std::unique_ptr<WeightSource> weights) {
  auto it = registry().find(config.arch);
  if (it == registry().end())
    fail_format("{}: architecture '{}' is not supported", weights->path(), config.arch);
  return it->second(std::move(config), std::move(weights));
}

std::unique_ptr<Model> load_model(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    const std::string config_path = (fs::path(path) / "config.json").string();
    const auto json = io::read_json_file(config_path);
    ModelConfig config = config_from_hf(json, config_path);
    config.name = fs::path(path).filename().string();
    auto st = std::make_shared<const io::SafetensorsModel>(io::SafetensorsModel::open_folder(path));
    return make_model(std::move(config), hf_weights(std::move(st), path));
  }
  return load_gguf_model(std::make_shared<const io::GGUFFile>(io::GGUFFile::open(path)));
}

std::unique_ptr<Model> load_gguf_model(std::shared_ptr<const io::GGUFFile> file) {
  ModelConfig config = config_from_gguf(*file);
  if (config.name.empty()) config.name = std::filesystem::path(file->path()).stem().string();
  return make_model(std::move(config), gguf_weights(std::move(file)));
}

}  // namespace hearth
