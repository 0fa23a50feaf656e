// NVIDIA GPUs of this machine, through the driver's own libraries loaded at run time
// (NVML, else the CUDA driver API), so hearth needs no CUDA toolkit to build or run: where
// neither library is installed, or no device answers, the list is empty.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hearth::fit {

struct DetectedGpu {
  std::string name;          // as the driver reports it: "NVIDIA GeForce RTX 4080"
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;   // free now (other programs' use excluded)
  double bandwidth_gbs = 0;  // from the memory clock and bus width; 0 when not reported
  std::string via;           // "nvml" or "cuda"
};

std::vector<DetectedGpu> detect_nvidia_gpus();

// Peak bandwidth in GB/s of a memory interface: data moves on both clock edges.
double memory_bandwidth_gbs(double memory_clock_mhz, int bus_width_bits);

}  // namespace hearth::fit
