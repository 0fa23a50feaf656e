// Run-time choice of CPU kernels. The best table this CPU supports is picked from CPUID on
// first use; the environment variable HEARTH_ISA=generic|avx2|avx512|amx caps it at a lower
// level (to test or compare the fallbacks; asking for more than the CPU has gives what it has).
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "backends/cpu/kernels.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace hearth::cpu {

const char* isa_name(Isa isa);
// Whether this CPU (and OS) can run the kernels of that level.
bool isa_supported(Isa isa);
// Whether this CPU has AVX512-BF16 beside the AVX-512 level (its table then runs batches
// against BF16 weights on vdpbf16ps, with the activations rounded to bf16).
bool has_avx512_bf16();
// The table of one level; throws hearth::Error if this CPU cannot run it.
const KernelTable& kernels_for(Isa isa);
// The level active_kernels() picks for a HEARTH_ISA value (nullptr or "" = unset): the best
// supported level, capped at the requested one. Throws hearth::Error for an unknown value.
Isa choose_isa(const char* requested);
// The table every op uses: the best supported level, capped by HEARTH_ISA. Chosen once;
// throws hearth::Error on the first call if HEARTH_ISA holds an unknown value.
const KernelTable& active_kernels();

// The matmul kernel of a table for a weight type; throws hearth::Error for I32 weights.
const MatmulKernel& matmul_kernel(const KernelTable& table, DType weight_type);

// y[t][o] = sum_i x[t][i] * W[o][i] with the kernels of `table` (ops::matmul uses
// active_kernels()). Validates W (dtype, block multiple, size, alignment) with clear errors.
void matmul(const KernelTable& table, const TensorView& W, const float* x, int64_t n_tokens,
            float* y, ThreadPool& pool);

// The products of several matrices with the same input (a layer's Wq, Wk and Wv; Wgate and
// Wup), as matmul computes each: matrices of one type and width in the interleaved layout
// share one preparation of the activations and one pass of the thread pool.
void matmul_shared_input(const KernelTable& table, std::span<const MatmulOutput> outputs, const float* x,
                         int64_t n_tokens, ThreadPool& pool);

// The matrix-unit product a batch of n_tokens against interleaved weights runs on, or null
// (the kernel's interleaved tiles serve it).
const GemmKernel* gemm_for(const MatmulKernel& kernel, int64_t n_tokens);

// Bytes matmul prepares the activations of n_tokens rows of `cols` into, for weights of this
// type: an int8 copy for quantized weights, nothing for float weights. The buffer is kept per
// calling thread and grown to the largest call; matmul sizes it with this function.
uint64_t matmul_scratch_bytes(const KernelTable& table, DType weight_type, int64_t cols,
                              int64_t n_tokens);

// "matmul: avx512 (F32: fma, ...); ops: avx512" — which implementations run here.
std::string kernel_report(const KernelTable& table);

}  // namespace hearth::cpu
