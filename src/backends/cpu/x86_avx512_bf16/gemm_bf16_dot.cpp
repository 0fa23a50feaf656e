// BF16 weights x a batch of tokens on vdpbf16ps (compiled with the AVX-512 flags plus
// AVX512-BF16; only kAvx512Bf16Kernels points here, and dispatch hands that table out only to
// CPUs with AVX512-BF16).
//
// Why: a batch against BF16 weights is bound by the multiply units, and one vdpbf16ps does
// 32 multiply-adds (16 lanes x a pair of columns) where an FMA does 16, at the same rate on
// Zen 4/5 and Sapphire Rapids. The price is the activations' precision: they are rounded to
// bf16 (nearest even) once per matmul, as llama.cpp does for BF16 weights and as PyTorch
// computes a bf16 model; the products of two bf16 values are exact and sum in float. One
// token (decode, bound by memory bandwidth) keeps the float activations (packed_bf16).
//
// Layout: the interleaved weights (backends/cpu/packed.h) hold column k of a group's 16 rows
// as 32 contiguous bytes, then column k + 1; one 64-byte load is both, and one vpermw pairs
// them per row (lane i = row i's weights at k and k + 1), as vdpbf16ps takes its operands.
// The activations are bf16 pairs: a token's (x[k], x[k + 1]) is one 32-bit broadcast.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 warns of _mm512_zextsi256_si512's undefined upper half, which it then zeroes.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "backends/cpu/x86_avx512_bf16/avx512_bf16_kernels.h"

namespace hearth::cpu::avx512_bf16 {
namespace {

constexpr int64_t kRowAlign = 64;
// Bytes of a token's prepared row: cols bf16 values, an odd count padded with a zero.
int64_t act_row_bytes(int64_t cols) { return (((cols + 1) / 2) * 4 + kRowAlign - 1) / kRowAlign * kRowAlign; }

// Tokens per tile: 2 groups x 8 tokens are 16 accumulator chains, a paired weight serving 8.
constexpr int kTokens = 8;
// Lane i of a 64-byte column pair [k: rows 0..15][k + 1: rows 0..15] -> (row i at k, row i
// at k + 1): 16-bit element 2i takes element i, element 2i + 1 takes element 16 + i.
alignas(64) constexpr uint16_t kPairIndex[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                                 21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                                 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

template <int NG, int NT>
void dot_tile(const uint8_t* w, int64_t cols, const uint8_t* act, int64_t act_stride, float* y,
              int64_t y_stride, const __m512i pairs) {
  __m512 acc[NG][NT];
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) acc[g][t] = _mm512_setzero_ps();
  const int64_t group_bytes = cols * 32;
  const int64_t full_pairs = cols / 2;
  // Column pair k2 of the NG groups (wp) against every token's activation pair k2.
  auto products = [&](const __m512bh (&wp)[NG], int64_t k2) {
    for (int t = 0; t < NT; ++t) {
      int32_t x2;
      std::memcpy(&x2, act + t * act_stride + 4 * k2, 4);
      const __m512bh xb = reinterpret_cast<__m512bh>(_mm512_set1_epi32(x2));
      for (int g = 0; g < NG; ++g) acc[g][t] = _mm512_dpbf16_ps(acc[g][t], wp[g], xb);
    }
  };
  for (int64_t k2 = 0; k2 < full_pairs; ++k2) {
    __m512bh wp[NG];
    for (int g = 0; g < NG; ++g) {
      const uint8_t* p = w + g * group_bytes + k2 * 64;
      _mm_prefetch(reinterpret_cast<const char*>(p) + kWeightPrefetchAhead, _MM_HINT_T0);
      wp[g] = reinterpret_cast<__m512bh>(_mm512_permutexvar_epi16(pairs, _mm512_loadu_si512(p)));
    }
    products(wp, k2);
  }
  if (cols % 2 != 0) {  // the last column alone: its partner is a zero weight and a zero x
    __m512bh wp[NG];
    for (int g = 0; g < NG; ++g) {
      const __m256i last = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + g * group_bytes + full_pairs * 64));
      wp[g] = reinterpret_cast<__m512bh>(_mm512_permutexvar_epi16(pairs, _mm512_zextsi256_si512(last)));
    }
    products(wp, full_pairs);
  }
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride + 16 * g, acc[g][t]);
}

// Calls fn(NT) with n (1 to N) as a compile-time constant.
template <int N, typename Fn>
void with_token_count(int n, Fn&& fn) {
  if constexpr (N > 1) {
    if (n < N) return with_token_count<N - 1>(n, fn);
  }
  fn(std::integral_constant<int, N>{});
}

}  // namespace

int64_t bf16_pair_act_bytes(int64_t n_tokens, int64_t cols) { return n_tokens * act_row_bytes(cols); }

void prepare_bf16_pairs(const float* x, int64_t /*n_tokens*/, int64_t cols, int64_t t0, int64_t t1,
                        uint8_t* dst) {
  const int64_t stride = act_row_bytes(cols);
  for (int64_t t = t0; t < t1; ++t) {
    const float* row = x + t * cols;
    uint8_t* out = dst + t * stride;
    int64_t i = 0;
    for (; i + 32 <= cols; i += 32) {
      // cvtne2ps_pbh(a, b): b's 16 values first, then a's; each rounded to nearest even.
      const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + i + 16), _mm512_loadu_ps(row + i));
      _mm512_storeu_si512(out + 2 * i, reinterpret_cast<__m512i>(h));
    }
    for (; i < cols; i += 16) {  // the tail, zero-padded
      const __mmask16 m = static_cast<__mmask16>((1u << std::min<int64_t>(16, cols - i)) - 1);
      const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, row + i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), reinterpret_cast<__m256i>(h));
    }
    // Zero from the first unused bf16 to the end of the row (the odd column's partner).
    std::memset(out + 2 * cols, 0, static_cast<size_t>(stride - 2 * cols));
  }
}

void gemm_bf16_dot(const PackedGemm& p) {
  const __m512i pairs = _mm512_load_si512(kPairIndex);
  const int64_t group_bytes = p.cols * 32;
  const int64_t stride = act_row_bytes(p.cols);
  auto run = [&](int64_t g, auto ng) {
    // All tokens over this pair of groups, kTokens at a time (the pair's weights stay in L2).
    for (int64_t t0 = 0; t0 < p.n_tokens; t0 += kTokens)
      with_token_count<kTokens>(static_cast<int>(std::min<int64_t>(kTokens, p.n_tokens - t0)), [&](auto nt) {
        dot_tile<decltype(ng)::value, decltype(nt)::value>(p.w + g * group_bytes, p.cols,
                                                          p.act + t0 * stride, stride,
                                                          p.y + t0 * p.y_stride + 16 * g,
                                                          p.y_stride, pairs);
      });
  };
  int64_t g = 0;
  for (; g + 2 <= p.n_groups; g += 2) run(g, std::integral_constant<int, 2>{});
  if (g < p.n_groups) run(g, std::integral_constant<int, 1>{});
}

}  // namespace hearth::cpu::avx512_bf16
