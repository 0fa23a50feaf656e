// The AVX-512 table on CPUs that also have AVX512-BF16 (Zen 4/5, Sapphire Rapids and later):
// batches against BF16 weights run on vdpbf16ps (gemm_bf16_dot.cpp), at twice the FMA rate;
// everything else is the AVX-512 level's.
#include "backends/cpu/x86_avx512/avx512_kernels.h"
#include "backends/cpu/x86_avx512_bf16/avx512_bf16_kernels.h"

namespace hearth::cpu {
namespace {

// From 2 tokens: at 2 the product already reads each weight once for both tokens and is no
// longer bound by memory alone.
constexpr int kBf16DotMinTokens = 2;

constexpr KernelTable avx512_bf16_table() {
  KernelTable t = avx512::table();
  t.bf16.batch = {avx512_bf16::gemm_bf16_dot, avx512_bf16::prepare_bf16_pairs,
                  avx512_bf16::bf16_pair_act_bytes, kBf16DotMinTokens,
                  "bf16 dot (vdpbf16ps) on activations rounded to bf16"};
  return t;
}

}  // namespace

constinit const KernelTable kAvx512Bf16Kernels = avx512_bf16_table();

}  // namespace hearth::cpu
