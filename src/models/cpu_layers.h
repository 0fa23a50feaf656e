// The CPU backend of the layer loop (models/layer_loop.h): each op is the hearth::ops call the
// forward pass has always made, with the same arguments, so results are bit-for-bit those of
// the CPU kernels. Bound to one forward call's batch, KV cache and thread pool.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kv/kv_cache.h"
#include "models/batch.h"
#include "models/layer_loop.h"
#include "models/model_config.h"
#include "ops/attention.h"
#include "ops/ops.h"

namespace hearth {

class CpuLayers {
 public:
  using Weight = const TensorView*;
  using Norm = const float*;

  // views: scratch for n PagedKV entries (one per batch token).
  CpuLayers(const ModelConfig& c, const Batch& batch, kv::KVCache& cache, const float* inv_freq,
            ops::PagedKV* views, ThreadPool& pool)
      : c_(c), batch_(batch), cache_(cache), inv_freq_(inv_freq), views_(views), pool_(pool),
        shape_{c.n_heads, c.n_kv_heads, c.head_dim, attention_scale(c), c.sliding_window} {}

  static float attention_scale(const ModelConfig& c) {
    return 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  }

  void matmul(Weight w, const float* x, int64_t n, float* y) { ops::matmul(*w, x, n, y, pool_); }
  void matmul_shared(const float* x, int64_t n, std::initializer_list<MatmulTo<Weight>> outs) {
    std::array<MatmulOutput, 4> o;  // the layer loop passes 2 or 3
    if (outs.size() > o.size()) {
      for (const auto& t : outs) matmul(*t.w, x, n, t.y);
      return;
    }
    size_t k = 0;
    for (const auto& t : outs) o[k++] = {*t.w, t.y};
    ops::matmul_shared_input(std::span<const MatmulOutput>(o.data(), k), x, n, pool_);
  }
  void rmsnorm(const float* x, Norm w, float* y, int64_t n) {
    rows(n, [&](int64_t t0, int64_t t1) {
      ops::rmsnorm(x + t0 * c_.dim, w, y + t0 * c_.dim, t1 - t0, c_.dim, c_.rms_eps);
    });
  }
  void rope_q(float* x, int64_t n) { rope(x, n, c_.n_heads); }
  void rope_k(float* x, int64_t n) { rope(x, n, c_.n_kv_heads); }
  void store_kv(int64_t layer, const float* k, const float* v, int64_t n) {
    const int64_t kv_dim = c_.kv_dim();
    // Rows outside the reserved blocks fail here, on the calling thread, not in a worker.
    for (int64_t t = 0; t < n; ++t) cache_.check_room(batch_.seq_ids[t], batch_.positions[t]);
    rows(n, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        cache_.store(layer, batch_.seq_ids[t], batch_.positions[t], k + t * kv_dim, v + t * kv_dim);
    });
  }
  void attention(int64_t layer, const float* q, int64_t n, float* out) {
    for (int64_t t = 0; t < n; ++t) views_[t] = cache_.view(layer, batch_.seq_ids[t]);
    ops::attention(q, n, batch_.positions.data(), views_, shape_, out, pool_);
  }
  void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
    const int64_t d = c_.ffn_dim;
    rows(n, [&](int64_t t0, int64_t t1) {
      ops::silu_mul(gate + t0 * d, up + t0 * d, out + t0 * d, (t1 - t0) * d);
    });
  }
  void add(float* acc, const float* x, int64_t n) {
    rows(n, [&](int64_t t0, int64_t t1) {
      ops::add_inplace(acc + t0 * c_.dim, x + t0 * c_.dim, (t1 - t0) * c_.dim);
    });
  }

 private:
  // Row-wise ops of a batch run on every thread, whole tokens each (the same kernels on the
  // same rows, so the results do not change); a few tokens are not worth waking threads for.
  static constexpr int64_t kRowsPerThread = 4;
  template <typename Fn>
  void rows(int64_t n, const Fn& fn) {
    if (n < 2 * kRowsPerThread || pool_.size() == 1) return fn(0, n);
    pool_.parallel_for(n, [&](int64_t t0, int64_t t1, int) { fn(t0, t1); }, kRowsPerThread);
  }
  void rope(float* x, int64_t n, int64_t heads) {
    const int64_t stride = heads * c_.head_dim;
    rows(n, [&](int64_t t0, int64_t t1) {
      ops::rope(x + t0 * stride, t1 - t0, heads, c_.head_dim, c_.rope_dim,
                batch_.positions.data() + t0, inv_freq_, c_.rope_mode);
    });
  }

  const ModelConfig& c_;
  const Batch& batch_;
  kv::KVCache& cache_;
  const float* inv_freq_;
  ops::PagedKV* views_;
  ThreadPool& pool_;
  ops::AttentionShape shape_;
};

}  // namespace hearth
