// AVX-512 kernels (x86_avx512/*.cpp, compiled with F/BW/VL/DQ/VNNI flags). Call only through
// kAvx512Kernels or kAmxKernels, after dispatch has checked the CPU for AVX-512 F, BW, VL, DQ
// and VNNI.
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"

namespace hearth::cpu::avx512 {

void quantize_act_q8_32(const float* x, int64_t cols, uint8_t* dst);
void quantize_act_q8_256(const float* x, int64_t cols, uint8_t* dst);

void gemv_f32(const GemvTile& tile);
void gemv_f16(const GemvTile& tile);
void gemv_bf16(const GemvTile& tile);
void gemv_q8_0(const GemvTile& tile);
void gemv_q4_0(const GemvTile& tile);
void gemv_q4_k(const GemvTile& tile);
void gemv_q6_k(const GemvTile& tile);
void packed_q8_0(const PackedTile& tile);
void packed_q4_0(const PackedTile& tile);
void packed_q4_k(const PackedTile& tile);
void packed_f16(const PackedTile& tile);
void packed_bf16(const PackedTile& tile);

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

// The AVX-512 table (kAvx512Kernels), also the base of the AMX level's table.
constexpr KernelTable table() {
  return {
    Isa::Avx512,
    "avx512",
    {avx512::gemv_f32, ActFormat::F32, "fma"},
    {avx512::gemv_f16, ActFormat::F32, "f16c + fma, 16-row interleaved", avx512::packed_f16},
    {avx512::gemv_bf16, ActFormat::F32, "shift-convert + fma, 16-row interleaved",
     avx512::packed_bf16},
    {avx512::gemv_q8_0, ActFormat::Q8_32, "int8 dot (vpdpbusd), 16-row interleaved",
     avx512::packed_q8_0},
    {avx512::gemv_q4_0, ActFormat::Q8_256, "int8 dot (vpdpbusd), 16-row interleaved",
     avx512::packed_q4_0},
    {avx512::gemv_q4_k, ActFormat::Q8_256, "int8 dot (vpdpbusd), 16-row interleaved",
     avx512::packed_q4_k},
    {avx512::gemv_q6_k, ActFormat::Q8_256, "int8 dot (maddubs + vpdpwssd)"},
    avx512::quantize_act_q8_32,
    avx512::quantize_act_q8_256,
    avx512::rmsnorm_row,
    avx512::silu_mul,
    avx512::add,
    avx512::softmax,
    avx512::read_stream,
    avx512::dot,
    avx512::axpy,
    avx512::attn_scores,
    avx512::attn_values,
    avx512::attn_scores_f16,
    avx512::attn_values_f16,
    avx512::to_f16,
  };
}

}  // namespace hearth::cpu::avx512
