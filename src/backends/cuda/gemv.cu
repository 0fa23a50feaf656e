// Dequantizing GEMV for one token (and small batches up to kGemvMaxTokens): one warp per output
// row, each lane decodes 32-element units of the row into registers and multiplies them with
// every token's activations; a warp shuffle sums the lanes. Decode is bandwidth-bound, and the
// weights are read exactly once per call whatever the batch, which is what the roofline counts.
#include <cuda_runtime.h>

#include "backends/cuda/cuda_api.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/decode.cuh"

namespace hearth::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <class Q>
__global__ void gemv_kernel(const uint8_t* __restrict__ W, int64_t rows, int64_t cols,
                            int64_t row_bytes, const float* __restrict__ x, int n_tokens,
                            float* __restrict__ y) {
  const int lane = threadIdx.x % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;
  const uint8_t* w = W + row * row_bytes;
  const int64_t n_units = (cols + kUnit - 1) / kUnit;
  const bool vec4 = (cols & 3) == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0;
  float acc[kGemvMaxTokens] = {};
  float vals[kUnit];
  for (int64_t u = lane; u < n_units; u += 32) {
    const int valid = static_cast<int>(cols - u * kUnit < kUnit ? cols - u * kUnit : kUnit);
    Q::decode(w, u, vals, valid);
#pragma unroll
    for (int t = 0; t < kGemvMaxTokens; ++t) {
      if (t >= n_tokens) break;
      const float* xt = x + t * cols + u * kUnit;
      float s = 0;
      if (valid == kUnit && vec4) {
        // A whole unit of a row whose width is a multiple of 4 (every quantized row): its 32
        // activations start 16-byte aligned (x comes from cudaMalloc), so float4 loads.
        const float4* x4 = reinterpret_cast<const float4*>(xt);
#pragma unroll
        for (int j = 0; j < kUnit / 4; ++j) {
          const float4 v = x4[j];
          s += vals[4 * j] * v.x + vals[4 * j + 1] * v.y + vals[4 * j + 2] * v.z + vals[4 * j + 3] * v.w;
        }
      } else {
        for (int j = 0; j < valid; ++j) s += vals[j] * xt[j];
      }
      acc[t] += s;
    }
  }
#pragma unroll
  for (int t = 0; t < kGemvMaxTokens; ++t) {
    if (t >= n_tokens) break;
    const float s = warp_sum(acc[t]);
    if (lane == 0) y[t * rows + row] = s;
  }
}

template <class Q>
void launch_gemv(const DeviceMatrix& W, const float* x, int64_t n_tokens, float* y,
                 const Stream& stream) {
  const int64_t row_bytes = dtype_row_bytes(W.type, W.cols);
  const unsigned blocks = grid_for(W.rows, kWarpsPerBlock);
  gemv_kernel<Q><<<blocks, 32 * kWarpsPerBlock, 0, raw(stream.handle())>>>(
      static_cast<const uint8_t*>(W.data), W.rows, W.cols, row_bytes, x,
      static_cast<int>(n_tokens), y);
  check(cudaGetLastError(), "gemv launch");
}

}  // namespace

void gemv(const DeviceMatrix& W, const float* x, int64_t n_tokens, float* y, const Stream& stream) {
  if (n_tokens < 1 || n_tokens > kGemvMaxTokens)
    raise_error("internal error: the CUDA GEMV takes 1.." + str(kGemvMaxTokens) + " tokens, not " + str(n_tokens));
  switch (W.type) {
    case DType::F32: return launch_gemv<DecodeF32>(W, x, n_tokens, y, stream);
    case DType::F16: return launch_gemv<DecodeF16>(W, x, n_tokens, y, stream);
    case DType::BF16: return launch_gemv<DecodeBF16>(W, x, n_tokens, y, stream);
    case DType::Q8_0: return launch_gemv<DecodeQ8_0>(W, x, n_tokens, y, stream);
    case DType::Q4_0: return launch_gemv<DecodeQ4_0>(W, x, n_tokens, y, stream);
    case DType::Q4_K: return launch_gemv<DecodeQ4_K>(W, x, n_tokens, y, stream);
    case DType::Q6_K: return launch_gemv<DecodeQ6_K>(W, x, n_tokens, y, stream);
    default: raise_error(std::string("the CUDA backend has no matmul for ") + dtype_name(W.type) + " weights");
  }
}

}  // namespace hearth::cuda
