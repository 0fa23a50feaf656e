// The per-element and per-row ops of the forward pass: RMSNorm, RoPE (interleaved and NeoX),
// SwiGLU's silu(gate) * up, the residual add, and the row scatter that writes keys and values
// into the paged cache. Each mirrors its CPU reference in src/ops (same formulas, float math).
#include <cuda_runtime.h>

#include "backends/cuda/cuda_api.h"
#include "backends/cuda/cuda_check.h"

namespace hearth::cuda {
namespace {

constexpr int kThreads = 256;

// One block per row: sum of squares by a block reduction, then the scaled row.
__global__ void rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                               float* y, int64_t dim, float eps) {
  __shared__ float partial[kThreads / 32];
  const float* xr = x + blockIdx.x * dim;
  float* yr = y + blockIdx.x * dim;
  float s = 0;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) s += xr[i] * xr[i];
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = s;
  __syncthreads();
  float total = 0;
  for (int i = 0; i < kThreads / 32; ++i) total += partial[i];
  const float inv = rsqrtf(total / static_cast<float>(dim) + eps);
  // y may alias x: every thread has read its elements of x before any write (the barrier).
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = xr[i] * inv * w[i];
}

__global__ void silu_mul_kernel(const float* gate, const float* up, float* out, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float g = gate[i];
  out[i] = g / (1.0f + expf(-g)) * up[i];
}

__global__ void add_kernel(float* acc, const float* x, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) acc[i] += x[i];
}

// One thread per rotated pair (token, head, i < rot_dim / 2).
__global__ void rope_kernel(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim,
                            int64_t rot_dim, const int32_t* positions, const float* inv_freq,
                            bool neox) {
  const int64_t half = rot_dim / 2;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_tokens * n_heads * half) return;
  const int64_t pair = i % half, head = (i / half) % n_heads, t = i / (half * n_heads);
  float* h = x + (t * n_heads + head) * head_dim;
  const float angle = static_cast<float>(positions[t]) * inv_freq[pair];
  float s, c;
  sincosf(angle, &s, &c);
  const int64_t a = neox ? pair : 2 * pair, b = neox ? pair + half : 2 * pair + 1;
  const float x0 = h[a], x1 = h[b];
  h[a] = x0 * c - x1 * s;
  h[b] = x0 * s + x1 * c;
}

__global__ void scatter_rows_kernel(const float* src, const int64_t* offsets, int64_t n_rows,
                                    int64_t width, float* dst) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * width) return;
  const int64_t r = i / width, j = i % width;
  dst[offsets[r] * width + j] = src[i];
}

}  // namespace

void rmsnorm(const float* x, const float* weight, float* y, int64_t n_tokens, int64_t dim,
             float eps, const Stream& stream) {
  if (n_tokens <= 0) return;
  rmsnorm_kernel<<<static_cast<unsigned>(n_tokens), kThreads, 0, raw(stream.handle())>>>(
      x, weight, y, dim, eps);
  check(cudaGetLastError(), "rmsnorm launch");
}

void silu_mul(const float* gate, const float* up, float* out, int64_t count, const Stream& stream) {
  if (count <= 0) return;
  silu_mul_kernel<<<grid_for(count, kThreads), kThreads, 0, raw(stream.handle())>>>(gate, up, out,
                                                                                   count);
  check(cudaGetLastError(), "silu_mul launch");
}

void add_inplace(float* acc, const float* x, int64_t count, const Stream& stream) {
  if (count <= 0) return;
  add_kernel<<<grid_for(count, kThreads), kThreads, 0, raw(stream.handle())>>>(acc, x, count);
  check(cudaGetLastError(), "add launch");
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
          const int32_t* positions, const float* inv_freq, bool neox, const Stream& stream) {
  const int64_t n = n_tokens * n_heads * (rot_dim / 2);
  if (n <= 0) return;
  rope_kernel<<<grid_for(n, kThreads), kThreads, 0, raw(stream.handle())>>>(
      x, n_tokens, n_heads, head_dim, rot_dim, positions, inv_freq, neox);
  check(cudaGetLastError(), "rope launch");
}

void scatter_rows(const float* src, const int64_t* row_offsets, int64_t n_rows, int64_t width,
                  float* dst, const Stream& stream) {
  const int64_t n = n_rows * width;
  if (n <= 0) return;
  scatter_rows_kernel<<<grid_for(n, kThreads), kThreads, 0, raw(stream.handle())>>>(
      src, row_offsets, n_rows, width, dst);
  check(cudaGetLastError(), "scatter_rows launch");
}

}  // namespace hearth::cuda
