#include "fit/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "core/thread_pool.h"

namespace hearth {
namespace {

// Eight independent accumulators keep the loads in flight; the compiler vectorises the
// xor-reduction, so the loop is bound by memory, not by the adds.
uint64_t read_sum(const uint64_t* p, int64_t n) {
  uint64_t a[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] ^= p[i + k];
  for (; i < n; ++i) a[0] ^= p[i];
  uint64_t s = 0;
  for (uint64_t x : a) s ^= x;
  return s;
}

}  // namespace

BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes, int repetitions) {
  const int64_t n = static_cast<int64_t>(buffer_bytes / 8);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n]);
  // First touch from the pool's threads, so pages land near the threads that read them.
  pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) buf[i] = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
  });
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int r = 0; r < repetitions; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      sink.fetch_xor(read_sum(buf.get() + b, e - b), std::memory_order_relaxed);
    }, 4096);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(n * 8) / s / 1e9);
  }
  return {best, static_cast<uint64_t>(n) * 8, pool.size()};
}

}  // namespace hearth
