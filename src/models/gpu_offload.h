// Moving the first layers of a model (and their KV cache) to a GPU: the seam between the model
// code in hearth_lib and a GPU backend (src/backends/cuda). The model keeps its layer loop
// (models/layer_loop.h); the runner instantiates the same loop with its own kernels.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/tensor.h"
#include "kv/kv_cache.h"
#include "models/batch.h"
#include "models/layer_loop.h"
#include "models/model_config.h"

namespace hearth {

// Where a model runs: layers [0, gpu_layers) on the GPU with their KV cache, the rest on the
// CPU; the output head (final norm and vocabulary projection) on the GPU only when every layer
// is there too, so activations cross between the two exactly once per forward call.
struct GpuOffload {
  int64_t gpu_layers = 0;
  bool output_on_gpu = false;
  int device = 0;
};

using HostLayerWeights = LayerWeightsOf<const TensorView*, const float*>;

// The host-side weights a runner copies to the device.
struct LlamaHostWeights {
  const ModelConfig* config = nullptr;
  std::span<const HostLayerWeights> layers;  // the layers that move: [0, gpu_layers)
  const TensorView* output = nullptr;        // the head, used when output_on_gpu
  const float* output_norm = nullptr;
  const float* inv_freq = nullptr;           // rope_dim / 2 rotary frequencies
};

class GpuLayerRunner {
 public:
  virtual ~GpuLayerRunner() = default;
  // Runs the batch through the GPU's layers. x (n x dim, host): the embeddings in; out, the
  // residual stream after the last GPU layer. When the runner holds the output head it writes
  // the logits of the want_logits tokens to `logits` instead and returns true. The block
  // tables come from `cache` (the host cache, whose block ids the device pool mirrors).
  virtual bool forward(const Batch& batch, const kv::KVCache& cache, float* x, float* logits) = 0;
  // "cuda:0 NVIDIA H100 80GB HBM3: 32 layers + output, 4.1 GiB of weights"
  virtual std::string describe() const = 0;
};

// The CUDA backend's runner (src/backends/cuda/cuda_llama.cpp). In a build without it, throws
// hearth::Error saying so.
std::unique_ptr<GpuLayerRunner> make_gpu_layer_runner(const LlamaHostWeights& weights,
                                                      const GpuOffload& offload);

}  // namespace hearth
