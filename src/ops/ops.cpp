// Op front ends: argument checks, then the active CPU kernel table.
#include "ops/ops.h"

#include <cmath>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "core/error.h"
#include "ops/quant.h"

namespace hearth::ops {

void matmul(const TensorView& W, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  cpu::matmul(cpu::active_kernels(), W, x, n_tokens, y, pool);
}

void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens,
                         ThreadPool& pool) {
  cpu::matmul_shared_input(cpu::active_kernels(), outputs, x, n_tokens, pool);
}

uint64_t matmul_scratch_bytes(DType weight_type, int64_t cols, int64_t n_tokens) {
  return cpu::matmul_scratch_bytes(cpu::active_kernels(), weight_type, cols, n_tokens);
}

void get_rows(const TensorView& table, const int32_t* ids, int64_t n, float* out) {
  if (table.layout != RowLayout::Rows)
    fail("internal error: get_rows on {}, whose rows are interleaved for matmul", table.name);
  const int64_t rows = table.rows(), cols = table.cols();
  const uint64_t need = static_cast<uint64_t>(rows) * static_cast<uint64_t>(table.row_bytes());
  if (table.nbytes < need)
    fail("embedding table {} {} needs {} bytes but has {}", table.name, table.shape_string(), need,
         table.nbytes);
  for (int64_t t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= rows)
      fail("token id {} is outside the vocabulary of {} rows of {}", ids[t], rows, table.name);
    dequantize_row(table.dtype, table.row(ids[t]), out + t * cols, cols);
  }
}

void rmsnorm(const float* x, const float* weight, float* y, int64_t n_tokens, int64_t dim,
             float eps) {
  if (n_tokens < 0 || dim <= 0) fail("rmsnorm over {} rows of {} elements", n_tokens, dim);
  const auto& k = cpu::active_kernels();
  for (int64_t t = 0; t < n_tokens; ++t) k.rmsnorm_row(x + t * dim, weight, y + t * dim, dim, eps);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t count) {
  if (count > 0) cpu::active_kernels().silu_mul(gate, up, out, count);
}

void add_inplace(float* acc, const float* x, int64_t count) {
  if (count > 0) cpu::active_kernels().add(acc, x, count);
}

void softmax_inplace(float* x, int64_t n) {
  if (n > 0) cpu::active_kernels().softmax(x, n);
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
          const int32_t* positions, const float* inv_freq, RopeMode mode) {
  if (rot_dim < 0 || rot_dim % 2 != 0 || rot_dim > head_dim)
    fail("rope: rotary dims {} must be even and at most the head size {}", rot_dim, head_dim);
  const int64_t half = rot_dim / 2;
  // The angle is the float32 product position * inv_freq, as Hugging Face and llama.cpp form
  // it; cos/sin are computed once per token and pair, then applied to every head.
  thread_local std::vector<float> cs;
  cs.resize(static_cast<size_t>(2 * half));
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(positions[t]) * inv_freq[i];
      cs[2 * i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      cs[2 * i + 1] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      const int64_t stride = mode == RopeMode::Interleaved ? 1 : half;  // partner offset
      for (int64_t i = 0; i < half; ++i) {
        const int64_t a = mode == RopeMode::Interleaved ? 2 * i : i;
        const float c = cs[2 * i], s = cs[2 * i + 1];
        const float x0 = v[a], x1 = v[a + stride];
        v[a] = x0 * c - x1 * s;
        v[a + stride] = x0 * s + x1 * c;
      }
    }
  }
}

std::string kernel_report() { return cpu::kernel_report(cpu::active_kernels()); }

}  // namespace hearth::ops
