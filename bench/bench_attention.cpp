// Attention over the paged KV cache alone, on TinyLlama-1.1B's shape (32 query heads sharing
// 4 KV heads of 64): one decode step of one sequence at a long context, one of 16 sequences
// stepping together, and a prompt's causal attention. Reported as multiply-adds per second (q.k and weights x v) and, for
// decode, the KV bytes read per second (one layer's cache, 22 layers' worth of copies so it
// streams from memory as in a forward pass).
//   build/bench/bench_attention
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "ops/attention.h"

namespace {

using namespace hearth;

constexpr int64_t kHeads = 32, kKvHeads = 4, kHeadDim = 64, kBlock = 16, kLayers = 22;
constexpr int64_t kKvDim = kKvHeads * kHeadDim;

struct Cache {
  std::vector<float> keys, values;
  std::vector<int32_t> table;
  int64_t n_positions;
};

// kLayers caches of n_positions, each with its blocks in shuffled order (as a paged cache
// that has served other sequences holds them).
const std::vector<Cache>& caches(int64_t n_positions) {
  static std::vector<Cache> c;
  if (!c.empty() && c[0].n_positions == n_positions) return c;
  c.assign(kLayers, {});
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t blocks = (n_positions + kBlock - 1) / kBlock;
  for (Cache& l : c) {
    l.n_positions = n_positions;
    l.keys.resize(static_cast<size_t>(blocks * kBlock * kKvDim));
    l.values.resize(l.keys.size());
    for (float& v : l.keys) v = normal(rng);
    for (float& v : l.values) v = normal(rng);
    l.table.resize(static_cast<size_t>(blocks));
    for (int64_t b = 0; b < blocks; ++b) l.table[static_cast<size_t>(b)] = static_cast<int32_t>(b);
    std::shuffle(l.table.begin(), l.table.end(), rng);
  }
  return c;
}

const ops::AttentionShape kShape{kHeads, kKvHeads, kHeadDim, 0.125f, 0};

std::vector<float> random_queries(int64_t n_tokens) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(n_tokens * kHeads * kHeadDim));
  for (float& v : q) v = normal(rng);
  return q;
}

// range(0): context (decode) or prompt length; range(1): threads; range(2): 1 = prompt;
// range(3): 1 = the same cache every time (cache-resident: the kernels' arithmetic alone).
void BM_attention(benchmark::State& state) {
  const int64_t n_ctx = state.range(0);
  const bool prompt = state.range(2) != 0;
  const bool hot = state.range(3) != 0;  // one layer's cache over and over: in L2
  ThreadPool pool(static_cast<int>(state.range(1)));
  const auto& c = caches(n_ctx);
  const int64_t n_tokens = prompt ? n_ctx : 1;
  std::vector<int32_t> positions(static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t)
    positions[static_cast<size_t>(t)] = static_cast<int32_t>(prompt ? t : n_ctx - 1);
  const std::vector<float> q = random_queries(n_tokens);
  std::vector<float> out(q.size());
  std::vector<ops::PagedKV> views(static_cast<size_t>(n_tokens));
  size_t layer = 0;
  for (auto _ : state) {
    const Cache& l = c[hot ? 0 : layer++ % c.size()];
    for (auto& v : views)
      v = {l.keys.data(), l.values.data(), l.table.data(), static_cast<int64_t>(l.table.size()), kBlock, kKvDim,
           kHeadDim};
    ops::attention(q.data(), n_tokens, positions.data(), views.data(), kShape, out.data(), pool);
    benchmark::DoNotOptimize(out.data());
  }
  // Positions attended: n_ctx per decode step; 1 + 2 + ... + n_ctx for a causal prompt.
  const double attended = prompt ? 0.5 * static_cast<double>(n_ctx) * static_cast<double>(n_ctx + 1)
                                 : static_cast<double>(n_ctx);
  state.counters["GMACps"] = benchmark::Counter(attended * kHeads * kHeadDim * 2 / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  if (!prompt)
    state.counters["kv_GBps"] = benchmark::Counter(
        static_cast<double>(n_ctx * kKvDim * 2 * sizeof(float)), benchmark::Counter::kIsIterationInvariantRate);
}

// Batched decode: range(2) sequences, each one token at context range(0), their blocks drawn
// from one shuffled cache (as the server's scheduler steps them together).
void BM_attention_batch(benchmark::State& state) {
  const int64_t n_ctx = state.range(0), n_seqs = state.range(2);
  ThreadPool pool(static_cast<int>(state.range(1)));
  const int64_t blocks_per_seq = (n_ctx + kBlock - 1) / kBlock;
  const auto& c = caches(blocks_per_seq * kBlock * n_seqs);
  std::vector<int32_t> positions(static_cast<size_t>(n_seqs), static_cast<int32_t>(n_ctx - 1));
  const std::vector<float> q = random_queries(n_seqs);
  std::vector<float> out(q.size());
  std::vector<ops::PagedKV> views(static_cast<size_t>(n_seqs));
  size_t layer = 0;
  for (auto _ : state) {
    const Cache& l = c[layer++ % c.size()];
    for (int64_t s = 0; s < n_seqs; ++s)
      views[static_cast<size_t>(s)] = {l.keys.data(), l.values.data(), l.table.data() + s * blocks_per_seq,
                                       blocks_per_seq, kBlock, kKvDim, kHeadDim};
    ops::attention(q.data(), n_seqs, positions.data(), views.data(), kShape, out.data(), pool);
    benchmark::DoNotOptimize(out.data());
  }
  const double attended = static_cast<double>(n_ctx * n_seqs);
  state.counters["GMACps"] = benchmark::Counter(attended * kHeads * kHeadDim * 2 / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["kv_GBps"] = benchmark::Counter(attended * kKvDim * 2 * sizeof(float),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_attention_batch)
    ->ArgNames({"ctx", "threads", "seqs"})
    ->Args({128, 2, 16})
    ->Args({512, 2, 16})
    ->UseRealTime();

BENCHMARK(BM_attention)
    ->ArgNames({"ctx", "threads", "prompt", "hot"})
    ->Args({576, 1, 0, 0})
    ->Args({576, 2, 0, 0})
    ->Args({576, 1, 0, 1})
    ->Args({2048, 2, 0, 0})
    ->Args({512, 2, 1, 0})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
