// The matmul kernels alone, on TinyLlama-1.1B's largest shape (ffn 5632 x 2048), at every
// weight type: batch 1 (GEMV) in GB/s of weights streamed, to compare with the machine's read
// bandwidth; batches of 4 to 512 (GEMM) in multiply-adds per second.
//   build/bench/bench_matmul --benchmark_filter=Q8_0
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "ops/ops.h"
#include "ops/packed_weights.h"
#include "ops/quant.h"

namespace {

using namespace hearth;

constexpr int64_t kRows = 5632, kCols = 2048;
// Rows of the cache-resident variant: 256 x 2048 at F16 is 1 MiB, inside one core's L2, so
// it measures the kernel's arithmetic alone (how far above the memory roofline it can go).
constexpr int64_t kHotRows = 256;

struct Weights {
  std::vector<uint8_t> bytes;
  TensorView view;
};

// Distinct random matrices per type so batch-1 runs stream from memory, not cache: 8 copies
// (about 8 x 23 MB at Q8_0) exceed the last-level cache.
const std::vector<Weights>& weights_of(DType type, bool hot) {
  static std::vector<Weights> cache[2][32];
  auto& w = cache[hot][static_cast<int>(type)];
  if (!w.empty()) return w;
  const int64_t rows = hot ? kHotRows : kRows;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(kCols);
  w.resize(hot ? 1 : 8);
  for (auto& m : w) {
    const int64_t row_bytes = dtype_row_bytes(type, kCols);
    m.bytes.resize(static_cast<size_t>(row_bytes * rows));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = normal(rng);
      ops::quantize_row(type, row.data(), m.bytes.data() + r * row_bytes, kCols);
    }
    m.view.name = "w";
    m.view.dtype = type;
    m.view.shape = {rows, kCols};
    m.view.data = m.bytes.data();
    m.view.nbytes = m.bytes.size();
    // As the model loads them: in the layout this CPU's kernels read fastest.
    static ops::PackedWeights packed;
    m.view = packed.prepare(m.view, /*source_is_file_mapping=*/false);
  }
  return w;
}

void BM_matmul(benchmark::State& state, DType type) {
  const int64_t n_tokens = state.range(0);
  ThreadPool pool(static_cast<int>(state.range(1)));
  const bool hot = state.range(2) != 0;
  const auto& w = weights_of(type, hot);
  const int64_t kRows = w[0].view.shape[0];
  std::vector<float> x(static_cast<size_t>(n_tokens * kCols)), y(static_cast<size_t>(n_tokens * kRows));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(rng);
  size_t i = 0;
  for (auto _ : state) {
    ops::matmul(w[i++ % w.size()].view, x.data(), n_tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  const double bytes = static_cast<double>(w[0].bytes.size());
  state.counters["weight_GBps"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GMACps"] = benchmark::Counter(static_cast<double>(kRows * kCols * n_tokens) / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    for (int n : {1, 4, 16, 64, 512}) b->Args({n, threads, 0});
    for (int n : {1, 16, 512}) b->Args({n, threads, 1});
  }
  b->ArgNames({"tokens", "threads", "hot"})->UseRealTime();
}

BENCHMARK_CAPTURE(BM_matmul, F16, DType::F16)->Apply(shapes);
BENCHMARK_CAPTURE(BM_matmul, BF16, DType::BF16)->Apply(shapes);
BENCHMARK_CAPTURE(BM_matmul, Q8_0, DType::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_matmul, Q4_0, DType::Q4_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_matmul, Q4_K, DType::Q4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_matmul, Q6_K, DType::Q6_K)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
