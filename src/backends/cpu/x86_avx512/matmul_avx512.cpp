// AVX-512 matmul tiles and activation quantizers (F, BW, VL, DQ, VNNI; Ice Lake and later,
// Zen 4). Q8_0/Q4_0 use vpdpbusd on two blocks per register; the K-quants use maddubs for
// the 8-bit products and vpdpwssd to apply the sub-block scales in the same step. Float
// weights widen in registers and use FMA; ragged tails use masked loads.
//
// Everything here has internal linkage except the entry points in avx512_kernels.h (see
// x86_avx2/matmul_avx2.cpp for why).
// GCC 12's AVX-512 headers make "undefined" vectors as `__m512 __Y = __Y;`, which trips
// -W(maybe-)uninitialized wherever a reduction or cast intrinsic is inlined; no such value is
// ever read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/x86_avx512/avx512_kernels.h"
#include "ops/quant.h"

namespace hearth::cpu::avx512 {
namespace {

using ops::BlockQ4_0;
using ops::BlockQ4_K;
using ops::BlockQ6_K;
using ops::BlockQ8_0;
using ops::kQK_K;

// Software prefetch distance for the weight stream. Each weight row is read once, in order;
// the hardware prefetcher stops at every 4 KiB page, and a row of a 2048-wide F16 matrix is
// exactly one page, so without this each row starts with a cold miss (measured: 8.4 ->
// 9.6 GB/s for one thread on an F16 GEMV, bench/bench_matmul).
constexpr int kPrefetchBytes = 1024;
void prefetch(const void* p) {
  _mm_prefetch(static_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
}
float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

float hsum128(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
float hsum256(__m256 v) {
  return hsum128(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

__m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
__m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
__m512i loadu512(const void* p) { return _mm512_loadu_si512(p); }

// ---------------------------------------------------------------- activation quantization

// Same arithmetic as generic::quantize_act_block (see there); n is 32 or 256.
void quantize_block(const float* x, int n, int8_t* q, float* d) {
  __m512 amax = _mm512_setzero_ps(), poison = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    amax = _mm512_max_ps(amax, _mm512_abs_ps(v));
    poison = _mm512_add_ps(poison, _mm512_mul_ps(v, _mm512_setzero_ps()));
  }
  const float am = _mm512_reduce_max_ps(amax);
  const float id = am != 0.0f ? 127.0f / am : 0.0f;
  *d = am / 127.0f + _mm512_reduce_add_ps(poison);
  const __m512 vid = _mm512_set1_ps(id);
  for (int i = 0; i < n; i += 16) {
    // cvtps2dq rounds ties to even; NaN becomes INT_MIN and saturates to -128, as generic.
    const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), vid));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtsepi32_epi8(v));
  }
}

struct Acts {
  const int8_t* qs[kTokenTile];
  const float* d[kTokenTile];
  const int16_t* sums[kTokenTile];
};
Acts acts_of(const GemvTile& t, ActFormat format) {
  const ActLayout layout = act_layout(format, t.cols);
  Acts a{};
  for (int k = 0; k < t.n_tokens; ++k) {
    const uint8_t* base = t.act + k * t.act_stride;
    a.qs[k] = reinterpret_cast<const int8_t*>(base);
    a.d[k] = reinterpret_cast<const float*>(base + layout.d_offset);
    a.sums[k] = reinterpret_cast<const int16_t*>(base + layout.sums_offset);
  }
  return a;
}

// ---------------------------------------------------------------- float weights

struct F32Elem {
  static constexpr int kBytes = 4;
  static __m512 load16(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static __m512 load_masked(const uint8_t* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16Elem {
  static constexpr int kBytes = 2;
  static __m512 load16(const uint8_t* p) { return _mm512_cvtph_ps(loadu256(p)); }
  static __m512 load_masked(const uint8_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct BF16Elem {  // bf16 is the top half of an f32: widen and shift, exact
  static constexpr int kBytes = 2;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load16(const uint8_t* p) { return widen(loadu256(p)); }
  static __m512 load_masked(const uint8_t* p, __mmask16 m) {
    return widen(_mm256_maskz_loadu_epi16(m, p));
  }
};

template <int NT, typename Elem>
void float_tile(const GemvTile& t) {
  const float* x[NT];
  for (int k = 0; k < NT; ++k) x[k] = reinterpret_cast<const float*>(t.act + k * t.act_stride);
  const int64_t n = t.cols;
  const int64_t rest = n % 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << rest) - 1);
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const uint8_t* w = t.w + r * t.w_row_bytes;
    __m512 acc0[NT], acc1[NT];  // two chains per token hide the FMA latency
    for (int k = 0; k < NT; ++k) acc0[k] = acc1[k] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      prefetch(w + i * Elem::kBytes);
      const __m512 w0 = Elem::load16(w + i * Elem::kBytes);
      const __m512 w1 = Elem::load16(w + (i + 16) * Elem::kBytes);
      for (int k = 0; k < NT; ++k) {
        acc0[k] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[k] + i), acc0[k]);
        acc1[k] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[k] + i + 16), acc1[k]);
      }
    }
    if (i + 16 <= n) {
      const __m512 w0 = Elem::load16(w + i * Elem::kBytes);
      for (int k = 0; k < NT; ++k)
        acc0[k] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[k] + i), acc0[k]);
      i += 16;
    }
    if (rest != 0) {
      const __m512 w0 = Elem::load_masked(w + i * Elem::kBytes, tail);
      for (int k = 0; k < NT; ++k)
        acc1[k] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(tail, x[k] + i), acc1[k]);
    }
    for (int k = 0; k < NT; ++k)
      t.y[k * t.y_stride + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[k], acc1[k]));
  }
}

// ---------------------------------------------------------------- 32-element blocks

__m256i levels(const BlockQ8_0& b) { return loadu256(b.qs); }
__m256i levels(const BlockQ4_0& b) {
  // Low nibbles are elements 0-15, high nibbles 16-31; stored value - 8 is the level.
  const __m128i bytes = loadu128(b.qs);
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

// Signed int8 dot products of 64 weights and 64 activations as 16 int32 sums of 4:
// vpdpbusd wants an unsigned first operand, so use |w| and move w's sign onto x.
__m512i dot_i8(__m512i w, __m512i x) {
  const __mmask64 negative = _mm512_movepi8_mask(w);
  const __m512i sx = _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x);
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), sx);
}

// kAct: Q8_32 (a scale per block) or Q8_256 (the Q4_0 rows on this level: one scale per 8
// blocks, see packed_avx512.cpp).
template <int NT, typename Block, ActFormat kAct>
void blocks32_tile(const GemvTile& t) {
  constexpr int64_t kPerScale = kAct == ActFormat::Q8_256 ? 8 : 1;
  const Acts a = acts_of(t, kAct);
  const int64_t nb = t.cols / 32;
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const Block* blocks = reinterpret_cast<const Block*>(t.w + r * t.w_row_bytes);
    __m512 acc[NT];
    for (int k = 0; k < NT; ++k) acc[k] = _mm512_setzero_ps();
    // Two blocks per register: lanes 0-7 sum block b, lanes 8-15 block b + 1.
    for (int64_t b = 0; b < nb; b += 2) {
      prefetch(blocks + b);
      const bool pair = b + 1 < nb;
      const __m512i w = pair ? _mm512_inserti64x4(_mm512_castsi256_si512(levels(blocks[b])),
                                                  levels(blocks[b + 1]), 1)
                             : _mm512_zextsi256_si512(levels(blocks[b]));
      const float dw0 = half_to_float(blocks[b].d);
      const float dw1 = pair ? half_to_float(blocks[b + 1].d) : 0.0f;
      for (int k = 0; k < NT; ++k) {
        const int8_t* xq = a.qs[k] + 32 * b;
        const __m512i x = pair ? loadu512(xq) : _mm512_zextsi256_si512(loadu256(xq));
        const float s1 = pair ? dw1 * a.d[k][(b + 1) / kPerScale] : 0.0f;
        const __m512 scale =
            _mm512_insertf32x8(_mm512_set1_ps(dw0 * a.d[k][b / kPerScale]), _mm256_set1_ps(s1), 1);
        acc[k] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dot_i8(w, x)), acc[k]);
      }
    }
    for (int k = 0; k < NT; ++k) t.y[k * t.y_stride + r] = _mm512_reduce_add_ps(acc[k]);
  }
}

// ---------------------------------------------------------------- K-quants

template <int NT>
void q4_k_tile(const GemvTile& t) {
  const Acts a = acts_of(t, ActFormat::Q8_256);
  const int64_t nb = t.cols / kQK_K;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  // Lanes 0-15 take scale 2c, lanes 16-31 scale 2c + 1 (int16 lanes, permuted per chunk c).
  const __m512i half_index = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(1), 1);
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const auto* blocks = reinterpret_cast<const BlockQ4_K*>(t.w + r * t.w_row_bytes);
    __m512 acc[NT];
    __m128 acc_min[NT];
    for (int k = 0; k < NT; ++k) acc[k] = _mm512_setzero_ps(), acc_min[k] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ4_K& blk = blocks[b];
      prefetch(&blk);
      prefetch(reinterpret_cast<const uint8_t*>(&blk) + 64);
      prefetch(reinterpret_cast<const uint8_t*>(&blk) + 128);
      alignas(16) uint8_t sm[16];  // 8 scales, then 8 mins
      ops::unpack_q4_k_scales(blk.scales, sm);
      const __m256i sm16 = _mm256_cvtepu8_epi16(loadu128(sm));
      const __m512i scales16 = _mm512_castsi256_si512(sm16);
      const __m128i mins16 = _mm256_extracti128_si256(sm16, 1);
      __m512i sumi[NT];
      for (int k = 0; k < NT; ++k) sumi[k] = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        // Elements [64c, 64c + 64): low nibbles (sub-block 2c), then high (sub-block 2c + 1).
        const __m256i bits = loadu256(blk.qs + 32 * c);
        const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(bits, low4)),
                                             _mm256_and_si256(_mm256_srli_epi16(bits, 4), low4), 1);
        const __m512i scale = _mm512_permutexvar_epi16(
            _mm512_add_epi16(half_index, _mm512_set1_epi16(static_cast<short>(2 * c))), scales16);
        for (int k = 0; k < NT; ++k) {
          // u8 (0..15) x s8 pairs fit int16 (<= 3810); vpdpwssd scales them into int32.
          const __m512i p = _mm512_maddubs_epi16(w, loadu512(a.qs[k] + kQK_K * b + 64 * c));
          sumi[k] = _mm512_dpwssd_epi32(sumi[k], p, scale);
        }
      }
      const float d = half_to_float(blk.d), dmin = half_to_float(blk.dmin);
      for (int k = 0; k < NT; ++k) {
        const float da = a.d[k][b];
        acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(d * da), _mm512_cvtepi32_ps(sumi[k]), acc[k]);
        // Mins: sum_j m_j * (sums[2j] + sums[2j+1]); hadd forms the per-32 sums in order.
        const __m256i s16 = loadu256(a.sums[k] + 16 * b);
        const __m128i s32 =
            _mm_hadd_epi16(_mm256_castsi256_si128(s16), _mm256_extracti128_si256(s16, 1));
        acc_min[k] = _mm_fmadd_ps(_mm_set1_ps(dmin * da),
                                  _mm_cvtepi32_ps(_mm_madd_epi16(s32, mins16)), acc_min[k]);
      }
    }
    for (int k = 0; k < NT; ++k)
      t.y[k * t.y_stride + r] = _mm512_reduce_add_ps(acc[k]) - hsum128(acc_min[k]);
  }
}

template <int NT>
void q6_k_tile(const GemvTile& t) {
  const Acts a = acts_of(t, ActFormat::Q8_256);
  const int64_t nb = t.cols / kQK_K;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  // Per-16-bit-lane shifts that bring the 2 high bits of each quarter to bits 4-5:
  // elements 0-31 (bits 0-1) and 32-63 (bits 2-3) of a half, then 64-95 (bits 4-5), 96-127.
  const __m512i shl_lo = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shr_hi = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
  // maddubs leaves 32 int16 pair sums per 64 elements; lanes 8g..8g+7 belong to sub-block g.
  const __m512i lane_group =
      _mm512_srli_epi16(_mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                         16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                        3);
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const auto* blocks = reinterpret_cast<const BlockQ6_K*>(t.w + r * t.w_row_bytes);
    __m512 acc[NT];
    __m256 acc_off[NT];
    for (int k = 0; k < NT; ++k) acc[k] = _mm512_setzero_ps(), acc_off[k] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ6_K& blk = blocks[b];
      for (int l = 0; l < 4; ++l) prefetch(reinterpret_cast<const uint8_t*>(&blk) + 64 * l);
      const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(blk.scales));
      const __m512i sc512 = _mm512_castsi256_si512(sc16);
      __m512i sumi[NT];
      for (int k = 0; k < NT; ++k) sumi[k] = _mm512_setzero_si512();
      for (int h = 0; h < 2; ++h) {
        const __m512i ql = loadu512(blk.ql + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(loadu256(blk.qh + 32 * h));
        // Unsigned levels 0..63 of elements [0, 64) and [64, 128) of this half; the -32
        // offset is applied below through the activation sums.
        const __m512i q_lo = _mm512_or_si512(
            _mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl_lo), bits45));
        const __m512i q_hi =
            _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                            _mm512_and_si512(_mm512_srlv_epi16(qh, shr_hi), bits45));
        const __m512i scale_lo =
            _mm512_permutexvar_epi16(_mm512_add_epi16(lane_group, _mm512_set1_epi16(8 * h)), sc512);
        const __m512i scale_hi = _mm512_permutexvar_epi16(
            _mm512_add_epi16(lane_group, _mm512_set1_epi16(8 * h + 4)), sc512);
        for (int k = 0; k < NT; ++k) {
          const int8_t* x = a.qs[k] + kQK_K * b + 128 * h;
          // u8 (0..63) x s8 pairs fit int16 (<= 16002); vpdpwssd scales them into int32.
          sumi[k] = _mm512_dpwssd_epi32(sumi[k], _mm512_maddubs_epi16(q_lo, loadu512(x)), scale_lo);
          sumi[k] =
              _mm512_dpwssd_epi32(sumi[k], _mm512_maddubs_epi16(q_hi, loadu512(x + 64)), scale_hi);
        }
      }
      const float d = half_to_float(blk.d);
      for (int k = 0; k < NT; ++k) {
        const float dd = d * a.d[k][b];
        acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(dd), _mm512_cvtepi32_ps(sumi[k]), acc[k]);
        const __m256i off =
            _mm256_slli_epi32(_mm256_madd_epi16(sc16, loadu256(a.sums[k] + 16 * b)), 5);
        acc_off[k] = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(off), acc_off[k]);
      }
    }
    for (int k = 0; k < NT; ++k)
      t.y[k * t.y_stride + r] = _mm512_reduce_add_ps(acc[k]) - hsum256(acc_off[k]);
  }
}

// Instantiates a tile template for 1..kTokenTile tokens.
template <template <int> class Tile>
void by_tokens(const GemvTile& t) {
  switch (t.n_tokens) {
    case 1:
      return Tile<1>::run(t);
    case 2:
      return Tile<2>::run(t);
    case 3:
      return Tile<3>::run(t);
    default:
      return Tile<4>::run(t);
  }
}
static_assert(kTokenTile == 4);

template <int NT>
struct F32Tile {
  static void run(const GemvTile& t) { float_tile<NT, F32Elem>(t); }
};
template <int NT>
struct F16Tile {
  static void run(const GemvTile& t) { float_tile<NT, F16Elem>(t); }
};
template <int NT>
struct BF16Tile {
  static void run(const GemvTile& t) { float_tile<NT, BF16Elem>(t); }
};
template <int NT>
struct Q8_0Tile {
  static void run(const GemvTile& t) { blocks32_tile<NT, BlockQ8_0, ActFormat::Q8_32>(t); }
};
template <int NT>
struct Q4_0Tile {
  static void run(const GemvTile& t) { blocks32_tile<NT, BlockQ4_0, ActFormat::Q8_256>(t); }
};
template <int NT>
struct Q4_KTile {
  static void run(const GemvTile& t) { q4_k_tile<NT>(t); }
};
template <int NT>
struct Q6_KTile {
  static void run(const GemvTile& t) { q6_k_tile<NT>(t); }
};

}  // namespace

void quantize_act_q8_32(const float* x, int64_t cols, uint8_t* dst) {
  const ActLayout layout = act_layout(ActFormat::Q8_32, cols);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + layout.d_offset);
  for (int64_t b = 0; b < cols / 32; ++b) quantize_block(x + 32 * b, 32, q + 32 * b, d + b);
}

void quantize_act_q8_256(const float* x, int64_t cols, uint8_t* dst) {
  const ActLayout layout = act_layout(ActFormat::Q8_256, cols);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + layout.d_offset);
  auto* sums = reinterpret_cast<int16_t*>(dst + layout.sums_offset);
  for (int64_t b = 0; b * kQK_K < cols; ++b)  // a last group of cols % 256 (Q4_0 rows)
    quantize_block(x + kQK_K * b, static_cast<int>(std::min<int64_t>(kQK_K, cols - kQK_K * b)), q + kQK_K * b, d + b);
  // Sums of 16 levels: widen to int16, add adjacent pairs three times over 16 lanes.
  for (int64_t g = 0; g < cols / 16; g += 2) {
    const __m512i v = _mm512_cvtepi8_epi16(loadu256(q + 16 * g));    // 32 levels = 2 groups
    const __m512i s32 = _mm512_madd_epi16(v, _mm512_set1_epi16(1));  // 16 sums of 2
    const __m512i p = _mm512_add_epi32(s32, _mm512_shuffle_epi32(s32, _MM_PERM_CDAB));
    const __m512i s =
        _mm512_add_epi32(p, _mm512_shuffle_epi32(p, _MM_PERM_BADC));  // sums of 8 per 128-bit lane
    alignas(64) int32_t lanes[16];
    _mm512_store_si512(lanes, s);
    sums[g] = static_cast<int16_t>(lanes[0] + lanes[4]);
    sums[g + 1] = static_cast<int16_t>(lanes[8] + lanes[12]);
  }
}

void gemv_f32(const GemvTile& t) { by_tokens<F32Tile>(t); }
void gemv_f16(const GemvTile& t) { by_tokens<F16Tile>(t); }
void gemv_bf16(const GemvTile& t) { by_tokens<BF16Tile>(t); }
void gemv_q8_0(const GemvTile& t) { by_tokens<Q8_0Tile>(t); }
void gemv_q4_0(const GemvTile& t) { by_tokens<Q4_0Tile>(t); }
void gemv_q4_k(const GemvTile& t) { by_tokens<Q4_KTile>(t); }
void gemv_q6_k(const GemvTile& t) { by_tokens<Q6_KTile>(t); }

}  // namespace hearth::cpu::avx512
