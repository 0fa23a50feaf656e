// AVX-512 VNNI tiles for the 16-row interleaved Q8_0 / Q4_0 layout (backends/cpu/packed.h).
//
// Per block of 32 elements and per group of 16 rows, a token costs 8 vpdpbusd (each: 4
// weights of 16 rows against 4 of the token's int8 activations broadcast), then one convert,
// one multiply and one FMA to apply the 16 weight scales times the token's block scale. Two
// groups and up to four tokens are in flight at once (16 accumulators), so each weight load
// serves four tokens and each activation broadcast serves two groups.
//
// The weights are stored offset to unsigned (Q8_0: value + 128, Q4_0: level = value + 8), as
// vpdpbusd's first operand must be: sum(u * x) = sum(w * x) + offset * sum(x), so each
// block's accumulator starts at -offset * sum(x) (the activation block sums).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "backends/cpu/packed.h"
#include "backends/cpu/x86_avx512/avx512_kernels.h"

namespace hearth::cpu::avx512 {
namespace {

constexpr int kBlock = 32;

struct PackedQ8_0 {
  static constexpr int kOffset = 128;
  static constexpr int64_t kGroupBlockBytes = 16 * 34;
  // Calls step(k, weights of k-step k) for the 8 k-steps of a group-block.
  template <typename Step>
  static void for_each_step(const uint8_t* q, Step&& step) {
    for (int k = 0; k < 8; ++k) step(k, _mm512_loadu_si512(q + 64 * k));
  }
};

struct PackedQ4_0 {
  static constexpr int kOffset = 8;
  static constexpr int64_t kGroupBlockBytes = 16 * 18;
  template <typename Step>
  static void for_each_step(const uint8_t* q, Step&& step) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {
      const __m512i raw = _mm512_loadu_si512(q + 64 * c);
      step(2 * c, _mm512_and_si512(raw, low4));
      step(2 * c + 1, _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4));
    }
  }
};

struct TokenActs {
  const int8_t* qs;
  const float* d;
  const int32_t* sums;
};

template <typename Fmt, int NG, int NT>
void group_tile(const uint8_t* w, int64_t nb, const TokenActs* acts, float* y, int64_t y_stride) {
  __m512 acc[NG][NT];
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) acc[g][t] = _mm512_setzero_ps();
  const int64_t group_bytes = nb * Fmt::kGroupBlockBytes;
  for (int64_t b = 0; b < nb; ++b) {
    __m512i dot[NG][NT];
    for (int t = 0; t < NT; ++t) {
      const __m512i start = _mm512_set1_epi32(-Fmt::kOffset * acts[t].sums[b]);
      for (int g = 0; g < NG; ++g) dot[g][t] = start;
    }
    const uint8_t* gb[NG];
    for (int g = 0; g < NG; ++g) {
      gb[g] = w + g * group_bytes + b * Fmt::kGroupBlockBytes;
      _mm_prefetch(reinterpret_cast<const char*>(gb[g]) + 1024, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(gb[g]) + 1024 + 64, _MM_HINT_T0);
    }
    // The k-steps of both groups interleave: load group 0's step, then group 1's, and feed
    // each token's broadcast activations to both.
    if constexpr (NG == 2) {
      __m512i w1[8];
      Fmt::for_each_step(gb[1] + 32, [&](int k, __m512i v) { w1[k] = v; });
      Fmt::for_each_step(gb[0] + 32, [&](int k, __m512i w0) {
        for (int t = 0; t < NT; ++t) {
          int32_t x4;
          std::memcpy(&x4, acts[t].qs + kBlock * b + 4 * k, 4);
          const __m512i xb = _mm512_set1_epi32(x4);
          dot[0][t] = _mm512_dpbusd_epi32(dot[0][t], w0, xb);
          dot[1][t] = _mm512_dpbusd_epi32(dot[1][t], w1[k], xb);
        }
      });
    } else {
      Fmt::for_each_step(gb[0] + 32, [&](int k, __m512i w0) {
        for (int t = 0; t < NT; ++t) {
          int32_t x4;
          std::memcpy(&x4, acts[t].qs + kBlock * b + 4 * k, 4);
          dot[0][t] = _mm512_dpbusd_epi32(dot[0][t], w0, _mm512_set1_epi32(x4));
        }
      });
    }
    for (int g = 0; g < NG; ++g) {
      const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb[g])));
      for (int t = 0; t < NT; ++t)
        acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[g][t]),
                                    _mm512_mul_ps(dw, _mm512_set1_ps(acts[t].d[b])), acc[g][t]);
    }
  }
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride + 16 * g, acc[g][t]);
}

template <typename Fmt, int NG>
void group_tile_tokens(const uint8_t* w, int64_t nb, const TokenActs* acts, int n_tokens, float* y,
                       int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return group_tile<Fmt, NG, 1>(w, nb, acts, y, y_stride);
    case 2:
      return group_tile<Fmt, NG, 2>(w, nb, acts, y, y_stride);
    case 3:
      return group_tile<Fmt, NG, 3>(w, nb, acts, y, y_stride);
    default:
      return group_tile<Fmt, NG, 4>(w, nb, acts, y, y_stride);
  }
}
static_assert(kPackedTokenTile == 4);

template <typename Fmt>
void packed_tile(const PackedTile& t) {
  const int64_t nb = t.cols / kBlock;
  const ActLayout layout = act_layout(ActFormat::Q8_32, t.cols);
  TokenActs acts[kPackedTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) {
    const uint8_t* base = t.act + k * t.act_stride;
    acts[k] = {reinterpret_cast<const int8_t*>(base),
               reinterpret_cast<const float*>(base + layout.d_offset),
               reinterpret_cast<const int32_t*>(base + layout.sums_offset)};
  }
  const int64_t group_bytes = nb * Fmt::kGroupBlockBytes;
  int64_t g = 0;
  for (; g + 2 <= t.n_groups; g += 2)
    group_tile_tokens<Fmt, 2>(t.w + g * group_bytes, nb, acts, t.n_tokens, t.y + 16 * g,
                              t.y_stride);
  if (g < t.n_groups)
    group_tile_tokens<Fmt, 1>(t.w + g * group_bytes, nb, acts, t.n_tokens, t.y + 16 * g,
                              t.y_stride);
}

}  // namespace

void packed_q8_0(const PackedTile& t) { packed_tile<PackedQ8_0>(t); }
void packed_q4_0(const PackedTile& t) { packed_tile<PackedQ4_0>(t); }

}  // namespace hearth::cpu::avx512
