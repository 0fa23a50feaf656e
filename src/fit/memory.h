// Byte counts of running a model: weights at a weight type, KV cache, compute buffers,
// runtime overhead. Every figure the engine allocates comes from the function the engine
// sizes that allocation with (KVCacheConfig::bytes, llama_scratch_bytes,
// ops::matmul_scratch_bytes, ...), so a plan and a run agree by construction.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/dtype.h"
#include "fit/model_shape.h"
#include "kv/kv_cache.h"

namespace hearth::fit {

// The weight types plans compare: what `hearth quantize` writes, largest first.
inline constexpr std::array<DType, 6> kPlanTypes = {DType::F16,  DType::BF16, DType::Q8_0,
                                                    DType::Q6_K, DType::Q4_K, DType::Q4_0};

// Beyond these a plan is meaningless (and byte counts could overflow).
inline constexpr int64_t kMaxPlanContext = int64_t{1} << 30;
inline constexpr int64_t kMaxPlanParallel = 4096;

struct RunShape {
  int64_t context = 4096;   // positions per sequence
  int64_t parallel = 1;     // sequences served at once, each with `context` positions
  int64_t batch = 512;      // prompt tokens per forward call (`hearth run -b`)
  // The CPU layers' KV cache element type; nullopt: what the engine picks for the planned
  // weights (default_kv_type, models/model.h). Layers on a GPU keep theirs in float32.
  std::optional<kv::KVType> kv_type;
  int threads = 0;          // compute threads; 0: one per physical core, as the engine
};

// Bytes of a model's weights at one type (per tensor, as `hearth quantize` would store it;
// nullopt: as a local file stores them), grouped the way layers can be placed.
struct WeightBytes {
  uint64_t global = 0;               // token embeddings, output head, final norm
  std::vector<uint64_t> layers;      // each block
  uint64_t read_global = 0;          // read per generated token: one embedding row, the head
  std::vector<uint64_t> read_layers; // MoE layers: only the active experts' share

  uint64_t total() const;
};
WeightBytes weight_bytes(const ModelShape& model, std::optional<DType> type);

// Everything besides the weights, for one run shape.
struct RunBytes {
  kv::KVType kv_type = kv::KVType::F32;  // the CPU layers' cache (RunShape::kv_type resolved)
  uint64_t kv_per_layer = 0;       // keys and values of one CPU layer, every sequence
  uint64_t kv_read_per_layer = 0;  // read per generated token with the context half full
  uint64_t kv_per_gpu_layer = 0;   // the same two for a layer on a GPU (float32 there)
  uint64_t kv_read_per_gpu_layer = 0;
  uint64_t compute = 0;            // activations, matmul/attention scratch, logits, token ids
  uint64_t resident = 0;           // norm weights as F32, rotary tables
  uint64_t file_extra = 0;         // a local file: its metadata, mapped with the weights
                                   // and parsed on the heap (tensor tables, vocabulary)
  uint64_t overhead = 0;           // estimate: program, tokenizer, allocator (not measured)
};
RunBytes run_bytes(const ModelShape& model, std::optional<DType> type, const RunShape& run);

// What the engine allocates to run `model` on the CPU: mapped weights (and file metadata),
// model tables, KV cache and compute buffers. The overhead estimate is not included.
uint64_t engine_bytes(const WeightBytes& weights, const RunBytes& run, int64_t n_layers);

// Estimated bytes beyond the engine's own allocations: the program and its libraries, the
// tokenizer's tables (which grow with the vocabulary), allocator slack.
uint64_t runtime_overhead_bytes(int64_t n_vocab);

}  // namespace hearth::fit
