// The AVX-512 level's kernels plus products on AVX512-BF16 (x86_avx512_bf16/*.cpp, compiled
// with the AVX-512 flags and -mavx512bf16). Call only through kAvx512Bf16Kernels, which
// dispatch hands out in place of kAvx512Kernels where CPUID reports AVX512-BF16.
#pragma once
#include <cstdint>

#include "backends/cpu/kernels.h"

namespace hearth::cpu::avx512_bf16 {

// BF16 weights (16-row interleaved) x a batch, on vdpbf16ps against the activations rounded
// to bf16 (kernels.h: PackedGemm, GemmPrepareFn).
void gemm_bf16_dot(const PackedGemm& p);
int64_t bf16_pair_act_bytes(int64_t n_tokens, int64_t cols);
void prepare_bf16_pairs(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                        uint8_t* dst);

}  // namespace hearth::cpu::avx512_bf16
