// The matmul driver: validates the weights, prepares the activations once per call, and
// splits the output rows statically over the thread pool. Each thread walks its rows in
// blocks and serves up to kTokenTile tokens per pass over a weight row, so for batch 1 every
// weight byte is streamed exactly once and for batches the weights are read
// n_tokens / kTokenTile times from cache rather than n_tokens times. (A cache-blocked GEMM
// for long prompts plugs in here later, as another tile function per table.)
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#include "backends/cpu/dispatch.h"
#include "core/error.h"

namespace hearth::cpu {
namespace {

// Rows per block when several tokens share a pass: 16 rows of even an F32 4096-wide matrix
// (256 KiB) stay in L2 while every token group streams over them.
constexpr int64_t kRowBlock = 16;
// Below this many multiply-adds a call runs on the calling thread: waking the pool costs
// more than the work (tiny models, per-head projections).
constexpr int64_t kMinParallelWork = 1 << 16;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Grows once to the largest size asked for and is then reused, so steady-state calls do not
// allocate. One per calling thread (the pool's workers only write into the caller's).
class Scratch {
 public:
  uint8_t* get(size_t bytes) {
    if (bytes > size_) {
      data_.reset(static_cast<uint8_t*>(::operator new (bytes, std::align_val_t{kActAlign})));
      size_ = bytes;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete (p, std::align_val_t{kActAlign}); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

void validate(const TensorView& W, const float* x, int64_t n_tokens, const float* y) {
  if (n_tokens < 0) fail("matmul with {}: negative token count {}", W.name, n_tokens);
  const int64_t block = dtype_info(W.dtype).block_size;
  if (W.cols() % block != 0)
    fail("matmul weight {} {} has rows of {} elements, not a multiple of the {} block size {}",
         W.name, W.shape_string(), W.cols(), dtype_name(W.dtype), block);
  const uint64_t need = static_cast<uint64_t>(W.rows()) * static_cast<uint64_t>(W.row_bytes());
  if (W.nbytes < need)
    fail(
        "matmul weight {} {} {} needs {} bytes but has {}; the model file is truncated or "
        "its shape is wrong",
        W.name, W.shape_string(), dtype_name(W.dtype), need, W.nbytes);
  if (need > 0 && W.data == nullptr) fail("matmul weight {} has no data", W.name);
  if (dtype_info(W.dtype).quantized && reinterpret_cast<uintptr_t>(W.data) % 2 != 0)
    fail("matmul weight {}: {} blocks must be 2-byte aligned in memory", W.name,
         dtype_name(W.dtype));
  const bool work = n_tokens > 0 && W.rows() > 0;
  if (work && (y == nullptr || (W.cols() > 0 && x == nullptr)))
    fail("matmul with {}: null input or output buffer", W.name);
}

}  // namespace

ActLayout act_layout(ActFormat format, int64_t cols) {
  ActLayout l;
  switch (format) {
    case ActFormat::F32:
      l.row_bytes = cols * static_cast<int64_t>(sizeof(float));
      return l;
    case ActFormat::Q8_32:
      l.d_offset = cols;
      l.sums_offset = l.d_offset + cols / 32 * 4;
      l.row_bytes = round_up(l.sums_offset, kActAlign);
      return l;
    case ActFormat::Q8_256:
      l.d_offset = cols;
      l.sums_offset = l.d_offset + cols / 256 * 4;
      l.row_bytes = round_up(l.sums_offset + cols / 16 * 2, kActAlign);
      return l;
  }
  return l;
}

void matmul(const KernelTable& table, const TensorView& W, const float* x, int64_t n_tokens,
            float* y, ThreadPool& pool) {
  validate(W, x, n_tokens, y);
  const MatmulKernel& kernel = matmul_kernel(table, W.dtype);
  const int64_t rows = W.rows(), cols = W.cols();
  if (n_tokens == 0 || rows == 0) return;
  if (cols == 0) {
    std::fill(y, y + n_tokens * rows, 0.0f);
    return;
  }
  const int64_t work = rows * cols * n_tokens;

  // Activations: as given for float weights, else quantized once for all rows.
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  int64_t act_stride = cols * static_cast<int64_t>(sizeof(float));
  if (kernel.act != ActFormat::F32) {
    thread_local Scratch scratch;
    act_stride = act_layout(kernel.act, cols).row_bytes;
    uint8_t* buf = scratch.get(static_cast<size_t>(act_stride * n_tokens));
    const QuantizeActFn quantize =
        kernel.act == ActFormat::Q8_32 ? table.quantize_q8_32 : table.quantize_q8_256;
    auto quantize_tokens = [&](int64_t t0, int64_t t1, int) {
      for (int64_t t = t0; t < t1; ++t) quantize(x + t * cols, cols, buf + t * act_stride);
    };
    if (n_tokens > 1 && n_tokens * cols >= kMinParallelWork)
      pool.parallel_for(n_tokens, quantize_tokens);
    else
      quantize_tokens(0, n_tokens, 0);
    act = buf;
  }

  const int64_t row_bytes = W.row_bytes();
  const auto* w = static_cast<const uint8_t*>(W.data);
  auto run_rows = [&](int64_t r0, int64_t r1, int) {
    // Batch 1: one tile over the whole chunk, a single streaming pass.
    const int64_t row_block = n_tokens == 1 ? r1 - r0 : kRowBlock;
    for (int64_t rb = r0; rb < r1; rb += row_block) {
      const int64_t nr = std::min(row_block, r1 - rb);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
        GemvTile tile;
        tile.w = w + rb * row_bytes;
        tile.w_row_bytes = row_bytes;
        tile.n_rows = nr;
        tile.cols = cols;
        tile.act = act + t0 * act_stride;
        tile.act_stride = act_stride;
        tile.n_tokens = static_cast<int>(std::min<int64_t>(kTokenTile, n_tokens - t0));
        tile.y = y + t0 * rows + rb;
        tile.y_stride = rows;
        kernel.tile(tile);
      }
    }
  };
  if (work < kMinParallelWork || pool.size() == 1)
    run_rows(0, rows, 0);
  else
    pool.parallel_for(rows, run_rows, n_tokens == 1 ? 8 : kRowBlock);
}

}  // namespace hearth::cpu
