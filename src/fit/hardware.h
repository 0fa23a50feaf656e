// The machine a plan is for: this one as detected (RAM, CPU, measured memory bandwidth,
// NVIDIA GPUs), or one a person describes (`--gpu "RTX 4080" --gpus 2 --ram 64`).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::fit {

// Kept free on each GPU for the driver's context and libraries' workspaces (an estimate;
// CUDA contexts take 300-500 MiB).
inline constexpr uint64_t kGpuReserveBytes = uint64_t{512} << 20;

struct CpuInfo {
  std::string model;  // /proc/cpuinfo "model name"
  int cores = 0;      // physical
  int threads = 0;    // logical
  std::string simd;   // the kernel level hearth runs: "avx512", "avx2", "generic"
};

struct Gpu {
  std::string name;
  uint64_t total_bytes = 0;
  uint64_t usable_bytes = 0;  // what a plan may fill: free memory less kGpuReserveBytes
  double bandwidth_gbs = 0;   // 0: unknown
  std::string source;         // "nvml", "cuda" (detected) or "table" (named)
};

struct Machine {
  CpuInfo cpu;
  uint64_t ram_total_bytes = 0;
  uint64_t ram_usable_bytes = 0;  // MemAvailable, or --ram less what the OS keeps
  std::string ram_source;         // "/proc/meminfo" or "--ram"
  double cpu_bandwidth_gbs = 0;   // measured memory read bandwidth (0: not measured)
  std::string bandwidth_source;   // "measured", "--cpu-bandwidth" or "" (none)
  std::vector<Gpu> gpus;          // empty: CPU only
};

struct MemInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};
// Parses /proc/meminfo text (MemTotal, MemAvailable; MemFree + Cached on old kernels).
// Throws hearth::Error when MemTotal is missing.
MemInfo parse_meminfo(std::string_view text);

// What a person asks `hearth fit` to plan for. Sizes are checked here: each bad value gives a
// one-line hearth::Error naming the option.
struct MachineRequest {
  std::string gpu = "auto";           // "auto": detect; "none": CPU only; else a GPU table name
  int gpus = 0;                       // how many of that card (0: 1 named / all detected)
  std::optional<double> ram_gib;      // the machine's RAM; default: this machine's
  std::optional<double> cpu_bandwidth_gbs;  // default: measured
  bool measure_bandwidth = true;      // false: leave it unknown (no speed estimates)
  double measure_budget_s = 0.3;      // rough time the measurement may take
};
Machine describe_machine(const MachineRequest& request);

// This machine's CPU and RAM only (no GPU, no measurement): what `hearth run` checks against.
Machine this_machine_cpu_only();

// RAM the OS and desktop keep when a person gives --ram: 2 GiB, or a quarter of small RAMs.
uint64_t os_reserve_bytes(uint64_t ram_bytes);

}  // namespace hearth::fit
