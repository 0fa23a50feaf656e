// Common GPUs with their memory and bandwidth (data/gpus.json, compiled in), so a person can
// plan for a card they do not own (`hearth fit --gpu "RTX 4080"`), and detected cards get a
// bandwidth when the driver does not report one.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace hearth::fit {

struct GpuSpec {
  std::string name;    // "RTX 4080"
  std::string vendor;  // "nvidia", "amd"
  std::string kind;    // "consumer", "workstation", "datacenter"
  double memory_gib = 0;
  double bandwidth_gbs = 0;  // peak, GB/s (1e9 bytes per second)
  std::vector<std::string> aliases;  // other spellings: "T4" for "Tesla T4"
  std::string source;
};

// Throws FormatError naming `origin`, the entry and the field on bad input.
std::vector<GpuSpec> parse_gpu_table(std::string_view json_text, const std::string& origin);
const std::vector<GpuSpec>& gpu_table();

// By name or alias, ignoring case, spaces and punctuation, and a leading vendor or brand word
// ("NVIDIA GeForce RTX 4080" finds "RTX 4080"). An unknown name throws hearth::Error that
// suggests close names.
const GpuSpec& find_gpu(std::string_view name);
// The table entry a driver's device name ("NVIDIA H100 80GB HBM3") is, or nullptr.
const GpuSpec* match_device_name(std::string_view device_name);

}  // namespace hearth::fit
