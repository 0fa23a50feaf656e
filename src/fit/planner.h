// The memory planner: where a model at a weight type and context can live on a machine —
// all on the GPU, split between GPU and CPU (N layers on the GPU), CPU only, or nowhere —
// the largest context that still fits, and the generation speed that placement allows
// (decode reads every active weight once per token, so speed = bandwidth / bytes read).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "fit/hardware.h"
#include "fit/memory.h"
#include "fit/model_shape.h"

namespace hearth::fit {

enum class Verdict { Gpu, Split, Cpu, None };
const char* verdict_name(Verdict v);  // "gpu", "split", "cpu", "none"

struct Plan {
  std::string model;        // catalog id or local path
  std::string name;
  std::string weight_type;  // "Q4_K"; a local file as is: its own type
  bool as_stored = false;   // a local file planned without conversion
  int64_t context = 0;
  int64_t parallel = 1;
  kv::KVType kv_type = kv::KVType::F32;  // the CPU layers' KV cache (a GPU's is F32)
  int64_t n_layers = 0;
  int64_t params = 0;

  // Totals, wherever they live.
  uint64_t weights = 0;   // weights (and a local file's mapped metadata)
  uint64_t kv = 0;        // KV cache
  uint64_t compute = 0;   // compute buffers and model tables
  uint64_t overhead = 0;  // runtime overhead (estimate)
  uint64_t engine = 0;    // what the engine allocates on the CPU: all but the overhead

  Verdict verdict = Verdict::None;
  int64_t gpu_layers = 0;
  uint64_t bytes_gpu = 0;  // on the GPUs together, driver reserve excluded
  uint64_t bytes_cpu = 0;  // in RAM (Verdict::None: what CPU-only would need)
  int64_t max_context = 0;      // the largest context (<= the model's) that fits at all
  int64_t max_context_gpu = 0;  // ... entirely on the GPUs
  double est_tokens_per_s = 0;  // one sequence, generation; 0 when unknown or none
};

// The plan's KV cache types in words: "F16", or "F16 (F32 on the GPU)" when it has GPU layers
// of another type.
std::string kv_type_text(const Plan& p);

// `type`: the weight type to plan at; nullopt plans a local file as stored.
Plan plan_model(const ModelShape& model, std::optional<DType> type, const RunShape& run,
                const Machine& machine);

}  // namespace hearth::fit
