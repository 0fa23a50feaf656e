// Attention over the paged KV cache, flash-decoding style. A decode step has one query per
// sequence, far too little parallelism for one block per (token, head), so the positions of each
// (token, head) are split into chunks of kAttentionChunk that run as separate blocks; each
// writes its unnormalized output with its running max and sum, and a second kernel merges the
// chunks (softmax is exact under this rescaling). The grid is sized by max_positions, not by
// the positions of this step, so the launch shape stays fixed while sequences grow (what a
// captured CUDA graph needs); chunks past a token's position exit at once.
#include <cuda_runtime.h>
#include <math_constants.h>

#include "backends/cuda/cuda_api.h"
#include "backends/cuda/cuda_check.h"

namespace hearth::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxHeadDim = 256;

__device__ __forceinline__ int64_t kv_row(const DevicePagedBatch& kv, int64_t t, int64_t p) {
  const int32_t block = kv.block_table[kv.table_start[t] + p / kv.block_size];
  return static_cast<int64_t>(block) * kv.block_size + p % kv.block_size;
}

__device__ __forceinline__ float block_reduce(float v, float* smem, bool is_max) {
  for (int o = 16; o > 0; o >>= 1) {
    const float other = __shfl_xor_sync(0xffffffffu, v, o);
    v = is_max ? fmaxf(v, other) : v + other;
  }
  __syncthreads();  // smem may still be read from a previous reduction
  if (threadIdx.x % 32 == 0) smem[threadIdx.x / 32] = v;
  __syncthreads();
  float r = smem[0];
  for (int w = 1; w < kWarps; ++w) r = is_max ? fmaxf(r, smem[w]) : r + smem[w];
  return r;
}

// Partial results: per (token, head, chunk) head_dim outputs, then max and sum.
__global__ void attention_chunk_kernel(const float* __restrict__ q, DevicePagedBatch kv,
                                       AttentionShapeD shape, int64_t n_chunks,
                                       float* __restrict__ partial) {
  __shared__ float qs[kMaxHeadDim];
  __shared__ float scores[kAttentionChunk];
  __shared__ float red[kWarps];
  const int64_t chunk = blockIdx.x, head = blockIdx.y, t = blockIdx.z;
  const int64_t hd = shape.head_dim;
  float* out = partial + ((t * shape.n_heads + head) * n_chunks + chunk) * (hd + 2);

  const int64_t pos = kv.positions[t];
  const int64_t first = shape.sliding_window > 0 && pos - shape.sliding_window + 1 > 0
                            ? pos - shape.sliding_window + 1 : 0;
  const int64_t start = first + chunk * kAttentionChunk;
  const int64_t end = min(pos + 1, start + kAttentionChunk);
  if (start >= end) {  // nothing here: an empty chunk the merge skips
    if (threadIdx.x == 0) {
      out[hd] = -CUDART_INF_F;
      out[hd + 1] = 0;
    }
    return;
  }
  const int64_t kv_head = head / (shape.n_heads / shape.n_kv_heads);
  for (int64_t d = threadIdx.x; d < hd; d += kThreads)
    qs[d] = q[(t * shape.n_heads + head) * hd + d] * shape.scale;
  __syncthreads();

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t p = start + warp; p < end; p += kWarps) {
    const float* k = kv.keys + kv_row(kv, t, p) * kv.kv_dim + kv_head * hd;
    float s = 0;
    for (int64_t d = lane; d < hd; d += 32) s += qs[d] * k[d];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) scores[p - start] = s;
  }
  __syncthreads();
  const int n = static_cast<int>(end - start);
  float m = -CUDART_INF_F;
  for (int i = threadIdx.x; i < n; i += kThreads) m = fmaxf(m, scores[i]);
  m = block_reduce(m, red, true);
  float l = 0;
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float e = expf(scores[i] - m);
    scores[i] = e;
    l += e;
  }
  l = block_reduce(l, red, false);  // its barriers also publish the exp'd scores
  for (int64_t d = threadIdx.x; d < hd; d += kThreads) {
    float o = 0;
    for (int i = 0; i < n; ++i)
      o += scores[i] * kv.values[kv_row(kv, t, start + i) * kv.kv_dim + kv_head * hd + d];
    out[d] = o;
  }
  if (threadIdx.x == 0) {
    out[hd] = m;
    out[hd + 1] = l;
  }
}

// out[t][head] = sum_c exp(m_c - M) o_c / sum_c exp(m_c - M) l_c over non-empty chunks.
__global__ void attention_merge_kernel(const float* __restrict__ partial, int64_t n_heads,
                                       int64_t hd, int64_t n_chunks, float* __restrict__ out) {
  const int64_t head = blockIdx.x, t = blockIdx.y;
  const float* base = partial + (t * n_heads + head) * n_chunks * (hd + 2);
  float M = -CUDART_INF_F;
  for (int64_t c = 0; c < n_chunks; ++c)
    if (base[c * (hd + 2) + hd + 1] > 0) M = fmaxf(M, base[c * (hd + 2) + hd]);
  float L = 0;
  for (int64_t c = 0; c < n_chunks; ++c) {
    const float* pc = base + c * (hd + 2);
    if (pc[hd + 1] > 0) L += pc[hd + 1] * expf(pc[hd] - M);
  }
  for (int64_t d = threadIdx.x; d < hd; d += blockDim.x) {
    float o = 0;
    for (int64_t c = 0; c < n_chunks; ++c) {
      const float* pc = base + c * (hd + 2);
      if (pc[hd + 1] > 0) o += pc[d] * expf(pc[hd] - M);
    }
    out[(t * n_heads + head) * hd + d] = L > 0 ? o / L : 0.0f;
  }
}

int64_t chunks_for(int64_t max_positions) {
  return max_positions < 1 ? 1 : (max_positions + kAttentionChunk - 1) / kAttentionChunk;
}

}  // namespace

size_t attention_scratch_bytes(const AttentionShapeD& shape, int64_t n_tokens,
                               int64_t max_positions) {
  return static_cast<size_t>(n_tokens * shape.n_heads * chunks_for(max_positions) *
                             (shape.head_dim + 2)) * sizeof(float);
}

void attention(const float* q, int64_t n_tokens, const DevicePagedBatch& kv,
               const AttentionShapeD& shape, float* out, void* scratch, const Stream& stream) {
  if (n_tokens <= 0) return;
  if (shape.head_dim > kMaxHeadDim)
    raise_error("the CUDA attention kernel takes heads of at most " + str(kMaxHeadDim) +
                " dims, not " + str(shape.head_dim));
  if (shape.n_kv_heads <= 0 || shape.n_heads % shape.n_kv_heads != 0)
    raise_error("internal error: " + str(shape.n_heads) + " query heads cannot share " +
                str(shape.n_kv_heads) + " KV heads");
  const int64_t n_chunks = chunks_for(kv.max_positions);
  auto* partial = static_cast<float*>(scratch);
  const dim3 grid(static_cast<unsigned>(n_chunks), static_cast<unsigned>(shape.n_heads),
                  static_cast<unsigned>(n_tokens));
  attention_chunk_kernel<<<grid, kThreads, 0, raw(stream.handle())>>>(q, kv, shape, n_chunks,
                                                                       partial);
  check(cudaGetLastError(), "attention launch");
  const dim3 merge_grid(static_cast<unsigned>(shape.n_heads), static_cast<unsigned>(n_tokens));
  attention_merge_kernel<<<merge_grid, 64, 0, raw(stream.handle())>>>(partial, shape.n_heads,
                                                                      shape.head_dim, n_chunks, out);
  check(cudaGetLastError(), "attention merge launch");
}

}  // namespace hearth::cuda
