// Turns CUDA runtime and cuBLAS status codes into hearth::Error (one line: what failed, the
// runtime's words). Only for files of this folder, which see the CUDA headers. Free of fmt:
// nvcc's host pass cannot compile fmt's C++20 consteval format checks, so the .cu files build
// their messages from strings and raise them through cuda_error.cpp.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace hearth::cuda {

[[noreturn]] void raise_error(const std::string& message);  // throws hearth::Error
void check(cudaError_t e, const char* what);
void check(cublasStatus_t s, const char* what);

inline std::string str(int64_t v) { return std::to_string(v); }

inline cudaStream_t raw(const void* stream) {
  return static_cast<cudaStream_t>(const_cast<void*>(stream));
}
// Blocks of `threads` covering `n` items.
inline unsigned grid_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace hearth::cuda
