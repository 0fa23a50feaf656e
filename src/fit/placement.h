// Where the layers of one model run on this machine when it starts: the resolution of
// --gpu-layers auto|N against the GPU found at run time and the planner's split. Plain
// functions over byte counts (from fit/memory.h, the planner's own figures), so every case is
// unit-tested without a GPU (tests/unit/test_placement.cpp).
//
// hearth moves layers [0, N) to the GPU (their weights and KV cache); the output head (final
// norm and vocabulary projection, plus the embedding table the planner counts with it) joins
// them only when all layers are there, so activations cross between GPU and CPU once per call.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hearth::fit {

// --gpu-layers: "auto" (nullopt) or a count. Throws hearth::Error for anything else.
std::optional<int64_t> parse_gpu_layers(const std::string& value);

// Byte counts of one model at one run shape, grouped as placement moves them.
struct PlacementInputs {
  std::vector<uint64_t> layer_bytes;  // weights of each layer
  uint64_t kv_per_layer = 0;          // the KV cache of one layer (the whole pool)
  uint64_t head_bytes = 0;            // output head, final norm, embeddings (planner's "global")
  uint64_t compute_bytes = 0;         // activations and scratch the GPU keeps
  uint64_t gpu_usable_bytes = 0;      // free device memory less the driver's reserve
  int64_t n_layers() const { return static_cast<int64_t>(layer_bytes.size()); }
};

// Device bytes for layers [0, gpu_layers) (with the head when output_on_gpu); 0 for none.
uint64_t gpu_bytes_for(const PlacementInputs& in, int64_t gpu_layers, bool output_on_gpu);

// The most leading layers the device holds (0..n_layers), and whether the head fits with them.
struct LargestFit {
  int64_t gpu_layers = 0;
  bool output_on_gpu = false;
};
LargestFit largest_fit(const PlacementInputs& in);

struct LayerPlacement {
  int64_t gpu_layers = 0;
  bool output_on_gpu = false;
  uint64_t gpu_bytes = 0;
  std::string note;  // for stderr: why this placement ("" when nothing to say)
};

// requested: nullopt for auto. have_gpu: a CUDA device was found (and the backend is built);
// why_no_gpu says why not. planner_layers: the planner's split (Plan::gpu_layers) for auto.
// Without a GPU every layer runs on the CPU and a request for GPU layers gets a note, not an
// error. With one, N beyond the model's layers or beyond the device's memory throws
// hearth::Error with the numbers and the largest N that fits.
LayerPlacement place_layers(const PlacementInputs& in, std::optional<int64_t> requested,
                            bool have_gpu, const std::string& why_no_gpu, int64_t planner_layers);

}  // namespace hearth::fit
