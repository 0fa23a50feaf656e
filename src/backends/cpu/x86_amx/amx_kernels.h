// AMX kernels (x86_amx/*.cpp, compiled with the AVX-512 flags plus AMX-TILE, AMX-INT8, AMX-BF16
// and AVX512-BF16). Call only through kAmxKernels, after dispatch has checked the CPU for
// them and the OS has granted this process the tile state (arch_prctl).
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"

namespace hearth::cpu::amx {

// Batches x interleaved weights on the tile units (kernels.h: PackedGemm).
// int8 tiles, folded block by block exactly as the single-token kernels (small batches):
void gemm_q8_0_int8(const PackedGemm& p);
void gemm_q4_0_int8(const PackedGemm& p);
void gemm_q4_k_int8(const PackedGemm& p);
// bf16 tiles, weights widened per column block (long prompts; every batch for F16 / BF16):
void gemm_f16(const PackedGemm& p);
void gemm_bf16(const PackedGemm& p);
void gemm_q8_0_bf16(const PackedGemm& p);
void gemm_q4_0_bf16(const PackedGemm& p);
void gemm_q4_k_bf16(const PackedGemm& p);

// The activations of a batch in each product's tile layout (kernels.h: GemmPrepareFn).
int64_t int8_act_bytes_q4_0(int64_t n_tokens, int64_t cols);
int64_t int8_act_bytes_q8_0(int64_t n_tokens, int64_t cols);
int64_t int8_act_bytes_q4_k(int64_t n_tokens, int64_t cols);
int64_t bf16_act_bytes(int64_t n_tokens, int64_t cols);     // hi and lo (float weights)
int64_t bf16_hi_act_bytes(int64_t n_tokens, int64_t cols);  // hi only (quantized weights)
void prepare_int8_q4_0(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                       uint8_t* dst);
void prepare_int8_q8_0(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                       uint8_t* dst);
void prepare_int8_q4_k(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                       uint8_t* dst);
void prepare_bf16(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                  uint8_t* dst);
void prepare_bf16_hi(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                     uint8_t* dst);

}  // namespace hearth::cpu::amx
