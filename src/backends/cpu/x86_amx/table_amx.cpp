// The AMX kernel table: the AVX-512 table, whose kernels serve single tokens (decode is bound by
// memory bandwidth, which they reach), plus tile products for batches:
//  * quantized weights: int8 tiles from 12 tokens (bit for bit the single-token results, so a
//    sequence's output does not depend on what it is batched with), bf16 tiles from
//    kBf16MinTokens (prompts: no per-block work outside the tile unit);
//  * F16 / BF16 weights: bf16 tiles from 8 / 6 tokens.
// The thresholds are where each overtakes the other on TinyLlama's shapes (bench_matmul).
#include "backends/cpu/x86_amx/amx_kernels.h"
#include "backends/cpu/x86_avx512/avx512_kernels.h"

namespace hearth::cpu {
namespace {

constexpr int kInt8MinTokens = 12;
constexpr int kBf16MinTokens = 64;
constexpr int kF16MinTokens = 8;
constexpr int kBf16WeightsMinTokens = 6;

constexpr KernelTable amx_table() {
  KernelTable t = avx512::table();
  t.isa = Isa::Amx;
  t.name = "amx";
  const char* int8 = "AMX int8 tiles (tdpbssd), exact as 1 token";
  const char* bf16 = "AMX bf16 tiles (tdpbf16ps)";
  using namespace amx;
  t.q8_0.batch = {gemm_q8_0_int8, prepare_int8_q8_0, int8_act_bytes_q8_0, kInt8MinTokens,
                  "AMX int8 tiles (tdpbsud, weights in place), exact as 1 token"};
  t.q8_0.prompt = {gemm_q8_0_bf16, prepare_bf16_hi, bf16_hi_act_bytes, kBf16MinTokens, bf16};
  t.q4_0.batch = {gemm_q4_0_int8, prepare_int8_q4_0, int8_act_bytes_q4_0, kInt8MinTokens, int8};
  t.q4_0.prompt = {gemm_q4_0_bf16, prepare_bf16_hi, bf16_hi_act_bytes, kBf16MinTokens, bf16};
  t.q4_k.batch = {gemm_q4_k_int8, prepare_int8_q4_k, int8_act_bytes_q4_k, kInt8MinTokens,
                  "AMX int8 tiles (tdpbsud), exact as 1 token"};
  t.q4_k.prompt = {gemm_q4_k_bf16, prepare_bf16_hi, bf16_hi_act_bytes, kBf16MinTokens, bf16};
  t.f16.batch = {gemm_f16, prepare_bf16, bf16_act_bytes, kF16MinTokens,
                 "AMX bf16 tiles (tdpbf16ps, weights and activations hi+lo)"};
  t.bf16.batch = {gemm_bf16, prepare_bf16, bf16_act_bytes, kBf16WeightsMinTokens,
                  "AMX bf16 tiles (tdpbf16ps, activations hi+lo)"};
  return t;
}

}  // namespace

constinit const KernelTable kAmxKernels = amx_table();

}  // namespace hearth::cpu
