// Portable kernels (plain C++, no ISA flags): the fallback on any CPU, and the building
// blocks the SIMD tables reuse for ops they do not specialise.
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"

namespace hearth::cpu::generic {

void quantize_act_q8_32(const float* x, int64_t cols, uint8_t* dst);
void quantize_act_q8_256(const float* x, int64_t cols, uint8_t* dst);

void gemv_f32(const GemvTile& tile);
void gemv_f16(const GemvTile& tile);
void gemv_bf16(const GemvTile& tile);
void gemv_q8_0(const GemvTile& tile);
void gemv_q4_0(const GemvTile& tile);
void gemv_q4_k(const GemvTile& tile);
void gemv_q6_k(const GemvTile& tile);

void rmsnorm_row(const float* x, const float* weight, float* y, int64_t dim, float eps);
void silu_mul(const float* gate, const float* up, float* out, int64_t count);
void add(float* acc, const float* x, int64_t count);
void softmax(float* x, int64_t n);
uint64_t read_stream(const uint8_t* p, int64_t n, int64_t prefetch_ahead);
float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);
void attn_scores(const float* q, int64_t group, int64_t dim, const float* k, int64_t stride,
                 int64_t n, float scale, float* scores, int64_t s_stride);
void attn_values(const float* w, int64_t w_stride, int64_t group, int64_t dim, const float* v,
                 int64_t stride, int64_t n, float* out);
void attn_scores_f16(const float* q, int64_t group, int64_t dim, const uint16_t* k,
                     int64_t stride, int64_t n, float scale, float* scores, int64_t s_stride);
void attn_values_f16(const float* w, int64_t w_stride, int64_t group, int64_t dim,
                     const uint16_t* v, int64_t stride, int64_t n, float* out);
void to_f16(const float* x, uint16_t* y, int64_t n);

}  // namespace hearth::cpu::generic
