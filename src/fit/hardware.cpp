#include "fit/hardware.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "backends/cpu/dispatch.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "fit/bandwidth.h"
#include "fit/gpu_detect.h"
#include "fit/gpu_table.h"

namespace hearth::fit {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "MemTotal:       32768000 kB" -> bytes, for the line starting with `key`.
std::optional<uint64_t> meminfo_value(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    line.remove_prefix(key.size() + 1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    uint64_t value = 0;
    const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
    if (ec != std::errc()) return std::nullopt;
    const std::string_view unit(p, line.data() + line.size() - p);
    return unit.find("kB") != std::string_view::npos ? value * 1024 : value;
  }
  return std::nullopt;
}

CpuInfo detect_cpu() {
  CpuInfo c;
  const std::string info = read_file("/proc/cpuinfo");
  const size_t at = info.find("model name");
  if (at != std::string::npos) {
    const size_t colon = info.find(':', at), end = info.find('\n', at);
    if (colon != std::string::npos && colon < end) {
      c.model = info.substr(colon + 1, end - colon - 1);
      c.model.erase(0, c.model.find_first_not_of(' '));
    }
  }
  if (c.model.empty()) c.model = "unknown CPU";
  c.cores = ThreadPool::physical_cores();
  c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  c.simd = cpu::active_kernels().name;
  return c;
}

void check_range(const char* option, double value, double low, double high, const char* unit) {
  if (!std::isfinite(value) || value < low || value > high)
    fail("{} {}: not a plausible {} (expected {} to {})", option, value, unit, low, high);
}

std::vector<Gpu> named_gpus(const std::string& name, int count) {
  const GpuSpec& spec = find_gpu(name);
  const auto total = static_cast<uint64_t>(spec.memory_gib * kGiB);
  Gpu g{spec.name, total, total > kGpuReserveBytes ? total - kGpuReserveBytes : 0,
        spec.bandwidth_gbs, "table"};
  return std::vector<Gpu>(static_cast<size_t>(std::max(1, count)), g);
}

std::vector<Gpu> detected_gpus(int count) {
  std::vector<Gpu> out;
  for (const DetectedGpu& d : detect_nvidia_gpus()) {
    Gpu g{d.name, d.total_bytes, d.free_bytes > kGpuReserveBytes ? d.free_bytes - kGpuReserveBytes : 0,
          d.bandwidth_gbs, d.via};
    if (g.bandwidth_gbs <= 0)
      if (const GpuSpec* spec = match_device_name(d.name)) g.bandwidth_gbs = spec->bandwidth_gbs;
    out.push_back(std::move(g));
  }
  if (count > 0) {
    if (count > static_cast<int>(out.size()))
      fail("--gpus {}: this machine has {} NVIDIA GPU{}; name a card with --gpu to plan for "
           "others", count, out.size(), out.size() == 1 ? "" : "s");
    out.resize(static_cast<size_t>(count));
  }
  return out;
}

}  // namespace

MemInfo parse_meminfo(std::string_view text) {
  MemInfo m;
  const auto total = meminfo_value(text, "MemTotal");
  if (!total) fail("cannot read the amount of RAM: /proc/meminfo has no MemTotal line");
  m.total_bytes = *total;
  if (const auto available = meminfo_value(text, "MemAvailable"))
    m.available_bytes = *available;
  else  // kernels before 3.14
    m.available_bytes = meminfo_value(text, "MemFree").value_or(0) +
                        meminfo_value(text, "Cached").value_or(0);
  m.available_bytes = std::min(m.available_bytes, m.total_bytes);
  return m;
}

uint64_t os_reserve_bytes(uint64_t ram_bytes) {
  return std::min<uint64_t>(uint64_t{2} << 30, ram_bytes / 4);
}

Machine this_machine_cpu_only() {
  Machine m;
  m.cpu = detect_cpu();
  const MemInfo mem = parse_meminfo(read_file("/proc/meminfo"));
  m.ram_total_bytes = mem.total_bytes;
  m.ram_usable_bytes = mem.available_bytes;
  m.ram_source = "/proc/meminfo";
  return m;
}

Machine describe_machine(const MachineRequest& r) {
  if (r.gpus < 0 || r.gpus > 64) fail("--gpus {}: give a count from 1 to 64", r.gpus);
  if (r.gpus > 0 && r.gpu == "none") fail("--gpus {} with --gpu none: name a card to plan for", r.gpus);
  if (r.ram_gib) check_range("--ram", *r.ram_gib, 0.25, 65536, "amount of RAM in GiB");
  if (r.cpu_bandwidth_gbs)
    check_range("--cpu-bandwidth", *r.cpu_bandwidth_gbs, 0.1, 100000, "bandwidth in GB/s");

  Machine m = this_machine_cpu_only();
  if (r.ram_gib) {
    m.ram_total_bytes = static_cast<uint64_t>(*r.ram_gib * kGiB);
    m.ram_usable_bytes = m.ram_total_bytes - os_reserve_bytes(m.ram_total_bytes);
    m.ram_source = "--ram";
  }
  if (r.gpu == "auto")
    m.gpus = detected_gpus(r.gpus);
  else if (r.gpu != "none")
    m.gpus = named_gpus(r.gpu, r.gpus);

  if (r.cpu_bandwidth_gbs) {
    m.cpu_bandwidth_gbs = *r.cpu_bandwidth_gbs;
    m.bandwidth_source = "--cpu-bandwidth";
  } else if (r.measure_bandwidth) {
    // A buffer well past the last-level cache, read a few times: a fraction of a second.
    ThreadPool pool;
    const uint64_t buffer = uint64_t{256} << 20;
    // A round reads it three times (three access patterns), ~0.05 s at ~15 GB/s.
    const int reps = std::clamp(static_cast<int>(r.measure_budget_s / 0.15), 1, 4);
    m.cpu_bandwidth_gbs = measure_read_bandwidth(pool, buffer, reps).read_gbs;
    m.bandwidth_source = "measured";
  }
  return m;
}

}  // namespace hearth::fit
