// The one place hearth_lib asks whether the CUDA backend was compiled in (HEARTH_HAVE_CUDA,
// set by cmake/HearthCuda.cmake): the list of backends, the device scan, and the GPU runner
// factory's stand-in for builds without it. Kernels are never chosen by macro.
#include "backends/devices.h"

#include "core/error.h"
#include "models/gpu_offload.h"

#if HEARTH_HAVE_CUDA
#include "backends/cuda/cuda_api.h"
#endif

namespace hearth {

std::vector<std::string> compiled_backends() {
#if HEARTH_HAVE_CUDA
  return {"cpu", "cuda"};
#else
  return {"cpu"};
#endif
}

GpuScan scan_gpus() {
  GpuScan scan;
#if HEARTH_HAVE_CUDA
  for (const cuda::DeviceInfo& d : cuda::list_devices(&scan.why_none))
    scan.devices.push_back({d.index, d.name, std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor),
                            d.total_bytes, d.free_bytes});
#else
  scan.why_none = "this hearth was built without the CUDA backend (HEARTH_CUDA=OFF or no CUDA "
                  "toolkit at build time)";
#endif
  return scan;
}

double measure_gpu_copy_bandwidth() {
  const GpuScan scan = scan_gpus();
  if (scan.devices.empty()) fail("cannot measure GPU bandwidth: no GPU ({})", scan.why_none);
#if HEARTH_HAVE_CUDA
  return cuda::measure_copy_bandwidth(size_t{1} << 30, 20);
#else
  return 0;  // unreachable: without the backend the scan finds nothing
#endif
}

#if !HEARTH_HAVE_CUDA
std::unique_ptr<GpuLayerRunner> make_gpu_layer_runner(const LlamaHostWeights&, const GpuOffload& o) {
  fail("--gpu-layers {}: this hearth was built without the CUDA backend; rebuild with "
       "-DHEARTH_CUDA=ON on a machine with the CUDA toolkit, or use --gpu-layers 0",
       o.gpu_layers);
}
#endif

}  // namespace hearth
