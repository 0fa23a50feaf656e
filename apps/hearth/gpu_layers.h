// --gpu-layers, shared by `hearth run` and `hearth serve`.
#pragma once
#include <cstdint>
#include <string>

#include "models/gpu_offload.h"

namespace hearth::cli {

// Checks the value alone ("auto" or a layer count) before anything is planned or loaded.
// Throws hearth::Error for a value that is neither.
void check_gpu_layers(const std::string& value);

// Where the layers of `model` go for a run with `kv_positions` positions of KV cache and
// prompt batches of `batch` tokens: the GPU found now and the planner's split
// (fit/placement.h). Without a CUDA device everything stays on the CPU, with a note on stderr
// when GPU layers were asked for; an impossible count is refused with the numbers. Prints the
// placement chosen.
GpuOffload plan_gpu_offload(const std::string& value, bool given, const std::string& model,
                            int64_t kv_positions, int64_t batch);

}  // namespace hearth::cli
