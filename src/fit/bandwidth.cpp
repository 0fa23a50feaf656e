#include "fit/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <new>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/kernels.h"
#include "core/thread_pool.h"

namespace hearth {

namespace {
constexpr int64_t kPage = 4096;
}  // namespace

void BandwidthProbe::Free::operator()(uint8_t* p) const {
  ::operator delete (p, std::align_val_t{kPage});
}

BandwidthProbe::BandwidthProbe(ThreadPool& pool, uint64_t buffer_bytes) : pool_(pool) {
  const int64_t pages = std::max<int64_t>(1, static_cast<int64_t>(buffer_bytes) / kPage);
  bytes_ = static_cast<uint64_t>(pages * kPage);
  buf_.reset(static_cast<uint8_t*>(::operator new (bytes_, std::align_val_t{kPage})));
  // First touch from the pool's threads, so pages land near the threads that read them.
  uint8_t* buf = buf_.get();
  pool_.parallel_for(pages, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b * kPage; i < e * kPage; ++i) buf[i] = static_cast<uint8_t>(i * 131);
  });
}

BandwidthProbe::~BandwidthProbe() = default;

double BandwidthProbe::read_gbs(int repetitions) {
  // Which pattern reads fastest depends on the machine and the thread count (on a Zen 5 VM:
  // one thread without software prefetch, two with it), and the roofline is the fastest.
  const auto read = cpu::active_kernels().read_stream;
  const int64_t pages = static_cast<int64_t>(bytes_) / kPage;
  const uint8_t* buf = buf_.get();
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int r = 0; r < repetitions; ++r)
    for (const int64_t ahead : {int64_t{0}, cpu::kWeightPrefetchAhead / 2, cpu::kWeightPrefetchAhead}) {
      const auto t0 = std::chrono::steady_clock::now();
      pool_.parallel_for(pages, [&](int64_t b, int64_t e, int) {
        sink.fetch_xor(read(buf + b * kPage, (e - b) * kPage, ahead), std::memory_order_relaxed);
      });
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, static_cast<double>(bytes_) / s / 1e9);
    }
  return best;
}

BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes, int repetitions) {
  BandwidthProbe probe(pool, buffer_bytes);
  return {probe.read_gbs(repetitions), probe.buffer_bytes(), pool.size()};
}

}  // namespace hearth
