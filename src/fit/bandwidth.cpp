#include "fit/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "core/thread_pool.h"

namespace hearth {

BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes, int repetitions) {
  // The active CPU kernels' own streaming read (the widest loads this CPU has), over 4 KiB
  // pages split statically over the pool like a matmul's rows.
  const auto read = cpu::active_kernels().read_stream;
  constexpr int64_t kPage = 4096;
  const int64_t pages = std::max<int64_t>(1, static_cast<int64_t>(buffer_bytes) / kPage);
  const int64_t n = pages * kPage;
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete (p, std::align_val_t{kPage}); }
  };
  std::unique_ptr<uint8_t, Free> buf(
      static_cast<uint8_t*>(::operator new (static_cast<size_t>(n), std::align_val_t{kPage})));
  // First touch from the pool's threads, so pages land near the threads that read them.
  pool.parallel_for(pages, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b * kPage; i < e * kPage; ++i) buf.get()[i] = static_cast<uint8_t>(i * 131);
  });
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int r = 0; r < repetitions; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(pages, [&](int64_t b, int64_t e, int) {
      sink.fetch_xor(read(buf.get() + b * kPage, (e - b) * kPage), std::memory_order_relaxed);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(n) / s / 1e9);
  }
  return {best, static_cast<uint64_t>(n), pool.size()};
}

}  // namespace hearth
