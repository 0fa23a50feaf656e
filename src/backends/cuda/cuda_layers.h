// The CUDA backend of the layer loop (models/layer_loop.h): the same ops as CpuLayers, on
// device buffers, launched on one stream. The per-call inputs (positions, KV row offsets,
// block tables) are device arrays the runner fills before the loop runs.
#pragma once
#include <cmath>
#include <cstdint>
#include <initializer_list>

#include "backends/cuda/cuda_api.h"
#include "models/layer_loop.h"
#include "models/model_config.h"

namespace hearth::cuda {

// Where one forward call's per-token inputs live on the device.
struct DeviceStep {
  const int32_t* positions = nullptr;    // n
  const int64_t* kv_rows = nullptr;      // n: row of the pool each token's key/value goes to
  const int32_t* block_table = nullptr;  // tables of the batch's sequences, concatenated
  const int32_t* table_start = nullptr;  // n
  int64_t max_positions = 0;
};

// The device KV pool: [layer][block][row][kv_dim] floats, keys and values apart; block ids are
// the host cache's, so the host's block tables address it directly.
struct DeviceKV {
  float* keys = nullptr;
  float* values = nullptr;
  int64_t layer_floats = 0;  // n_blocks * block_size * kv_dim
  int64_t block_size = 0;
};

class CudaLayers {
 public:
  using Weight = DeviceMatrix;
  using Norm = const float*;  // device

  CudaLayers(const ModelConfig& c, const DeviceStep& step, const DeviceKV& kv,
             const float* inv_freq, void* attention_scratch, MatmulScratch& matmul_scratch,
             const Stream& stream)
      : c_(c), step_(step), kv_(kv), inv_freq_(inv_freq), attention_scratch_(attention_scratch),
        matmul_scratch_(matmul_scratch), stream_(stream) {}

  AttentionShapeD attention_shape() const {
    return {c_.n_heads, c_.n_kv_heads, c_.head_dim,
            1.0f / std::sqrt(static_cast<float>(c_.head_dim)), c_.sliding_window};
  }

  void matmul(const Weight& w, const float* x, int64_t n, float* y) {
    cuda::matmul(w, x, n, y, matmul_scratch_, stream_);
  }
  void matmul_shared(const float* x, int64_t n, std::initializer_list<MatmulTo<Weight>> outs) {
    for (const auto& t : outs) matmul(*t.w, x, n, t.y);
  }
  void rmsnorm(const float* x, Norm w, float* y, int64_t n) {
    cuda::rmsnorm(x, w, y, n, c_.dim, c_.rms_eps, stream_);
  }
  void rope_q(float* x, int64_t n) { rope(x, n, c_.n_heads); }
  void rope_k(float* x, int64_t n) { rope(x, n, c_.n_kv_heads); }
  void store_kv(int64_t layer, const float* k, const float* v, int64_t n) {
    scatter_rows(k, step_.kv_rows, n, c_.kv_dim(), kv_.keys + layer * kv_.layer_floats, stream_);
    scatter_rows(v, step_.kv_rows, n, c_.kv_dim(), kv_.values + layer * kv_.layer_floats, stream_);
  }
  void attention(int64_t layer, const float* q, int64_t n, float* out) {
    DevicePagedBatch b;
    b.keys = kv_.keys + layer * kv_.layer_floats;
    b.values = kv_.values + layer * kv_.layer_floats;
    b.block_table = step_.block_table;
    b.table_start = step_.table_start;
    b.positions = step_.positions;
    b.block_size = kv_.block_size;
    b.kv_dim = c_.kv_dim();
    b.max_positions = step_.max_positions;
    cuda::attention(q, n, b, attention_shape(), out, attention_scratch_, stream_);
  }
  void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
    cuda::silu_mul(gate, up, out, n * c_.ffn_dim, stream_);
  }
  void add(float* acc, const float* x, int64_t n) { cuda::add_inplace(acc, x, n * c_.dim, stream_); }

 private:
  void rope(float* x, int64_t n, int64_t heads) {
    cuda::rope(x, n, heads, c_.head_dim, c_.rope_dim, step_.positions, inv_freq_,
               c_.rope_mode == ops::RopeMode::Neox, stream_);
  }

  const ModelConfig& c_;
  const DeviceStep& step_;
  const DeviceKV& kv_;
  const float* inv_freq_;
  void* attention_scratch_;
  MatmulScratch& matmul_scratch_;
  const Stream& stream_;
};

}  // namespace hearth::cuda
