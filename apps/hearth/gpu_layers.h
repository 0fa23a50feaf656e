// --gpu-layers, shared by `hearth run` and `hearth serve`.
#pragma once
#include <string>

namespace hearth::cli {

// "auto" (the planner's split) or a layer count. hearth has no GPU backend in this build, so
// every layer runs on the CPU; asking for GPU layers says so on stderr instead of failing.
// Throws hearth::Error for a value that is neither.
void check_gpu_layers(const std::string& value, bool given);

}  // namespace hearth::cli
