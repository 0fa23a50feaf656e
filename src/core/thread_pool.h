// A fixed set of worker threads for data-parallel kernels. Work is split statically: a call
// to parallel_for(n, fn) gives worker i the i-th contiguous chunk of [0, n), so the same
// rows always go to the same thread (cache-friendly, deterministic) and nothing is allocated
// per call. The calling thread is worker 0, so a pool of 1 runs inline with no threads.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
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

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace hearth
