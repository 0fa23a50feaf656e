// The CUDA backend's host interface: device discovery, device memory, streams, and the kernel
// launchers. Plain C++ (no CUDA headers), so the model code in hearth_lib and the tests can use
// it; the kernels themselves are in the .cu files of this folder. Every function throws
// hearth::Error with the CUDA error's text when the runtime reports one. Free of fmt and of
// the ops headers, so the .cu files can include it (see cuda_check.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace hearth::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;  // compute capability
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
};

// The CUDA devices this process can use. Never throws: with no driver (libcuda missing) or no
// GPU the list is empty and `why` (when given) says what the runtime reported.
std::vector<DeviceInfo> list_devices(std::string* why = nullptr);

// Device memory owned by one object; freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Grows (never shrinks) to at least `bytes`; the contents are not kept.
  void ensure(size_t bytes);
  void* get() const { return ptr_; }
  template <class T> T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// One CUDA stream with its cuBLAS handle; every launch of a backend goes through one.
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void* handle() const { return stream_; }  // cudaStream_t
  void* blas() const { return blas_; }      // cublasHandle_t
  void synchronize() const;
  void upload(void* dst, const void* src, size_t bytes) const;    // async host -> device
  void download(void* dst, const void* src, size_t bytes) const;  // async device -> host

 private:
  void* stream_ = nullptr;
  void* blas_ = nullptr;
};

// A weight matrix on the device: rows x cols of `type` in the GGML layout, row after row.
struct DeviceMatrix {
  DType type = DType::F32;
  int64_t rows = 0, cols = 0;
  const void* data = nullptr;  // device pointer
};

// Scratch the matmul keeps between calls (the F16 copies for cuBLAS); grown, never shrunk.
struct MatmulScratch {
  DeviceBuffer weights, activations;
};

// Token counts up to this use the dequantizing GEMV kernel; more go through cuBLAS.
inline constexpr int64_t kGemvMaxTokens = 8;

// The device decoders of the weight formats, compiled for the host: one row of `cols` elements
// to float. Runs without a GPU, so the tests check the block layouts everywhere.
void decode_row_on_host(DType t, const void* row, int64_t cols, float* out);

// y[t][o] = sum_i x[t][i] * W[o][i] (x: n_tokens x cols, y: n_tokens x rows; device floats).
void matmul(const DeviceMatrix& W, const float* x, int64_t n_tokens, float* y, MatmulScratch& s,
            const Stream& stream);
// The GEMV kernel alone, for any n_tokens <= kGemvMaxTokens (tests call both paths).
void gemv(const DeviceMatrix& W, const float* x, int64_t n_tokens, float* y, const Stream& stream);
// out[t] = row ids[t] of table decoded to float; ids is a device array.
void get_rows(const DeviceMatrix& table, const int32_t* ids, int64_t n, float* out,
              const Stream& stream);
void rmsnorm(const float* x, const float* weight, float* y, int64_t n_tokens, int64_t dim,
             float eps, const Stream& stream);
void silu_mul(const float* gate, const float* up, float* out, int64_t count, const Stream& stream);
void add_inplace(float* acc, const float* x, int64_t count, const Stream& stream);
// positions: device array of n_tokens; inv_freq: device array of rot_dim / 2. neox: rotate
// pairs (i, i + rot_dim / 2) (ops::RopeMode::Neox), else pairs (2i, 2i + 1).
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
          const int32_t* positions, const float* inv_freq, bool neox, const Stream& stream);
// Copies row t of src (width floats) to dst + row_offsets[t] * width (device arrays).
void scatter_rows(const float* src, const int64_t* row_offsets, int64_t n_rows, int64_t width,
                  float* dst, const Stream& stream);

// Attention over a paged cache on the device. For token t: keys/values of position p are at
// row (block_table[table_start[t] + p / block_size] * block_size + p % block_size) of `keys`
// and `values` (kv_dim floats each); it attends to [first, positions[t]] (the sliding window
// decides first). All arrays are device arrays.
struct DevicePagedBatch {
  const float* keys = nullptr;
  const float* values = nullptr;
  const int32_t* block_table = nullptr;  // the tables of the batch's tokens, concatenated
  const int32_t* table_start = nullptr;  // per token: where its sequence's table starts
  const int32_t* positions = nullptr;    // per token
  int64_t block_size = 0;
  int64_t kv_dim = 0;
  int64_t max_positions = 0;  // no token attends beyond this many positions (sizes the grid)
};
struct AttentionShapeD {
  int64_t n_heads, n_kv_heads, head_dim;
  float scale;
  int64_t sliding_window;
};
// Flash-decoding: each (token, head) is split into chunks of kAttentionChunk positions that run
// in parallel, then merged with their max and sum. Scratch bytes: attention_scratch_bytes.
inline constexpr int64_t kAttentionChunk = 256;
size_t attention_scratch_bytes(const AttentionShapeD& shape, int64_t n_tokens,
                               int64_t max_positions);
void attention(const float* q, int64_t n_tokens, const DevicePagedBatch& kv,
               const AttentionShapeD& shape, float* out, void* scratch, const Stream& stream);

// Device-to-device copy bandwidth in GB/s (bytes read + bytes written per second), measured
// with `bytes`-sized buffers over `repeats` copies: the roofline for the decode step.
double measure_copy_bandwidth(size_t bytes, int repeats);

}  // namespace hearth::cuda
