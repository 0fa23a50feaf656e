// Portable row-wise float ops and the generic kernel table.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backends/cpu/generic/generic_kernels.h"
#include "core/dtype.h"

namespace hearth::cpu::generic {

void rmsnorm_row(const float* x, const float* weight, float* y, int64_t dim, float eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
  for (int64_t i = 0; i < dim; ++i) y[i] = x[i] * scale * weight[i];
}

void silu_mul(const float* gate, const float* up, float* out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add(float* acc, const float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) acc[i] += x[i];
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max == -std::numeric_limits<float>::infinity()) {
    // Every entry is -inf (all masked): the limit of equal logits is uniform.
    for (int64_t i = 0; i < n; ++i) x[i] = 1.0f / static_cast<float>(n);
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}


uint64_t read_stream(const uint8_t* p, int64_t n, int64_t /*prefetch_ahead: portable code has none*/) {
  // Eight independent lanes keep the loads in flight.
  uint64_t a[8] = {};
  for (int64_t i = 0; i < n; i += 64)
    for (int k = 0; k < 8; ++k) {
      uint64_t v;
      std::memcpy(&v, p + i + 8 * k, 8);
      a[k] ^= v;
    }
  uint64_t s = 0;
  for (uint64_t v : a) s ^= v;
  return s;
}


float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}


void attn_scores(const float* q, int64_t group, int64_t dim, const float* k, int64_t stride,
                 int64_t n, float scale, float* scores, int64_t s_stride) {
  for (int64_t p = 0; p < n; ++p)
    for (int64_t g = 0; g < group; ++g)
      scores[g * s_stride + p] = scale * dot(q + g * dim, k + p * stride, dim);
}

void attn_values(const float* w, int64_t w_stride, int64_t group, int64_t dim, const float* v,
                 int64_t stride, int64_t n, float* out) {
  for (int64_t p = 0; p < n; ++p)
    for (int64_t g = 0; g < group; ++g) axpy(w[g * w_stride + p], v + p * stride, out + g * dim, dim);
}

// Half-float rows: each row widened once into a float row, then the float loops above.
namespace {
float* widening_row(int64_t dim) {
  thread_local std::vector<float> row;  // grown to the widest head, never per call
  if (row.size() < static_cast<size_t>(dim)) row.resize(static_cast<size_t>(dim));
  return row.data();
}
}  // namespace

void attn_scores_f16(const float* q, int64_t group, int64_t dim, const uint16_t* k,
                     int64_t stride, int64_t n, float scale, float* scores, int64_t s_stride) {
  float* row = widening_row(dim);
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t i = 0; i < dim; ++i) row[i] = fp16_to_fp32(k[p * stride + i]);
    for (int64_t g = 0; g < group; ++g) scores[g * s_stride + p] = scale * dot(q + g * dim, row, dim);
  }
}

void attn_values_f16(const float* w, int64_t w_stride, int64_t group, int64_t dim,
                     const uint16_t* v, int64_t stride, int64_t n, float* out) {
  float* row = widening_row(dim);
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t i = 0; i < dim; ++i) row[i] = fp16_to_fp32(v[p * stride + i]);
    for (int64_t g = 0; g < group; ++g) axpy(w[g * w_stride + p], row, out + g * dim, dim);
  }
}

void to_f16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

}  // namespace hearth::cpu::generic

namespace hearth::cpu {

constinit const KernelTable kGenericKernels = {
    Isa::Generic,
    "generic",
    {generic::gemv_f32, ActFormat::F32, "scalar f32"},
    {generic::gemv_f16, ActFormat::F32, "scalar f16->f32"},
    {generic::gemv_bf16, ActFormat::F32, "scalar bf16->f32"},
    {generic::gemv_q8_0, ActFormat::Q8_32, "scalar int8 dot"},
    {generic::gemv_q4_0, ActFormat::Q8_256, "scalar int8 dot"},
    {generic::gemv_q4_k, ActFormat::Q8_256, "scalar int8 dot"},
    {generic::gemv_q6_k, ActFormat::Q8_256, "scalar int8 dot"},
    generic::quantize_act_q8_32,
    generic::quantize_act_q8_256,
    generic::rmsnorm_row,
    generic::silu_mul,
    generic::add,
    generic::softmax,
    generic::read_stream,
    generic::dot,
    generic::axpy,
    generic::attn_scores,
    generic::attn_values,
    generic::attn_scores_f16,
    generic::attn_values_f16,
    generic::to_f16,
};

}  // namespace hearth::cpu
