#include "backends/cuda/cuda_check.h"
#include "core/error.h"

namespace hearth::cuda {

void raise_error(const std::string& message) { throw Error(message); }

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    fail("CUDA: {} failed: {} ({})", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) fail("cuBLAS: {} failed: {}", what, cublasGetStatusString(s));
}

}  // namespace hearth::cuda
