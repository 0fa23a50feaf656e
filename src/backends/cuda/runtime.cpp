// Devices, memory and streams of the CUDA backend. libcudart loads libcuda (the driver) lazily:
// on a machine without a driver or GPU the first call returns an error code instead of
// failing, so hearth starts everywhere and reports "no CUDA devices" with the runtime's reason.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <utility>

#include "backends/cuda/cuda_api.h"
#include "backends/cuda/cuda_check.h"
#include "core/error.h"

namespace hearth::cuda {

std::vector<DeviceInfo> list_devices(std::string* why) {
  std::vector<DeviceInfo> out;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    if (why) {
      // Without libcuda the runtime says "driver version is insufficient"; say what it means.
      if (e == cudaErrorInsufficientDriver)
        *why = std::string("no NVIDIA driver is loaded, or it is older than this CUDA runtime: ") +
               cudaGetErrorString(e);
      else if (e == cudaErrorNoDevice)
        *why = "no CUDA-capable GPU is present";
      else
        *why = cudaGetErrorString(e);
    }
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return out;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.index = i;
    d.name = prop.name;
    d.cc_major = prop.major;
    d.cc_minor = prop.minor;
    d.total_bytes = prop.totalGlobalMem;
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
      d.free_bytes = free_b;
    out.push_back(std::move(d));
  }
  if (out.empty() && why) *why = "the CUDA runtime found no devices";
  return out;
}

DeviceBuffer::DeviceBuffer(size_t bytes) { ensure(bytes); }

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

void DeviceBuffer::ensure(size_t bytes) {
  if (bytes <= bytes_) return;
  if (ptr_) check(cudaFree(ptr_), "cudaFree");
  ptr_ = nullptr;
  bytes_ = 0;
  const cudaError_t e = cudaMalloc(&ptr_, bytes);
  if (e != cudaSuccess) {
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    fail("CUDA: cannot allocate {} MiB on the GPU ({} MiB free of {} MiB): {}; use fewer "
         "--gpu-layers or a shorter context", bytes >> 20, free_b >> 20, total_b >> 20,
         cudaGetErrorString(e));
  }
  bytes_ = bytes;
}

Stream::Stream() {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  stream_ = s;
  cublasHandle_t h = nullptr;
  check(cublasCreate(&h), "cublasCreate");
  blas_ = h;
  check(cublasSetStream(h, s), "cublasSetStream");
}

Stream::~Stream() {
  if (blas_) cublasDestroy(static_cast<cublasHandle_t>(blas_));
  if (stream_) cudaStreamDestroy(raw(stream_));
}

void Stream::synchronize() const { check(cudaStreamSynchronize(raw(stream_)), "cudaStreamSynchronize"); }

void Stream::upload(void* dst, const void* src, size_t bytes) const {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, raw(stream_)), "upload");
}

void Stream::download(void* dst, const void* src, size_t bytes) const {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, raw(stream_)), "download");
}

double measure_copy_bandwidth(size_t bytes, int repeats) {
  DeviceBuffer a(bytes), b(bytes);
  Stream s;
  check(cudaMemsetAsync(a.get(), 1, bytes, raw(s.handle())), "cudaMemset");
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  // One copy first: the clocks ramp up and the pages are touched.
  check(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, raw(s.handle())), "copy");
  check(cudaEventRecord(start, raw(s.handle())), "cudaEventRecord");
  for (int r = 0; r < repeats; ++r)
    check(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, raw(s.handle())), "copy");
  check(cudaEventRecord(stop, raw(s.handle())), "cudaEventRecord");
  check(cudaEventSynchronize(stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  // A copy reads and writes every byte.
  return ms > 0 ? 2.0 * static_cast<double>(bytes) * repeats / (ms * 1e-3) / 1e9 : 0;
}

}  // namespace hearth::cuda
