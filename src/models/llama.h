#pragma once
#include <memory>

#include "models/model.h"

namespace hearth {

// The Llama family as one config-driven decoder: Llama 1/2/3 (llama3 RoPE scaling), Mistral
// (sliding window), TinyLlama; grouped-query attention, RMSNorm, SwiGLU, tied or separate
// output embedding.
std::unique_ptr<Model> make_llama(ModelConfig config, std::unique_ptr<WeightSource> weights);

}  // namespace hearth
