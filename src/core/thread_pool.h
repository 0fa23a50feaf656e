// A fixed set of worker threads for data-parallel kernels. Work is split statically: a call
// to parallel_for(n, fn) gives worker i the i-th contiguous chunk of [0, n), so the same
// rows always go to the same thread (cache-friendly, deterministic) and nothing is allocated
// per call. The calling thread is worker 0, so a pool of 1 runs inline with no threads.
//
// Why workers spin before they sleep: one decode step is a few hundred short parallel calls
// (a 2048 x 2048 matmul takes ~0.3 ms), and waking a sleeping thread through the kernel costs
// tens to hundreds of microseconds, more in a virtual machine whose idle vCPU has halted. So
// after each job a worker polls for the next one for a short while (kSpinMicros) and only then
// blocks on a futex; a call finds its workers awake for as long as calls keep coming, and an
// idle server does not burn its cores.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace hearth {

class ThreadPool {
 public:
  // n_threads <= 0: one per physical core.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) once per thread over disjoint chunks of [0, n).
  // Chunks are rounded to multiples of `grain` (except the last) so SIMD kernels get whole
  // tiles. Blocks until every chunk has run. Not reentrant.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                    int64_t grain = 1);

  // Runs fn(thread_index) on every thread.
  void run_on_all(const std::function<void(int)>& fn);

  static int physical_cores();

  // How long an idle worker polls for the next job before it sleeps.
  static constexpr int kSpinMicros = 300;

 private:
  void worker_loop(int index);
  // Waits until generation_ differs from `seen`; returns the new value.
  uint64_t wait_for_job(uint64_t seen);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  // Bumped once per job (and once at shutdown); workers wait on it.
  std::atomic<uint64_t> generation_{0};
  // Workers blocked in the kernel; a new job only pays for a wake-up when there are some.
  std::atomic<int> sleepers_{0};
  std::atomic<int> pending_{0};  // workers still running the current job
  std::atomic<bool> stop_{false};
};

}  // namespace hearth
