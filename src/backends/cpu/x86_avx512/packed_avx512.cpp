// AVX-512 tiles for the 16-row interleaved layouts (backends/cpu/packed.h): VNNI for Q8_0 /
// Q4_0, FMA for F16 / BF16.
//
// Per block of 32 elements and per group of 16 rows, a token costs 8 vpdpbusd (each: 4
// weights of 16 rows against 4 of the token's int8 activations broadcast), then one convert,
// one multiply and one FMA to apply the 16 weight scales times the token's block scale. Two
// groups and up to four tokens are in flight at once (16 accumulators), so each weight load
// serves four tokens and each activation broadcast serves two groups. The float tiles take
// up to eight tokens (16 FMA chains: a widened weight serves eight FMAs).
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
#include <type_traits>

#include "backends/cpu/packed.h"
#include "backends/cpu/x86_avx512/avx512_kernels.h"
#include "backends/cpu/x86_avx512/q4k_scales.h"

namespace hearth::cpu::avx512 {
namespace {

constexpr int kBlock = 32;
// How far ahead of the loads each weight stream is prefetched (kernels.h says why 4 KiB).
constexpr int64_t kPrefetchAhead = kWeightPrefetchAhead;

// How a one-token call (decode, bound by memory bandwidth) walks its row groups. Measured
// with bench/bench_decode (one-token matmul over 1 GiB of weights against the read probe,
// alternated; Zen 5 VM): Q4_0 and Q4_K read faster one group at a time (Q4_0 77 -> 87%
// of the probe at one thread, 81 -> 87% at two; Q4_K 78 -> 99% at two threads in one run,
// 95 -> 102% in another), while Q8_0 and the float types read slower so (F16 92 -> 67%: one
// group's single chain of FMAs, 4 cycles per 32 bytes, cannot keep up with memory). A
// token's operations and their order are the same either way, so outputs do not change.
enum class DecodeGroups { Pairs, OneByOne };

// kAct: the activations' format. Q8_0 takes a scale per block (Q8_32). Q4_0 takes one per 8
// blocks (Q8_256, as Q4_K does): a block's dot then costs a convert and one FMA into the
// 8-block partial sum, and the token's scale one FMA per 256 columns, which is what lets the
// AMX kernel (gemm_int8_amx.cpp) fold 16 tokens fast with the very same operations.
struct PackedQ8_0 {
  static constexpr ActFormat kAct = ActFormat::Q8_32;
  static constexpr DecodeGroups kDecode = DecodeGroups::Pairs;
  static constexpr int kOffset = 128;
  static constexpr int64_t kGroupBlockBytes = 16 * 34;
  // Calls step(k, weights of k-step k) for the 8 k-steps of a group-block.
  template <typename Step>
  static void for_each_step(const uint8_t* q, Step&& step) {
    for (int k = 0; k < 8; ++k) step(k, _mm512_loadu_si512(q + 64 * k));
  }
};

struct PackedQ4_0 {
  static constexpr ActFormat kAct = ActFormat::Q8_256;
  static constexpr DecodeGroups kDecode = DecodeGroups::OneByOne;
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
  const uint8_t* sums;  // Q8_32: int32 per block; Q8_256: int16 per 16 levels
};
// Sum of the token's 32 levels of block b.
template <ActFormat kAct>
[[gnu::always_inline]] inline int32_t block_sum(const TokenActs& a, int64_t b) {
  if constexpr (kAct == ActFormat::Q8_32) {
    int32_t s;
    std::memcpy(&s, a.sums + 4 * b, 4);
    return s;
  } else {
    int16_t s[2];
    std::memcpy(s, a.sums + 4 * b, 4);
    return s[0] + s[1];
  }
}

// Tokens per int8 tile. A tile holds NG x NT int32 dot chains and as many float accumulators
// (twice as many for Q8_256) in the 32 vector registers: 2 groups x 4 tokens is the most that
// fit, so a tile of 8 tokens runs as two of 4 over the same weights (then in L1). More chains
// would not help on Zen 5: vpdpbusd issues on the same two pipes as FMA, 2 a cycle at ~4
// cycles of latency, so 8 chains fill them, and the fold's convert / multiply / FMA take dot
// slots. Tried there, each no faster: 2 x 8 with the float accumulators in an L1 buffer (Q4_0
// ~20% and Q4_K ~10% slower); each block's chains split by k-step parity (16 chains of 4); a
// two-pass batch kernel (a chunk's int32 dots for 2 x 8 tokens stored to L1, then folded).
constexpr int kIntTokens = 4;

template <typename Fmt, int NG, int NT>
void group_tile(const uint8_t* w, int64_t nb, const TokenActs* acts, float* y, int64_t y_stride,
                bool prefetch) {
  constexpr bool kShared = Fmt::kAct == ActFormat::Q8_256;  // a token scale per 8 blocks
  __m512 acc[NG][NT], part[NG][NT];
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) acc[g][t] = _mm512_setzero_ps();
  const int64_t group_bytes = nb * Fmt::kGroupBlockBytes;
  for (int64_t b = 0; b < nb; ++b) {
    __m512i dot[NG][NT];
    for (int t = 0; t < NT; ++t) {
      const __m512i start = _mm512_set1_epi32(-Fmt::kOffset * block_sum<Fmt::kAct>(acts[t], b));
      for (int g = 0; g < NG; ++g) dot[g][t] = start;
    }
    const uint8_t* gb[NG];
    for (int g = 0; g < NG; ++g) {
      gb[g] = w + g * group_bytes + b * Fmt::kGroupBlockBytes;
      // Every line of the group-block kPrefetchAhead bytes ahead: the stream crosses a 4 KiB
      // page every few blocks, where the hardware prefetcher stops.
      if (prefetch)
        for (int64_t l = 0; l < Fmt::kGroupBlockBytes; l += 64)
          _mm_prefetch(reinterpret_cast<const char*>(gb[g]) + kPrefetchAhead + l, _MM_HINT_T0);
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
      for (int t = 0; t < NT; ++t) {
        if constexpr (kShared) {
          // part = sum over the 8 blocks of dot * dw; acc += part * dx after the 8th (or the
          // row's last). The AMX kernel does exactly this, in this order.
          part[g][t] = b % 8 == 0 ? _mm512_mul_ps(_mm512_cvtepi32_ps(dot[g][t]), dw)
                                  : _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[g][t]), dw, part[g][t]);
          if (b % 8 == 7 || b == nb - 1)
            acc[g][t] = _mm512_fmadd_ps(part[g][t], _mm512_set1_ps(acts[t].d[b / 8]), acc[g][t]);
        } else {
          acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[g][t]),
                                      _mm512_mul_ps(dw, _mm512_set1_ps(acts[t].d[b])), acc[g][t]);
        }
      }
    }
  }
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride + 16 * g, acc[g][t]);
}

// Runs tile(w, y, NG, NT) over a PackedTile's groups, two at a time (one for an odd last
// group; one at a time for a single token when `decode` says so), with the group and token
// counts as compile-time constants (std::integral_constant).
template <typename Tile>
void for_group_pairs(const PackedTile& t, int64_t group_bytes, DecodeGroups decode, Tile&& tile) {
  static_assert(kPackedTokenTile == 8);
  auto run = [&](int64_t g, auto ng) {
    auto call = [&](auto nt) { tile(t.w + g * group_bytes, t.y + 16 * g, ng, nt); };
    switch (t.n_tokens) {
      case 1: return call(std::integral_constant<int, 1>{});
      case 2: return call(std::integral_constant<int, 2>{});
      case 3: return call(std::integral_constant<int, 3>{});
      case 4: return call(std::integral_constant<int, 4>{});
      case 5: return call(std::integral_constant<int, 5>{});
      case 6: return call(std::integral_constant<int, 6>{});
      case 7: return call(std::integral_constant<int, 7>{});
      default: return call(std::integral_constant<int, 8>{});
    }
  };
  int64_t g = 0;
  if (decode == DecodeGroups::OneByOne && t.n_tokens == 1)
    for (; g < t.n_groups; ++g) run(g, std::integral_constant<int, 1>{});
  for (; g + 2 <= t.n_groups; g += 2) run(g, std::integral_constant<int, 2>{});
  if (g < t.n_groups) run(g, std::integral_constant<int, 1>{});
}

template <typename Fmt>
void packed_tile(const PackedTile& t) {
  const int64_t nb = t.cols / kBlock;
  const ActLayout layout = act_layout(Fmt::kAct, t.cols);
  TokenActs acts[kPackedTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) {
    const uint8_t* base = t.act + k * t.act_stride;
    acts[k] = {reinterpret_cast<const int8_t*>(base),
               reinterpret_cast<const float*>(base + layout.d_offset), base + layout.sums_offset};
  }
  const int64_t group_bytes = nb * Fmt::kGroupBlockBytes;
  for_group_pairs(t, group_bytes, Fmt::kDecode, [&](const uint8_t* w, float* y, auto ng, auto nt) {
    constexpr int NG = decltype(ng)::value, NT = decltype(nt)::value;
    if constexpr (NT <= kIntTokens) {
      group_tile<Fmt, NG, NT>(w, nb, acts, y, t.y_stride, t.first_pass);
    } else {  // the pair's weights are in L1 for the second half
      group_tile<Fmt, NG, kIntTokens>(w, nb, acts, y, t.y_stride, t.first_pass);
      group_tile<Fmt, NG, NT - kIntTokens>(w, nb, acts + kIntTokens, y + kIntTokens * t.y_stride,
                                           t.y_stride, false);
    }
  });
}

// ---------------------------------------------------------------- Q4_K
// Per super-block of 256 and group: the 16 rows' 6-bit sub-block scales and mins unpack with
// byte-vector ops (one lane per row), then per sub-block j of 32 elements and token:
// 8 vpdpbusd on the unsigned levels, part = dot * (d * sc_j) - (dmin * m_j) * sum(x of j)
// (started by j = 0), and after the 8 sub-blocks acc += part * dx: the token's scale once per
// super-block, not once per sub-block. The AMX batch kernel (x86_amx/gemm_int8_amx.cpp)
// does the same operations in the same order. Q4_K levels are unsigned already.

constexpr int64_t kQ4kGroupBytes = 16 * 144;

struct Q4kActs {
  const int8_t* qs;
  const float* d;       // per 256
  const int16_t* sums;  // per 16
};

template <int NG, int NT>
void q4k_group_tile(const uint8_t* w, int64_t nsb, const Q4kActs* acts, float* y, int64_t y_stride) {
  __m512 acc[NG][NT];
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) acc[g][t] = _mm512_setzero_ps();
  const int64_t group_bytes = nsb * kQ4kGroupBytes;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nsb; ++b) {
    const uint8_t* base[NG];
    __m512 dv[NG], mv[NG];
    for (int g = 0; g < NG; ++g) {
      base[g] = w + g * group_bytes + b * kQ4kGroupBytes;
      dv[g] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base[g])));
      mv[g] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base[g] + 32)));
    }
    __m512 part[NG][NT];  // the super-block's partial sums, before dx
    for (int j = 0; j < 8; ++j) {
      __m512 scale[NG], min[NG];
      for (int g = 0; g < NG; ++g) {
        const uint8_t* sc = base[g] + 64;
        scale[g] = x86::q4k_scale(dv[g], sc, j, false);
        min[g] = x86::q4k_scale(mv[g], sc, j, true);
      }
      __m512i dot[NG][NT];
      for (int g = 0; g < NG; ++g)
        for (int t = 0; t < NT; ++t) dot[g][t] = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        __m512i lo[NG], hi[NG];
        for (int g = 0; g < NG; ++g) {
          const uint8_t* q = base[g] + 256 + (j * 4 + c) * 64;
          _mm_prefetch(reinterpret_cast<const char*>(q) + kPrefetchAhead, _MM_HINT_T0);
          const __m512i raw = _mm512_loadu_si512(q);
          lo[g] = _mm512_and_si512(raw, low4);
          hi[g] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
        }
        for (int t = 0; t < NT; ++t) {
          int32_t x_lo, x_hi;
          const int8_t* x = acts[t].qs + 256 * b + 32 * j + 8 * c;
          std::memcpy(&x_lo, x, 4);
          std::memcpy(&x_hi, x + 4, 4);
          const __m512i xl = _mm512_set1_epi32(x_lo), xh = _mm512_set1_epi32(x_hi);
          for (int g = 0; g < NG; ++g) {
            dot[g][t] = _mm512_dpbusd_epi32(dot[g][t], lo[g], xl);
            dot[g][t] = _mm512_dpbusd_epi32(dot[g][t], hi[g], xh);
          }
        }
      }
      for (int t = 0; t < NT; ++t) {
        const int16_t* s16 = acts[t].sums + 16 * b + 2 * j;
        const __m512 xsum = _mm512_set1_ps(static_cast<float>(s16[0] + s16[1]));
        for (int g = 0; g < NG; ++g) {
          const __m512 d = _mm512_cvtepi32_ps(dot[g][t]);
          part[g][t] = j == 0 ? _mm512_mul_ps(d, scale[g]) : _mm512_fmadd_ps(d, scale[g], part[g][t]);
          part[g][t] = _mm512_fnmadd_ps(min[g], xsum, part[g][t]);
        }
      }
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 vdx = _mm512_set1_ps(acts[t].d[b]);
      for (int g = 0; g < NG; ++g) acc[g][t] = _mm512_fmadd_ps(part[g][t], vdx, acc[g][t]);
    }
  }
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride + 16 * g, acc[g][t]);
}

void packed_q4k_tile(const PackedTile& t) {
  const int64_t nsb = t.cols / 256;
  const ActLayout layout = act_layout(ActFormat::Q8_256, t.cols);
  Q4kActs acts[kPackedTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) {
    const uint8_t* base = t.act + k * t.act_stride;
    acts[k] = {reinterpret_cast<const int8_t*>(base),
               reinterpret_cast<const float*>(base + layout.d_offset),
               reinterpret_cast<const int16_t*>(base + layout.sums_offset)};
  }
  const int64_t group_bytes = nsb * kQ4kGroupBytes;
  for_group_pairs(t, group_bytes, DecodeGroups::OneByOne, [&](const uint8_t* w, float* y, auto ng, auto nt) {
    constexpr int NG = decltype(ng)::value, NT = decltype(nt)::value;
    if constexpr (NT <= kIntTokens) {
      q4k_group_tile<NG, NT>(w, nsb, acts, y, t.y_stride);
    } else {
      q4k_group_tile<NG, kIntTokens>(w, nsb, acts, y, t.y_stride);
      q4k_group_tile<NG, NT - kIntTokens>(w, nsb, acts + kIntTokens, y + kIntTokens * t.y_stride, t.y_stride);
    }
  });
}

// ---------------------------------------------------------------- F16 / BF16
// Column k of a group is 16 two-byte weights: widen them once, then one FMA per token with
// the token's x[k] broadcast.

struct PackedF16 {
  static __m512 load16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
};
struct PackedBF16 {  // bf16 is the top half of an f32: widen and shift, exact
  static __m512 load16(const uint8_t* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

template <typename Elem, int NG, int NT>
void float_group_tile(const uint8_t* w, int64_t cols, const float* const* x, float* y,
                      int64_t y_stride) {
  __m512 acc[NG][NT];
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) acc[g][t] = _mm512_setzero_ps();
  const int64_t group_bytes = cols * 32;
  int64_t k = 0;
  if constexpr (NT == 1) {
    // One token (decode): even and odd columns in separate chains, summed at the end, so a
    // group advances two FMAs per 4-cycle latency and the loads run further ahead of them
    // (bench_decode, F16 on DRAM: 1-6% more of the read roofline).
    __m512 odd[NG];
    for (int g = 0; g < NG; ++g) odd[g] = _mm512_setzero_ps();
    for (; k + 2 <= cols; k += 2) {
      for (int g = 0; g < NG; ++g) {
        const uint8_t* p = w + g * group_bytes + k * 32;
        _mm_prefetch(reinterpret_cast<const char*>(p) + kPrefetchAhead, _MM_HINT_T0);
        acc[g][0] = _mm512_fmadd_ps(Elem::load16(p), _mm512_set1_ps(x[0][k]), acc[g][0]);
        odd[g] = _mm512_fmadd_ps(Elem::load16(p + 32), _mm512_set1_ps(x[0][k + 1]), odd[g]);
      }
    }
    for (int g = 0; g < NG; ++g) acc[g][0] = _mm512_add_ps(acc[g][0], odd[g]);
  }
  for (; k < cols; ++k) {
    __m512 wv[NG];
    for (int g = 0; g < NG; ++g) {
      const uint8_t* p = w + g * group_bytes + k * 32;
      if ((k & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(p) + kPrefetchAhead, _MM_HINT_T0);
      wv[g] = Elem::load16(p);
    }
    for (int t = 0; t < NT; ++t) {
      const __m512 xb = _mm512_set1_ps(x[t][k]);
      for (int g = 0; g < NG; ++g) acc[g][t] = _mm512_fmadd_ps(wv[g], xb, acc[g][t]);
    }
  }
  for (int g = 0; g < NG; ++g)
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride + 16 * g, acc[g][t]);
}

template <typename Elem>
void packed_float_tile(const PackedTile& t) {
  const float* x[kPackedTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) x[k] = reinterpret_cast<const float*>(t.act + k * t.act_stride);
  const int64_t group_bytes = t.cols * 32;
  for_group_pairs(t, group_bytes, DecodeGroups::Pairs, [&](const uint8_t* w, float* y, auto ng, auto nt) {
    float_group_tile<Elem, decltype(ng)::value, decltype(nt)::value>(w, t.cols, x, y, t.y_stride);
  });
}

}  // namespace

void packed_q8_0(const PackedTile& t) { packed_tile<PackedQ8_0>(t); }
void packed_q4_0(const PackedTile& t) { packed_tile<PackedQ4_0>(t); }
void packed_q4_k(const PackedTile& t) { packed_q4k_tile(t); }
void packed_f16(const PackedTile& t) { packed_float_tile<PackedF16>(t); }
void packed_bf16(const PackedTile& t) { packed_float_tile<PackedBF16>(t); }

}  // namespace hearth::cpu::avx512
