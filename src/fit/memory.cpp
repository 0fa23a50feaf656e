#include "fit/memory.h"

#include <algorithm>

#include "convert/convert.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "models/llama.h"
#include "models/model.h"
#include "ops/attention.h"
#include "ops/ops.h"

namespace hearth::fit {
namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// The type a tensor is held in when the model runs at `type`.
DType held_type(const WeightTensor& t, std::optional<DType> type) {
  return type ? quantized_tensor_type(t.shape, *type) : t.stored;
}

uint64_t tensor_bytes(const WeightTensor& t, std::optional<DType> type) {
  if (!type) return t.stored_bytes;
  if (t.shape.back() == 0) return 0;  // an empty tensor (a malformed file may hold one)
  const DType held = held_type(t, type);
  return static_cast<uint64_t>(dtype_row_bytes(held, t.shape.back())) *
         static_cast<uint64_t>(numel(t.shape) / t.shape.back());
}

// Whether the forward pass multiplies activations by this tensor (so matmul prepares an
// int8 copy of its input): every matrix except an untied embedding table, which is gathered.
bool is_matmul_weight(const WeightTensor& t, const ModelConfig& c) {
  if (t.shape.size() < 2) return false;
  return t.name != "token_embd.weight" || c.tied_embeddings;
}

}  // namespace

uint64_t WeightBytes::total() const {
  uint64_t n = global;
  for (uint64_t l : layers) n += l;
  return n;
}

WeightBytes weight_bytes(const ModelShape& m, std::optional<DType> type) {
  const ModelConfig& c = m.config;
  WeightBytes w;
  w.layers.assign(static_cast<size_t>(c.n_layers), 0);
  w.read_layers.assign(static_cast<size_t>(c.n_layers), 0);
  for (const auto& t : m.tensors) {
    if (t.shape.empty()) continue;
    const uint64_t bytes = tensor_bytes(t, type);
    if (t.layer < 0) {
      w.global += bytes;
      // Generating a token gathers one embedding row; the head (the same matrix when tied)
      // is read whole.
      const bool embedding = t.name == "token_embd.weight";
      w.read_global += embedding && !c.tied_embeddings ? bytes / std::max<int64_t>(1, t.shape[0])
                                                       : bytes;
      continue;
    }
    w.layers[t.layer] += bytes;
    const bool routed = t.expert && m.extras.n_experts > 0;
    w.read_layers[t.layer] +=
        routed ? bytes / m.extras.n_experts * m.extras.n_active_experts : bytes;
  }
  return w;
}

RunBytes run_bytes(const ModelShape& m, std::optional<DType> type, const RunShape& run) {
  if (run.context <= 0 || run.parallel <= 0 || run.batch <= 0)
    fail("internal error: a run shape needs a positive context, parallel count and batch");
  if (run.context > kMaxPlanContext || run.parallel > kMaxPlanParallel)
    fail("a context of {} tokens x {} sequences is beyond what can be planned (at most {} x {})",
         run.context, run.parallel, kMaxPlanContext, kMaxPlanParallel);
  const ModelConfig& c = m.config;
  // Every other term is smaller than the KV cache or the weights; keep the byte counts far
  // from overflowing.
  const double kv_estimate = 2.0 * static_cast<double>(c.n_layers) * static_cast<double>(c.kv_dim()) *
                             static_cast<double>(run.context) * static_cast<double>(run.parallel) *
                             4.0;
  if (kv_estimate > 1e18)
    fail("a KV cache of {:.3g} bytes ({} tokens x {} sequences) is beyond what can be planned",
         kv_estimate, run.context, run.parallel);
  RunBytes r;
  // The engine's choice when none is given: float32 only for a model all in float32.
  bool all_f32 = true;
  for (const auto& t : m.tensors)
    if (t.shape.size() >= 2 && held_type(t, type) != DType::F32) all_f32 = false;
  r.kv_type = run.kv_type.value_or(default_kv_type(all_f32));
  // One sequence's cache per parallel sequence (the serving engine pools them; the same
  // positions in total).
  const kv::KVCacheConfig kv = kv_cache_config(c, run.context, 16, r.kv_type);
  const auto per_layer = [&](int64_t element_bytes) {
    return static_cast<uint64_t>(kv.bytes(element_bytes) / c.n_layers);
  };
  const int64_t gpu_element_bytes = ops::kv_type_bytes(kv::KVType::F32);
  r.kv_per_layer = per_layer(kv.element_bytes()) * static_cast<uint64_t>(run.parallel);
  r.kv_read_per_layer = per_layer(kv.element_bytes()) / 2;
  r.kv_per_gpu_layer = per_layer(gpu_element_bytes) * static_cast<uint64_t>(run.parallel);
  r.kv_read_per_gpu_layer = per_layer(gpu_element_bytes) / 2;

  // Compute: the forward pass's activations for one batch, the int8 copy of the widest
  // matmul input, each thread's attention scores, logits rows, the token ids kept per
  // sequence.
  const int64_t tokens = std::min(run.batch, run.context);
  const int64_t outputs = std::min(run.parallel, tokens);
  uint64_t act = 0;
  for (const auto& t : m.tensors) {
    if (!is_matmul_weight(t, c)) continue;
    const bool head = t.layer < 0;
    act = std::max(act, ops::matmul_scratch_bytes(held_type(t, type), t.shape.back(),
                                                  head ? outputs : tokens));
  }
  const int threads = run.threads > 0 ? run.threads : ThreadPool::physical_cores();
  const int64_t attention_threads = std::min<int64_t>(threads, tokens * c.n_kv_heads);
  const ops::AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, 1.0f, c.sliding_window};
  const uint64_t scores = ops::attention_scratch_bytes(shape, run.context) *
                          static_cast<uint64_t>(attention_threads);
  // `hearth run` keeps the last logits and the prompt's; the engine one row per sequence.
  const int64_t logit_rows = run.parallel == 1 ? 2 : run.parallel;
  const uint64_t logits = static_cast<uint64_t>(logit_rows * c.n_vocab) * sizeof(float);
  const uint64_t token_ids =
      static_cast<uint64_t>(run.parallel * run.context) * sizeof(int32_t);
  r.compute = llama_scratch_bytes(c, tokens, outputs) + act + scores + logits + token_ids;

  r.resident = llama_resident_bytes(c);
  if (m.local) {
    // The same metadata comes along whatever type the weights are converted to.
    uint64_t tensors = 0;
    for (const auto& t : m.tensors) tensors += t.stored_bytes;
    r.file_extra = (m.mapped_bytes > tensors ? m.mapped_bytes - tensors : 0) + m.parsed_bytes;
  }
  r.overhead = runtime_overhead_bytes(c.n_vocab);
  return r;
}

uint64_t engine_bytes(const WeightBytes& w, const RunBytes& r, int64_t n_layers) {
  return w.total() + r.file_extra + r.resident + r.kv_per_layer * static_cast<uint64_t>(n_layers) +
         r.compute;
}

uint64_t runtime_overhead_bytes(int64_t n_vocab) {
  // About 32 MiB for the program, its libraries and thread stacks in use, and 256 bytes per
  // vocabulary entry for the tokenizer (the piece, its score and type, lookup tables).
  return (uint64_t{32} << 20) + static_cast<uint64_t>(n_vocab) * 256;
}

}  // namespace hearth::fit
