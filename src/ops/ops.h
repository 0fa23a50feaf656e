// The numeric ops the model runs. All activations are float32, row-major. The front ends in
// hearth::ops dispatch to the fastest kernels this CPU supports (see backends/cpu/dispatch.h;
// HEARTH_ISA caps the level); hearth::ops::ref holds plain, obviously correct scalar versions
// that the tests use as the yardstick.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace hearth::ops {

// y[t][o] = sum_i x[t][i] * W[o][i] for t < n_tokens, o < W.rows(), i < W.cols().
// W may be F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K. For the quantized types the
// activations are quantized to int8 per block (as llama.cpp does), which adds a relative
// error of about 0.5% per output. x is n_tokens x W.cols(), y is n_tokens x W.rows().
void matmul(const TensorView& W, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// matmul of each output's matrix with the same x. Matrices of one type and width share one
// quantization of x and one pass of the thread pool (a layer's Wq, Wk, Wv; Wgate, Wup): fewer
// hand-offs per layer, and the small products (Wk, Wv) no longer wait alone for the slowest
// thread. Results are those of matmul, bit for bit.
void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens,
                         ThreadPool& pool);

// Bytes matmul keeps per calling thread for the prepared activations of n_tokens rows of
// `cols` against weights of this type (0 for float weights): what the memory planner counts.
uint64_t matmul_scratch_bytes(DType weight_type, int64_t cols, int64_t n_tokens);

// out[t][:] = row ids[t] of table, decoded to float (token embeddings). Throws
// hearth::Error for an id outside [0, table.rows()).
void get_rows(const TensorView& table, const int32_t* ids, int64_t n, float* out);

// y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight, rows of dim; y may alias x.
void rmsnorm(const float* x, const float* weight, float* y, int64_t n_tokens, int64_t dim,
             float eps);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)); out may alias gate or up.
void silu_mul(const float* gate, const float* up, float* out, int64_t count);

// acc[i] += x[i].
void add_inplace(float* acc, const float* x, int64_t count);

// x = exp(x - max) / sum(exp(x - max)). A row of all -inf (fully masked) becomes uniform.
void softmax_inplace(float* x, int64_t n);

enum class RopeMode {
  Interleaved,  // rotates pairs (2i, 2i+1): GGML "normal" mode, Llama GGUF files
  Neox,         // rotates pairs (i, i + rot_dim/2): Hugging Face rotate_half, GGML NeoX mode
};

// x: n_tokens x n_heads x head_dim. Rotates the first rot_dim (even, <= head_dim) dims of
// every head by angle positions[t] * inv_freq[i] for pair i < rot_dim / 2; the rest pass.
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
          const int32_t* positions, const float* inv_freq, RopeMode mode);

// Which implementations run on this CPU, e.g.
// "matmul: avx512 (F32: fma, ..., Q4_K: int8 dot (vpdpbusd), ...); rmsnorm/...: avx512".
std::string kernel_report();

}  // namespace hearth::ops

namespace hearth::ops::ref {

// Scalar references: decode each weight row to float, accumulate in double.
void matmul(const TensorView& W, const float* x, int64_t n_tokens, float* y);
void get_rows(const TensorView& table, const int32_t* ids, int64_t n, float* out);
void rmsnorm(const float* x, const float* weight, float* y, int64_t n_tokens, int64_t dim,
             float eps);
void silu_mul(const float* gate, const float* up, float* out, int64_t count);
void add_inplace(float* acc, const float* x, int64_t count);
void softmax_inplace(float* x, int64_t n);
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
          const int32_t* positions, const float* inv_freq, RopeMode mode);

}  // namespace hearth::ops::ref
