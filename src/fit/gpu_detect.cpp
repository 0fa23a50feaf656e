// The few entry points used are declared here with the types of the public NVML and CUDA
// driver headers (nvml.h, cuda.h), so nothing of them is needed at build time.
#include "fit/gpu_detect.h"

#include <dlfcn.h>

#include <cstddef>

namespace hearth::fit {
namespace {

// A shared library opened for the duration of a detection.
class Library {
 public:
  explicit Library(const char* name) : handle_(dlopen(name, RTLD_NOW | RTLD_LOCAL)) {}
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  explicit operator bool() const { return handle_ != nullptr; }
  // nullptr when the symbol is missing (an old driver).
  template <typename Fn>
  Fn get(const char* symbol) const {
    return handle_ ? reinterpret_cast<Fn>(dlsym(handle_, symbol)) : nullptr;
  }

 private:
  void* handle_;
};

// ---- NVML (libnvidia-ml.so.1): no CUDA context needed, reports free memory directly.
struct NvmlMemory {
  unsigned long long total, free, used;
};
using NvmlDevice = void*;
constexpr int kNvmlSuccess = 0;
constexpr int kNvmlClockMem = 2;  // NVML_CLOCK_MEM

std::vector<DetectedGpu> via_nvml() {
  Library lib("libnvidia-ml.so.1");
  auto init = lib.get<int (*)()>("nvmlInit_v2");
  auto shutdown = lib.get<int (*)()>("nvmlShutdown");
  auto count = lib.get<int (*)(unsigned*)>("nvmlDeviceGetCount_v2");
  auto handle = lib.get<int (*)(unsigned, NvmlDevice*)>("nvmlDeviceGetHandleByIndex_v2");
  auto name = lib.get<int (*)(NvmlDevice, char*, unsigned)>("nvmlDeviceGetName");
  auto memory = lib.get<int (*)(NvmlDevice, NvmlMemory*)>("nvmlDeviceGetMemoryInfo");
  auto clock = lib.get<int (*)(NvmlDevice, int, unsigned*)>("nvmlDeviceGetMaxClockInfo");
  auto bus = lib.get<int (*)(NvmlDevice, unsigned*)>("nvmlDeviceGetMemoryBusWidth");
  std::vector<DetectedGpu> out;
  if (!init || !shutdown || !count || !handle || !name || !memory) return out;
  if (init() != kNvmlSuccess) return out;
  unsigned n = 0;
  if (count(&n) == kNvmlSuccess) {
    for (unsigned i = 0; i < n; ++i) {
      NvmlDevice dev = nullptr;
      char buf[96] = {};
      NvmlMemory mem{};
      if (handle(i, &dev) != kNvmlSuccess || name(dev, buf, sizeof buf) != kNvmlSuccess ||
          memory(dev, &mem) != kNvmlSuccess)
        continue;
      DetectedGpu g{buf, mem.total, mem.free, 0, "nvml"};
      unsigned mhz = 0, bits = 0;
      if (clock && bus && clock(dev, kNvmlClockMem, &mhz) == kNvmlSuccess &&
          bus(dev, &bits) == kNvmlSuccess)
        g.bandwidth_gbs = memory_bandwidth_gbs(mhz, static_cast<int>(bits));
      out.push_back(std::move(g));
    }
  }
  shutdown();
  return out;
}

// ---- CUDA driver (libcuda.so.1): free memory needs a context on the device.
using CuDevice = int;
using CuContext = void*;
constexpr int kCudaSuccess = 0;
constexpr int kCuAttrMemoryClockKhz = 36;  // CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE
constexpr int kCuAttrBusWidthBits = 37;    // CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH

std::vector<DetectedGpu> via_cuda() {
  Library lib("libcuda.so.1");
  auto init = lib.get<int (*)(unsigned)>("cuInit");
  auto count = lib.get<int (*)(int*)>("cuDeviceGetCount");
  auto device = lib.get<int (*)(CuDevice*, int)>("cuDeviceGet");
  auto name = lib.get<int (*)(char*, int, CuDevice)>("cuDeviceGetName");
  auto total = lib.get<int (*)(size_t*, CuDevice)>("cuDeviceTotalMem_v2");
  auto attribute = lib.get<int (*)(int*, int, CuDevice)>("cuDeviceGetAttribute");
  auto create = lib.get<int (*)(CuContext*, unsigned, CuDevice)>("cuCtxCreate_v2");
  auto destroy = lib.get<int (*)(CuContext)>("cuCtxDestroy_v2");
  auto meminfo = lib.get<int (*)(size_t*, size_t*)>("cuMemGetInfo_v2");
  std::vector<DetectedGpu> out;
  if (!init || !count || !device || !name || !total) return out;
  int n = 0;
  if (init(0) != kCudaSuccess || count(&n) != kCudaSuccess) return out;
  for (int i = 0; i < n; ++i) {
    CuDevice dev = 0;
    char buf[96] = {};
    size_t bytes = 0;
    if (device(&dev, i) != kCudaSuccess || name(buf, sizeof buf, dev) != kCudaSuccess ||
        total(&bytes, dev) != kCudaSuccess)
      continue;
    DetectedGpu g{buf, bytes, bytes, 0, "cuda"};
    CuContext ctx = nullptr;
    if (create && destroy && meminfo && create(&ctx, 0, dev) == kCudaSuccess) {
      size_t free_bytes = 0, total_bytes = 0;
      if (meminfo(&free_bytes, &total_bytes) == kCudaSuccess) g.free_bytes = free_bytes;
      destroy(ctx);
    }
    int khz = 0, bits = 0;
    if (attribute && attribute(&khz, kCuAttrMemoryClockKhz, dev) == kCudaSuccess &&
        attribute(&bits, kCuAttrBusWidthBits, dev) == kCudaSuccess)
      g.bandwidth_gbs = memory_bandwidth_gbs(khz / 1000.0, bits);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

double memory_bandwidth_gbs(double memory_clock_mhz, int bus_width_bits) {
  if (memory_clock_mhz <= 0 || bus_width_bits <= 0) return 0;
  return memory_clock_mhz * 1e6 * 2.0 * (bus_width_bits / 8.0) / 1e9;
}

std::vector<DetectedGpu> detect_nvidia_gpus() {
  std::vector<DetectedGpu> gpus = via_nvml();
  if (gpus.empty()) gpus = via_cuda();
  return gpus;
}

}  // namespace hearth::fit
