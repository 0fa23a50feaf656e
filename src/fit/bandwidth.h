// How fast this machine reads memory: the bound on single-stream decode, which reads every
// weight once per token. Measured, not looked up, so the roofline in `hearth bench` is this
// machine's own.
#pragma once
#include <cstdint>
#include <memory>

namespace hearth {
class ThreadPool;

struct BandwidthResult {
  double read_gbs = 0;       // best of the repetitions, GB/s (1e9 bytes)
  uint64_t buffer_bytes = 0;
  int threads = 0;
};

// A buffer much larger than the last-level cache, first touched by the pool's threads, kept
// so that the bandwidth can be read again and again (`hearth bench` samples it between the
// timed tokens: on a shared host it moves by tens of percent from one second to the next).
class BandwidthProbe {
 public:
  explicit BandwidthProbe(ThreadPool& pool, uint64_t buffer_bytes = 1ull << 30);
  ~BandwidthProbe();
  BandwidthProbe(const BandwidthProbe&) = delete;
  BandwidthProbe& operator=(const BandwidthProbe&) = delete;

  // The best GB/s of `repetitions` rounds; each round reads the whole buffer once per access
  // pattern (no software prefetch, and prefetching 2 and 4 KiB ahead as the matmul kernels
  // do), split statically over the pool like a matmul's rows.
  double read_gbs(int repetitions);
  uint64_t buffer_bytes() const { return bytes_; }

 private:
  ThreadPool& pool_;
  uint64_t bytes_ = 0;
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> buf_;
};

// One probe, read `repetitions` times.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes = 1ull << 30,
                                       int repetitions = 5);

}  // namespace hearth
