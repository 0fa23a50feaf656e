// Reference ops: the definitions written out as directly as possible, in double precision.
// Slow on purpose; the tests hold every optimized kernel against these.
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "ops/ops.h"
#include "backends/cpu/packed.h"
#include "ops/quant.h"

namespace hearth::ops::ref {

void matmul(const TensorView& W, const float* x, int64_t n_tokens, float* y) {
  const int64_t rows = W.rows(), cols = W.cols();
  std::vector<float> w(static_cast<size_t>(cols));
  std::vector<uint8_t> row_bytes(static_cast<size_t>(W.row_bytes()));
  for (int64_t o = 0; o < rows; ++o) {
    const uint8_t* row = W.row(o);
    if (W.layout == RowLayout::Interleaved16) {  // back to the file's layout first
      cpu::unpack_rows16(W.dtype, static_cast<const uint8_t*>(W.data), cols, o, 1, row_bytes.data());
      row = row_bytes.data();
    }
    dequantize_row(W.dtype, row, w.data(), cols);
    for (int64_t t = 0; t < n_tokens; ++t) {
      double s = 0.0;
      for (int64_t i = 0; i < cols; ++i) s += static_cast<double>(w[i]) * x[t * cols + i];
      y[t * rows + o] = static_cast<float>(s);
    }
  }
}

void get_rows(const TensorView& table, const int32_t* ids, int64_t n, float* out) {
  if (table.layout != RowLayout::Rows)
    fail("internal error: get_rows on {}, whose rows are interleaved for matmul", table.name);
  for (int64_t t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= table.rows())
      fail("token id {} is outside the vocabulary of {} rows", ids[t], table.rows());
    dequantize_row(table.dtype, table.row(ids[t]), out + t * table.cols(), table.cols());
  }
}

void rmsnorm(const float* x, const float* weight, float* y, int64_t n_tokens, int64_t dim,
             float eps) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xr = x + t * dim;
    double ss = 0.0;
    for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i)
      y[t * dim + i] = static_cast<float>(xr[i] * scale * weight[i]);
  }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void add_inplace(float* acc, const float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) acc[i] += x[i];
}

void softmax_inplace(float* x, int64_t n) {
  if (n <= 0) return;
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  if (std::isinf(max) && max < 0) {
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(1.0 / static_cast<double>(n));
    return;
  }
  std::vector<double> e(static_cast<size_t>(n));
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += e[i] = std::exp(x[i] - max);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(e[i] / sum);
}

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
          const int32_t* positions, const float* inv_freq, RopeMode mode) {
  const int64_t half = rot_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        // Pair i is (2i, 2i+1) interleaved or (i, i + half) for NeoX/rotate-half.
        const int64_t a = mode == RopeMode::Interleaved ? 2 * i : i;
        const int64_t b = mode == RopeMode::Interleaved ? 2 * i + 1 : i + half;
        // The angle is defined as the float32 product, as the model frameworks form it.
        const double angle = static_cast<float>(positions[t]) * inv_freq[i];
        const double c = std::cos(angle), s = std::sin(angle);
        const double x0 = v[a], x1 = v[b];
        v[a] = static_cast<float>(x0 * c - x1 * s);
        v[b] = static_cast<float>(x0 * s + x1 * c);
      }
    }
  }
}

}  // namespace hearth::ops::ref
