#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/thread_pool.h"

using hearth::ThreadPool;

TEST(ThreadPool, CoversTheRangeOnceInWholeGrains) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 7, 64, 1001}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
        EXPECT_EQ(b % 4, 0);
        for (int64_t i = b; i < e; ++i) hits[i]++;
      }, 4);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n << " i " << i;
    }
  }
}

TEST(ThreadPool, SameChunksGoToTheSameThreads) {
  ThreadPool pool(2);
  std::vector<int> first(100), second(100);
  pool.parallel_for(100, [&](int64_t b, int64_t e, int t) { for (auto i = b; i < e; ++i) first[i] = t; });
  pool.parallel_for(100, [&](int64_t b, int64_t e, int t) { for (auto i = b; i < e; ++i) second[i] = t; });
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.front(), 0);
  EXPECT_EQ(first.back(), 1);
}

TEST(ThreadPool, PhysicalCoresIsPositive) { EXPECT_GE(ThreadPool::physical_cores(), 1); }
