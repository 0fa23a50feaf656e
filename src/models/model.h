// A loaded model: its config, its weights, and the forward pass of its architecture.
// Architectures (one file each: llama.cpp, ...) compose ops only; they never see a kernel.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kv/kv_cache.h"
#include "models/batch.h"
#include "models/gpu_offload.h"
#include "models/model_config.h"
#include "models/weight_source.h"

namespace hearth {

class ThreadPool;

// The KV cache shape for a model of this config holding `n_tokens` positions in total (whole
// blocks). Model::kv_config and the memory planner (src/fit) both use it.
kv::KVCacheConfig kv_cache_config(const ModelConfig& config, int64_t n_tokens,
                                  int64_t block_size = 16, kv::KVType type = kv::KVType::F32);

// The CPU KV cache's element type when none is asked for: float32 for a model whose matrices
// are all float32 (kept exact, as vLLM's "auto" follows the model's dtype), half floats for
// any other (llama.cpp's default: half the memory, and half the bytes each decode step reads).
// The GPU layers' cache is float32 either way. The memory planner (src/fit) plans with it.
kv::KVType default_kv_type(bool all_matrices_f32);
// "auto" (nullopt), "f32" or "f16" (any case); anything else fails with the choices.
std::optional<kv::KVType> parse_kv_type(const std::string& name);

class Model {
 public:
  virtual ~Model() = default;

  const ModelConfig& config() const { return config_; }
  const WeightSource& weights() const { return *weights_; }

  // Runs every token of `batch` through the model. The KV cache must hold room for each
  // token's position in its sequence (KVCache::reserve); keys and values are written there.
  // Logits of the tokens marked want_logits go to `logits`, one row of n_vocab floats each,
  // in batch order.
  virtual void forward(const Batch& batch, kv::KVCache& cache, float* logits, ThreadPool& pool) = 0;

  // A cache shape for this model holding `n_tokens` token positions in total, of kv_type().
  kv::KVCacheConfig kv_config(int64_t n_tokens, int64_t block_size = 16) const {
    return kv_cache_config(config_, n_tokens, block_size, kv_type());
  }
  // The KV cache element type kv_config() gives: set_kv_type's, else default_kv_type().
  kv::KVType kv_type() const;
  void set_kv_type(std::optional<kv::KVType> type) { kv_type_ = type; }
  // Bytes of weights read to produce one token (every matrix once): the bandwidth roofline.
  uint64_t weight_bytes_per_token() const;

  // Moves layers [0, offload.gpu_layers) and their KV cache (and the head, when asked) to the
  // GPU; later forward calls run there. Throws hearth::Error when the architecture or this
  // build has no GPU path, or the device cannot take it. gpu_layers 0 keeps the CPU only.
  virtual void offload(const GpuOffload& offload);
  // Where the layers run now ("cpu", or the GPU runner's description).
  virtual std::string placement() const { return "cpu"; }

 protected:
  Model(ModelConfig config, std::unique_ptr<WeightSource> weights)
      : config_(std::move(config)), weights_(std::move(weights)) {}

  ModelConfig config_;
  std::unique_ptr<WeightSource> weights_;
  std::optional<kv::KVType> kv_type_;
};

using ArchitectureFactory =
    std::function<std::unique_ptr<Model>(ModelConfig, std::unique_ptr<WeightSource>)>;
// Architectures register themselves by name (ModelConfig::arch).
bool register_architecture(const std::string& arch, ArchitectureFactory factory);

namespace io {
class GGUFFile;
}
// path: a .gguf file or an HF folder (already resolved by io::locate_model).
std::unique_ptr<Model> load_model(const std::string& path);
std::unique_ptr<Model> load_gguf_model(std::shared_ptr<const io::GGUFFile> file);
// Builds the architecture for a config and weights from any source (synthetic models too).
std::unique_ptr<Model> make_model(ModelConfig config, std::unique_ptr<WeightSource> weights);

}  // namespace hearth
