// Matmul for prompts and batches (more than kGemvMaxTokens tokens): cuBLAS GEMM with F32
// accumulation. F16 and BF16 weights go to cuBLAS as they are, with the activations converted
// to the same type; quantized weights are first dequantized to F16 in a scratch buffer (one
// pass over the weights, amortized over the batch); F32 weights use SGEMM.
// get_rows (the embedding lookup) shares the decoders.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backends/cuda/cuda_api.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/decode.cuh"

namespace hearth::cuda {
namespace {

template <class Out> __device__ Out from_float(float v);
template <> __device__ float from_float<float>(float v) { return v; }
template <> __device__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// out[r][:] = row ids[r] (or row r when ids is null) of W, decoded. One thread per unit.
template <class Q, class Out>
__global__ void decode_rows_kernel(const uint8_t* __restrict__ W, int64_t row_bytes, int64_t cols,
                                   const int32_t* __restrict__ ids, int64_t n_rows,
                                   Out* __restrict__ out) {
  const int64_t n_units = (cols + kUnit - 1) / kUnit;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * n_units) return;
  const int64_t r = i / n_units, u = i % n_units;
  const int64_t src_row = ids ? ids[r] : r;
  const int valid = static_cast<int>(cols - u * kUnit < kUnit ? cols - u * kUnit : kUnit);
  float vals[kUnit];
  Q::decode(W + src_row * row_bytes, u, vals, valid);
  Out* o = out + r * cols + u * kUnit;
  for (int j = 0; j < valid; ++j) o[j] = from_float<Out>(vals[j]);
}

template <class Q, class Out>
void decode_rows(const DeviceMatrix& W, const int32_t* ids, int64_t n_rows, Out* out,
                 const Stream& stream) {
  const int64_t units = n_rows * ((W.cols + kUnit - 1) / kUnit);
  constexpr int kThreads = 128;
  decode_rows_kernel<Q, Out><<<grid_for(units, kThreads), kThreads, 0, raw(stream.handle())>>>(
      static_cast<const uint8_t*>(W.data), dtype_row_bytes(W.type, W.cols), W.cols, ids, n_rows,
      out);
  check(cudaGetLastError(), "decode_rows launch");
}

template <class Out>
__global__ void convert_kernel(const float* __restrict__ x, int64_t n, Out* __restrict__ out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = from_float<Out>(x[i]);
}

template <class Out>
void convert(const float* x, int64_t n, Out* out, const Stream& stream) {
  convert_kernel<Out><<<grid_for(n, 256), 256, 0, raw(stream.handle())>>>(x, n, out);
  check(cudaGetLastError(), "convert launch");
}

// cuBLAS is column-major: row-major W (rows x cols) is a cols x rows matrix A with lda = cols,
// row-major x (n x cols) is cols x n, and row-major y (n x rows) is rows x n. So y = A^T x.
void gemm_ex(const Stream& stream, const void* w, cudaDataType wt, const void* x, cudaDataType xt,
             int64_t rows, int64_t cols, int64_t n, float* y) {
  const float alpha = 1.0f, beta = 0.0f;
  check(cublasGemmEx(static_cast<cublasHandle_t>(stream.blas()), CUBLAS_OP_T, CUBLAS_OP_N,
                     static_cast<int>(rows), static_cast<int>(n), static_cast<int>(cols), &alpha,
                     w, wt, static_cast<int>(cols), x, xt, static_cast<int>(cols), &beta, y,
                     CUDA_R_32F, static_cast<int>(rows), CUBLAS_COMPUTE_32F,
                     CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

template <class Q>
void decode_row_host(const void* row, int64_t cols, float* out) {
  for (int64_t u = 0; u * kUnit < cols; ++u) {
    const int valid = static_cast<int>(cols - u * kUnit < kUnit ? cols - u * kUnit : kUnit);
    float vals[kUnit];
    Q::decode(static_cast<const uint8_t*>(row), u, vals, valid);
    for (int j = 0; j < valid; ++j) out[u * kUnit + j] = vals[j];
  }
}

}  // namespace

void decode_row_on_host(DType t, const void* row, int64_t cols, float* out) {
  switch (t) {
    case DType::F32: return decode_row_host<DecodeF32>(row, cols, out);
    case DType::F16: return decode_row_host<DecodeF16>(row, cols, out);
    case DType::BF16: return decode_row_host<DecodeBF16>(row, cols, out);
    case DType::Q8_0: return decode_row_host<DecodeQ8_0>(row, cols, out);
    case DType::Q4_0: return decode_row_host<DecodeQ4_0>(row, cols, out);
    case DType::Q4_K: return decode_row_host<DecodeQ4_K>(row, cols, out);
    case DType::Q6_K: return decode_row_host<DecodeQ6_K>(row, cols, out);
    default: raise_error(std::string("the CUDA backend cannot decode ") + dtype_name(t));
  }
}

void get_rows(const DeviceMatrix& table, const int32_t* ids, int64_t n, float* out,
              const Stream& stream) {
  switch (table.type) {
    case DType::F32: return decode_rows<DecodeF32, float>(table, ids, n, out, stream);
    case DType::F16: return decode_rows<DecodeF16, float>(table, ids, n, out, stream);
    case DType::BF16: return decode_rows<DecodeBF16, float>(table, ids, n, out, stream);
    case DType::Q8_0: return decode_rows<DecodeQ8_0, float>(table, ids, n, out, stream);
    case DType::Q4_0: return decode_rows<DecodeQ4_0, float>(table, ids, n, out, stream);
    case DType::Q4_K: return decode_rows<DecodeQ4_K, float>(table, ids, n, out, stream);
    case DType::Q6_K: return decode_rows<DecodeQ6_K, float>(table, ids, n, out, stream);
    default: raise_error(std::string("the CUDA backend cannot read rows of ") + dtype_name(table.type) + " tensors");
  }
}

void matmul(const DeviceMatrix& W, const float* x, int64_t n_tokens, float* y, MatmulScratch& s,
            const Stream& stream) {
  if (n_tokens <= 0) return;
  if (n_tokens <= kGemvMaxTokens) return gemv(W, x, n_tokens, y, stream);
  const int64_t n_x = n_tokens * W.cols;
  switch (W.type) {
    case DType::F32: {
      const float alpha = 1.0f, beta = 0.0f;
      check(cublasSgemm(static_cast<cublasHandle_t>(stream.blas()), CUBLAS_OP_T, CUBLAS_OP_N,
                        static_cast<int>(W.rows), static_cast<int>(n_tokens),
                        static_cast<int>(W.cols), &alpha, static_cast<const float*>(W.data),
                        static_cast<int>(W.cols), x, static_cast<int>(W.cols), &beta, y,
                        static_cast<int>(W.rows)),
            "cublasSgemm");
      return;
    }
    case DType::BF16:
      s.activations.ensure(static_cast<size_t>(n_x) * 2);
      convert(x, n_x, s.activations.as<__nv_bfloat16>(), stream);
      return gemm_ex(stream, W.data, CUDA_R_16BF, s.activations.get(), CUDA_R_16BF, W.rows,
                     W.cols, n_tokens, y);
    case DType::F16:
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_K:
    case DType::Q6_K: {
      const void* w = W.data;
      if (W.type != DType::F16) {
        s.weights.ensure(static_cast<size_t>(W.rows * W.cols) * 2);
        auto* h = s.weights.as<__half>();
        if (W.type == DType::Q8_0) decode_rows<DecodeQ8_0, __half>(W, nullptr, W.rows, h, stream);
        if (W.type == DType::Q4_0) decode_rows<DecodeQ4_0, __half>(W, nullptr, W.rows, h, stream);
        if (W.type == DType::Q4_K) decode_rows<DecodeQ4_K, __half>(W, nullptr, W.rows, h, stream);
        if (W.type == DType::Q6_K) decode_rows<DecodeQ6_K, __half>(W, nullptr, W.rows, h, stream);
        w = h;
      }
      s.activations.ensure(static_cast<size_t>(n_x) * 2);
      convert(x, n_x, s.activations.as<__half>(), stream);
      return gemm_ex(stream, w, CUDA_R_16F, s.activations.get(), CUDA_R_16F, W.rows, W.cols,
                     n_tokens, y);
    }
    default: raise_error(std::string("the CUDA backend has no matmul for ") + dtype_name(W.type) + " weights");
  }
}

}  // namespace hearth::cuda
