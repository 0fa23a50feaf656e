// How fast this machine reads memory: the bound on single-stream decode, which reads every
// weight once per token. Measured, not looked up, so the roofline in `hearth bench` is this
// machine's own.
#pragma once
#include <cstdint>

namespace hearth {
class ThreadPool;

struct BandwidthResult {
  double read_gbs = 0;       // best of the repetitions, GB/s (1e9 bytes)
  uint64_t buffer_bytes = 0;
  int threads = 0;
};

// Reads a buffer much larger than the last-level cache with every thread of the pool.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes = 1ull << 30,
                                       int repetitions = 5);

}  // namespace hearth
