// One-token matmul (decode's GEMV) against the read-bandwidth probe, over weights that live in
// DRAM: how close each kernel comes to the memory roofline, with nothing else of the model in
// the way.
//
// Why not bench_matmul: its "cold" matrices (8 copies, 50-200 MB) are cache-resident on hosts
// with a large last-level cache (this VM's CPUID reports ~500 MB of L3), which made decode
// look faster than memory allows and misled prefetch tuning. Here each type's copies of a
// TinyLlama FFN matrix (5632 x 2048) fill 1 GiB, as the probe's buffer does, and the two
// passes alternate round after round, so a shared host's swings in bandwidth hit both alike;
// the medians are reported.
//
//   build/bench/bench_decode [THREADS...] [--rounds N] [--types F16,Q4_0,...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "fit/bandwidth.h"
#include "ops/ops.h"
#include "ops/packed_weights.h"
#include "ops/quant.h"

namespace {

using namespace hearth;

constexpr int64_t kRows = 5632, kCols = 2048;
constexpr uint64_t kWeightBytes = uint64_t{1} << 30;

struct Matrices {
  ops::PackedWeights packed;     // owns the copies
  std::vector<TensorView> views;
  uint64_t bytes_each = 0;
};

// Copies of one random matrix of `type`, in the layout the model would load it into, filling
// kWeightBytes (the values are irrelevant to the speed; one is quantized, the rest copied).
void make_matrices(DType type, Matrices& m) {
  const int64_t row_bytes = dtype_row_bytes(type, kCols);
  m.bytes_each = static_cast<uint64_t>(row_bytes * kRows);
  std::vector<uint8_t> file(m.bytes_each);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    for (float& v : row) v = normal(rng);
    ops::quantize_row(type, row.data(), file.data() + r * row_bytes, kCols);
  }
  const uint64_t copies = std::max<uint64_t>(2, kWeightBytes / m.bytes_each);
  for (uint64_t c = 0; c < copies; ++c) {
    TensorView v;
    v.name = "w";
    v.dtype = type;
    v.shape = {kRows, kCols};
    v.data = file.data();
    v.nbytes = m.bytes_each;
    m.views.push_back(m.packed.prepare(v, /*source_is_file_mapping=*/false));
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads;
  int rounds = 7;
  std::vector<std::string> type_names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--types" && i + 1 < argc) {
      type_names.clear();
      std::string list = argv[++i];
      for (size_t p = 0; p <= list.size();) {
        const size_t q = std::min(list.find(',', p), list.size());
        if (q > p) type_names.push_back(list.substr(p, q - p));
        p = q + 1;
      }
    } else if (std::atoi(a.c_str()) > 0) {
      threads.push_back(std::atoi(a.c_str()));
    } else {
      std::fprintf(stderr, "usage: bench_decode [THREADS...] [--rounds N] [--types F16,Q4_0,...]\n");
      return 2;
    }
  }
  if (threads.empty()) threads = {1, 2};
  std::printf("kernels: %s\n", ops::kernel_report().c_str());
  std::printf("one-token matmul %lld x %lld over 1 GiB of copies vs the read probe (1 GiB), "
              "alternated %d rounds, medians\n\n",
              static_cast<long long>(kRows), static_cast<long long>(kCols), rounds);
  std::printf("| type | threads | read GB/s | matmul GB/s of weights | of read |\n|---|---|---|---|---|\n");
  for (const std::string& name : type_names) {
    const std::optional<DType> type_or = dtype_from_name(name);
    if (!type_or) {
      std::fprintf(stderr, "unknown type %s (F16, BF16, Q8_0, Q4_0, Q4_K, ...)\n", name.c_str());
      return 2;
    }
    const DType type = *type_or;
    Matrices m;
    make_matrices(type, m);
    std::vector<float> x(kCols), y(kRows);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : x) v = normal(rng);
    for (int n : threads) {
      ThreadPool pool(n);
      BandwidthProbe probe(pool);
      std::vector<double> read, gemv;
      for (int r = 0; r < rounds; ++r) {
        read.push_back(probe.read_gbs(1));
        const auto t0 = std::chrono::steady_clock::now();
        for (const TensorView& w : m.views) ops::matmul(w, x.data(), 1, y.data(), pool);
        gemv.push_back(static_cast<double>(m.bytes_each * m.views.size()) / seconds_since(t0) / 1e9);
      }
      const double rd = median(read), mm = median(gemv);
      std::printf("| %s | %d | %.1f | %.1f | %.0f%% |\n", name.c_str(), n, rd, mm, 100 * mm / rd);
      std::fflush(stdout);
    }
  }
  return 0;
}
