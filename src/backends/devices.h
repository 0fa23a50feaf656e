// The backends compiled into this hearth and the GPU devices they find at run time: what
// `hearth --version` prints and what --gpu-layers checks before moving layers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hearth {

// "cpu", and "cuda" when built with the CUDA backend (HEARTH_CUDA).
std::vector<std::string> compiled_backends();

struct GpuDevice {
  int index = 0;
  std::string name;
  std::string compute_capability;  // "9.0"
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
};

struct GpuScan {
  std::vector<GpuDevice> devices;
  std::string why_none;  // when devices is empty: no CUDA backend, no driver, no GPU
};

// Never throws; on a machine without a driver or GPU the list is empty with the reason.
GpuScan scan_gpus();

// Device-to-device copy bandwidth of GPU 0 in GB/s (bytes read plus bytes written per second,
// 1 GiB buffers): the roofline `hearth bench` sets GPU decode against. Throws hearth::Error
// without a CUDA backend or device.
double measure_gpu_copy_bandwidth();

}  // namespace hearth
