#pragma once
#include <memory>

#include "models/model.h"

namespace hearth {

// The Llama family as one config-driven decoder: Llama 1/2/3 (llama3 RoPE scaling), Mistral
// (sliding window), TinyLlama; grouped-query attention, RMSNorm, SwiGLU, tied or separate
// output embedding.
std::unique_ptr<Model> make_llama(ModelConfig config, std::unique_ptr<WeightSource> weights);

// Heap bytes of the activation buffers one forward call of n_tokens tokens (n_outputs of them
// wanting logits) grows the model's scratch to: the buffers are sized by the same function.
uint64_t llama_scratch_bytes(const ModelConfig& config, int64_t n_tokens, int64_t n_outputs);
// Heap bytes a loaded model keeps besides its mapped weights: norm weights as F32, the rotary
// frequencies, the per-layer tensor table.
uint64_t llama_resident_bytes(const ModelConfig& config);

}  // namespace hearth
