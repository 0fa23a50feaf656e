#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HEARTH_CPU_RELAX() _mm_pause()
#else
#define HEARTH_CPU_RELAX() std::this_thread::yield()
#endif

namespace hearth {

int ThreadPool::physical_cores() {
  // Count distinct (physical id, core id) pairs; hyper-threads share a core and slow
  // bandwidth-bound kernels down, so they are not counted.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(in, line)) {
    auto value = [&] { return line.substr(line.find(':') + 1); };
    if (line.rfind("physical id", 0) == 0) phys = value();
    if (line.rfind("core id", 0) == 0) cores.emplace(phys, value());
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : physical_cores()) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

uint64_t ThreadPool::wait_for_job(uint64_t seen) {
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + std::chrono::microseconds(kSpinMicros);
  for (int i = 0;; ++i) {
    const uint64_t g = generation_.load(std::memory_order_acquire);
    if (g != seen) return g;
    HEARTH_CPU_RELAX();
    if ((i & 63) == 63 && Clock::now() > give_up) break;
  }
  // Sleep. Announce it first (seq_cst), then wait(), which re-checks the value: a job posted
  // in between is either seen here or finds sleepers_ > 0 and notifies.
  sleepers_.fetch_add(1);
  uint64_t g;
  while ((g = generation_.load()) == seen) generation_.wait(seen);
  sleepers_.fetch_sub(1);
  return g;
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    seen = wait_for_job(seen);
    if (stop_.load()) return;
    (*job_)(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (n_threads_ == 1) {
    fn(0);
    return;
  }
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes job_ and pending_, pairs with sleepers_
  if (sleepers_.load() > 0) generation_.notify_all();
  fn(0);
  // The other chunks take about as long as ours; poll, yielding if a worker was preempted.
  for (int i = 0; pending_.load(std::memory_order_acquire) != 0; ++i) {
    if (i < 4096)
      HEARTH_CPU_RELAX();
    else
      std::this_thread::yield();
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (n + grain - 1) / grain;
  const int threads = static_cast<int>(std::min<int64_t>(n_threads_, units));
  if (threads <= 1) {
    fn(0, n, 0);
    return;
  }
  // The per-thread job captures one pointer, so std::function stores it inline: no heap
  // allocation per call on the decode hot path.
  struct Split {
    const std::function<void(int64_t, int64_t, int)>* fn;
    int64_t n, grain, units;
    int threads;
  } split{&fn, n, grain, units, threads};
  const Split* sp = &split;
  run_on_all([sp](int t) {
    if (t >= sp->threads) return;
    const int64_t u0 = sp->units * t / sp->threads, u1 = sp->units * (t + 1) / sp->threads;
    const int64_t begin = u0 * sp->grain, end = std::min(sp->n, u1 * sp->grain);
    if (begin < end) (*sp->fn)(begin, end, t);
  });
}

}  // namespace hearth
