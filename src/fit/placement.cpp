#include "fit/placement.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "fit/run_check.h"

namespace hearth::fit {

std::optional<int64_t> parse_gpu_layers(const std::string& value) {
  if (value == "auto") return std::nullopt;
  // Digits only (stoll alone would take " 2" and "+2"), and no more than a layer count needs.
  const bool digits = !value.empty() && value.size() <= 9 &&
                      std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!digits)
    fail("--gpu-layers {}: give auto or a number of layers (0 or more)", value);
  return std::stoll(value);
}

uint64_t gpu_bytes_for(const PlacementInputs& in, int64_t gpu_layers, bool output_on_gpu) {
  if (gpu_layers <= 0) return 0;
  uint64_t b = in.compute_bytes;
  const int64_t g = std::min(gpu_layers, in.n_layers());
  for (int64_t i = 0; i < g; ++i) b += in.layer_bytes[static_cast<size_t>(i)] + in.kv_per_layer;
  if (output_on_gpu) b += in.head_bytes;
  return b;
}

LargestFit largest_fit(const PlacementInputs& in) {
  LargestFit f;
  for (int64_t g = 1; g <= in.n_layers(); ++g) {
    if (gpu_bytes_for(in, g, false) > in.gpu_usable_bytes) break;
    f.gpu_layers = g;
  }
  f.output_on_gpu = f.gpu_layers == in.n_layers() && f.gpu_layers > 0 &&
                    gpu_bytes_for(in, f.gpu_layers, true) <= in.gpu_usable_bytes;
  return f;
}

LayerPlacement place_layers(const PlacementInputs& in, std::optional<int64_t> requested,
                            bool have_gpu, const std::string& why_no_gpu, int64_t planner_layers) {
  LayerPlacement p;
  const int64_t n_layers = in.n_layers();
  if (!have_gpu) {
    if (requested && *requested > 0)
      p.note = fmt::format("--gpu-layers {}: no GPU ({}), so all layers run on the CPU",
                           *requested, why_no_gpu);
    return p;
  }
  const LargestFit most = largest_fit(in);
  if (!requested) {
    // The planner's split, never more than fits now (the planner sees the same free memory,
    // but places from the other end and counts the head differently).
    p.gpu_layers = std::clamp<int64_t>(planner_layers, 0, most.gpu_layers);
    p.output_on_gpu = p.gpu_layers == n_layers && most.output_on_gpu;
  } else {
    if (*requested > n_layers)
      fail("--gpu-layers {}: this model has {} layers; give at most {} (or auto)", *requested,
           n_layers, n_layers);
    p.gpu_layers = *requested;
    if (p.gpu_layers > most.gpu_layers) {
      const uint64_t need = gpu_bytes_for(in, p.gpu_layers, false);
      fail("--gpu-layers {}: the GPU would need {} (weights and KV cache of {} layers, {} of "
           "compute buffers) but {} is free; at most {} layers fit (--gpu-layers {}), or use a "
           "shorter context or a smaller weight type",
           p.gpu_layers, format_bytes(need), p.gpu_layers, format_bytes(in.compute_bytes),
           format_bytes(in.gpu_usable_bytes), most.gpu_layers, most.gpu_layers);
    }
    p.output_on_gpu = p.gpu_layers == n_layers && most.output_on_gpu;
  }
  p.gpu_bytes = gpu_bytes_for(in, p.gpu_layers, p.output_on_gpu);
  if (p.gpu_layers == n_layers && !p.output_on_gpu && n_layers > 0)
    p.note = "the output head does not fit on the GPU with every layer; it runs on the CPU";
  return p;
}

}  // namespace hearth::fit
