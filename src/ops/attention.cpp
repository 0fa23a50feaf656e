#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace hearth::ops {

float PagedKV::element(const void* pool, int64_t pos, int64_t head, int64_t i) const {
  const int64_t at = offset(pos, head) + i;
  return type == KVType::F16 ? fp16_to_fp32(static_cast<const uint16_t*>(pool)[at])
                             : static_cast<const float*>(pool)[at];
}

namespace {

int64_t first_position(int64_t pos, int64_t window) {
  return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
}

// One KV head's run of `count` cache rows (contiguous in its block), towards L1: a head's runs
// lie in blocks scattered over the pool, which the hardware prefetchers cannot foresee, and a
// decode step's attention is bound by that read.
template <typename T>
void prefetch_rows(const T* first_row, int64_t count, int64_t head_dim) {
  const char* p = reinterpret_cast<const char*>(first_row);
  const int64_t bytes = count * head_dim * static_cast<int64_t>(sizeof(T));
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
}

// The cache's head layout must be the model's, or heads would read each other's rows.
void check_layout(const PagedKV& kv, const AttentionShape& s) {
  if (kv.head_dim != s.head_dim || kv.kv_dim != s.n_kv_heads * s.head_dim)
    fail("internal error: KV cache of {} heads x {} floats used for attention with {} KV heads x {}",
         kv.kv_dim / std::max<int64_t>(1, kv.head_dim), kv.head_dim, s.n_kv_heads, s.head_dim);
}

constexpr int64_t kPrefetchMaxTokens = 64;  // batches up to this many tokens prefetch KV rows

}  // namespace

// Work item = (token, KV head): the group of query heads that share one KV head are scored
// together, so each key and value row is read once per group, not once per query head.
uint64_t attention_scratch_bytes(const AttentionShape& s, int64_t n_positions) {
  const int64_t span = s.sliding_window > 0 ? std::min(n_positions, s.sliding_window) : n_positions;
  return static_cast<uint64_t>(s.n_heads / s.n_kv_heads * span) * sizeof(float);
}

namespace {

// The inner loops (q.k, softmax, weights x v) on this CPU's vector units, over cache elements
// of type T: at a long context they are a large share of a decode step.
struct RunKernels {
  const cpu::KernelTable& k;
  void scores(const float* q, int64_t group, int64_t dim, const float* rows, int64_t n,
              float scale, float* out, int64_t s_stride) const {
    k.attn_scores(q, group, dim, rows, dim, n, scale, out, s_stride);
  }
  void scores(const float* q, int64_t group, int64_t dim, const uint16_t* rows, int64_t n,
              float scale, float* out, int64_t s_stride) const {
    k.attn_scores_f16(q, group, dim, rows, dim, n, scale, out, s_stride);
  }
  void values(const float* w, int64_t w_stride, int64_t group, int64_t dim, const float* rows,
              int64_t n, float* out) const {
    k.attn_values(w, w_stride, group, dim, rows, dim, n, out);
  }
  void values(const float* w, int64_t w_stride, int64_t group, int64_t dim, const uint16_t* rows,
              int64_t n, float* out) const {
    k.attn_values_f16(w, w_stride, group, dim, rows, dim, n, out);
  }
};

template <typename T>
void attention_of(const float* q, int64_t n_tokens, const int32_t* positions, const PagedKV* kv,
                  const AttentionShape& s, float* out, ThreadPool& pool) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t q_stride = s.n_heads * s.head_dim;
  int32_t last_position = 0;
  for (int64_t t = 0; t < n_tokens; ++t) last_position = std::max(last_position, positions[t]);
  const size_t scores_needed = attention_scratch_bytes(s, last_position + 1) / sizeof(float);
  const RunKernels kernels{cpu::active_kernels()};
  // Decode steps read a cache that sits in memory; a prompt's keys and values were just
  // written and are still in cache, where the prefetches only cost (6% of its attention).
  const bool prefetch = n_tokens <= kPrefetchMaxTokens;
  pool.parallel_for(n_tokens * s.n_kv_heads, [&](int64_t begin, int64_t end, int) {
    thread_local std::vector<float> scores;  // [group][n_positions]
    // Grown once per call to the batch's widest span, to exactly that size (what
    // attention_scratch_bytes reports), never item by item.
    if (scores.size() < scores_needed) scores = std::vector<float>(scores_needed);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / s.n_kv_heads, kvh = item % s.n_kv_heads;
      const int64_t last = positions[t];
      const int64_t first = first_position(last, s.sliding_window);
      const int64_t n = last - first + 1;
      const PagedKV& cache = kv[t];
      const float* q_group = q + t * q_stride + kvh * group * s.head_dim;
      float* out_group = out + t * q_stride + kvh * group * s.head_dim;
      // Runs of consecutive positions within one cache block; the next run's rows of this
      // head (row(pos): its keys or values) are fetched while this one is computed.
      auto for_each_run = [&](auto&& row, auto&& fn) {
        auto run_at = [&](int64_t p) {
          const int64_t pos = first + p;
          return std::min(n - p, cache.block_size - pos % cache.block_size);
        };
        if (prefetch) prefetch_rows(row(first), run_at(0), s.head_dim);
        for (int64_t p = 0; p < n;) {
          const int64_t pos = first + p;
          const int64_t run = run_at(p);
          if (prefetch && p + run < n) prefetch_rows(row(pos + run), run_at(p + run), s.head_dim);
          fn(p, pos, run);
          p += run;
        }
      };
      auto key_row = [&](int64_t pos) { return cache.key<T>(pos, kvh); };
      auto value_row = [&](int64_t pos) { return cache.value<T>(pos, kvh); };
      for_each_run(key_row, [&](int64_t p, int64_t pos, int64_t run) {
        kernels.scores(q_group, group, s.head_dim, key_row(pos), run, s.scale, scores.data() + p, n);
      });
      for (int64_t g = 0; g < group; ++g) {
        kernels.k.softmax(scores.data() + g * n, n);
        std::fill(out_group + g * s.head_dim, out_group + (g + 1) * s.head_dim, 0.0f);
      }
      for_each_run(value_row, [&](int64_t p, int64_t pos, int64_t run) {
        kernels.values(scores.data() + p, n, group, s.head_dim, value_row(pos), run, out_group);
      });
    }
  });
}

}  // namespace

void attention(const float* q, int64_t n_tokens, const int32_t* positions, const PagedKV* kv,
               const AttentionShape& s, float* out, ThreadPool& pool) {
  for (int64_t t = 0; t < n_tokens; ++t) check_layout(kv[t], s);
  if (n_tokens <= 0) return;
  for (int64_t t = 1; t < n_tokens; ++t)
    if (kv[t].type != kv[0].type)
      fail("internal error: one attention call over KV caches of types {} and {}",
           kv_type_name(kv[0].type), kv_type_name(kv[t].type));
  if (kv[0].type == KVType::F16)
    attention_of<uint16_t>(q, n_tokens, positions, kv, s, out, pool);
  else
    attention_of<float>(q, n_tokens, positions, kv, s, out, pool);
}

namespace ref {

// Textbook attention in double precision, one query head at a time.
void attention(const float* q, int64_t n_tokens, const int32_t* positions, const PagedKV* kv,
               const AttentionShape& s, float* out) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  for (int64_t t = 0; t < n_tokens; ++t) check_layout(kv[t], s);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int64_t last = positions[t], first = first_position(last, s.sliding_window);
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const float* qh = q + (t * s.n_heads + h) * s.head_dim;
      const int64_t kvh = h / group;
      std::vector<double> w;
      for (int64_t p = first; p <= last; ++p) {
        double d = 0;
        for (int64_t i = 0; i < s.head_dim; ++i) d += static_cast<double>(qh[i]) * kv[t].key_at(p, kvh, i);
        w.push_back(d * s.scale);
      }
      const double mx = *std::max_element(w.begin(), w.end());
      double sum = 0;
      for (double& x : w) sum += (x = std::exp(x - mx));
      for (int64_t i = 0; i < s.head_dim; ++i) {
        double acc = 0;
        for (int64_t p = first; p <= last; ++p)
          acc += w[p - first] / sum * kv[t].value_at(p, kvh, i);
        out[(t * s.n_heads + h) * s.head_dim + i] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace ref
}  // namespace hearth::ops
