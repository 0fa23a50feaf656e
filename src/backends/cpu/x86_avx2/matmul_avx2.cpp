// AVX2 + FMA + F16C matmul tiles and activation quantizers. Compiled with -mavx2 -mfma -mf16c
// (cmake/HearthIsa.cmake) and only ever called after dispatch has checked CPUID.
//
// Everything here has internal linkage except the entry points declared in avx2_kernels.h:
// a shared inline function compiled with AVX2 could otherwise be picked by the linker for a
// portable caller.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/x86_avx2/avx2_kernels.h"
#include "ops/quant.h"

namespace hearth::cpu::avx2 {
namespace {

using ops::BlockQ4_0;
using ops::BlockQ4_K;
using ops::BlockQ6_K;
using ops::BlockQ8_0;
using ops::kQK_K;

float hsum128(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
float hsum(__m256 v) {
  return hsum128(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Sum of the 8 int32 lanes of four vectors as floats, stored to y[0..3] strides apart.
template <int NT>
void store_sums(const __m256 (&acc)[NT], const GemvTile& t, int64_t r) {
  for (int k = 0; k < NT; ++k) t.y[k * t.y_stride + r] = hsum(acc[k]);
}

// ---------------------------------------------------------------- activation quantization

// Same arithmetic as generic::quantize_act_block: scale amax/127 (+ NaN poison for
// non-finite input), levels cvtps2dq(x * 127/amax) (ties to even), saturated to int8.
void quantize_block(const float* x, int n, int8_t* q, float* d) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 amax = _mm256_setzero_ps(), poison = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v));
    poison = _mm256_add_ps(poison, _mm256_mul_ps(v, _mm256_setzero_ps()));
  }
  const float am = hmax(amax);
  const float id = am != 0.0f ? 127.0f / am : 0.0f;
  *d = am / 127.0f + hsum(poison);
  const __m256 vid = _mm256_set1_ps(id);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int i = 0; i < n; i += 32) {
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i), vid));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vid));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 16), vid));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 24), vid));
    // packs work per 128-bit lane; the permute restores element order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permutevar8x32_epi32(p, order));
  }
}

// Activation accessors (layout in kernels.h).
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
  static __m256 load8(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
  static float load1(const uint8_t* p) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
};
struct F16Elem {
  static constexpr int kBytes = 2;
  static __m256 load8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float load1(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return half_to_float(h);
  }
};
struct BF16Elem {  // bf16 is the top half of an f32: widen and shift, exact
  static constexpr int kBytes = 2;
  static __m256 load8(const uint8_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  }
  static float load1(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

template <int NT, typename Elem>
void float_tile(const GemvTile& t) {
  const float* x[NT];
  for (int k = 0; k < NT; ++k) x[k] = reinterpret_cast<const float*>(t.act + k * t.act_stride);
  const int64_t n = t.cols;
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const uint8_t* w = t.w + r * t.w_row_bytes;
    __m256 acc0[NT], acc1[NT];  // two chains per token hide the FMA latency
    for (int k = 0; k < NT; ++k) acc0[k] = acc1[k] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m256 w0 = Elem::load8(w + i * Elem::kBytes);
      const __m256 w1 = Elem::load8(w + (i + 8) * Elem::kBytes);
      for (int k = 0; k < NT; ++k) {
        acc0[k] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[k] + i), acc0[k]);
        acc1[k] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[k] + i + 8), acc1[k]);
      }
    }
    if (i + 8 <= n) {
      const __m256 w0 = Elem::load8(w + i * Elem::kBytes);
      for (int k = 0; k < NT; ++k)
        acc0[k] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[k] + i), acc0[k]);
      i += 8;
    }
    for (int k = 0; k < NT; ++k) {
      float s = hsum(_mm256_add_ps(acc0[k], acc1[k]));
      for (int64_t j = i; j < n; ++j) s += Elem::load1(w + j * Elem::kBytes) * x[k][j];
      t.y[k * t.y_stride + r] = s;
    }
  }
}

// ---------------------------------------------------------------- 32-element blocks

// Signed int8 dot of 32 weights and 32 activations as 8 int32 partial sums: maddubs needs
// an unsigned operand, so multiply |w| by a carrying w's sign (no overflow: 2*128*127).
__m256i dot_i8(__m256i w, __m256i a) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

__m256i levels(const BlockQ8_0& b) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
}
__m256i levels(const BlockQ4_0& b) {
  // Low nibbles are elements 0-15, high nibbles 16-31; stored value - 8 is the level.
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

// kAct: Q8_32 (Q8_0: a scale per block) or Q8_256 (Q4_0: one per 8 blocks).
template <int NT, typename Block, ActFormat kAct>
void blocks32_tile(const GemvTile& t) {
  constexpr int64_t kPerScale = kAct == ActFormat::Q8_256 ? 8 : 1;
  const Acts a = acts_of(t, kAct);
  const int64_t nb = t.cols / 32;
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const Block* blocks = reinterpret_cast<const Block*>(t.w + r * t.w_row_bytes);
    __m256 acc[NT];
    for (int k = 0; k < NT; ++k) acc[k] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const __m256i w = levels(blocks[b]);
      const float dw = half_to_float(blocks[b].d);
      for (int k = 0; k < NT; ++k) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs[k] + 32 * b));
        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dw * a.d[k][b / kPerScale]), _mm256_cvtepi32_ps(dot_i8(w, x)),
                                 acc[k]);
      }
    }
    store_sums<NT>(acc, t, r);
  }
}

// ---------------------------------------------------------------- K-quants

template <int NT>
void q4_k_tile(const GemvTile& t) {
  const Acts a = acts_of(t, ActFormat::Q8_256);
  const int64_t nb = t.cols / kQK_K;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const auto* blocks = reinterpret_cast<const BlockQ4_K*>(t.w + r * t.w_row_bytes);
    __m256 acc[NT];
    __m128 acc_min[NT];
    for (int k = 0; k < NT; ++k) acc[k] = _mm256_setzero_ps(), acc_min[k] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ4_K& blk = blocks[b];
      alignas(16) uint8_t sm[16];  // 8 scales, then 8 mins
      ops::unpack_q4_k_scales(blk.scales, sm);
      const __m128i sm_lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm));
      const __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm_lo));
      const __m128i mins16 =
          _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8)));
      __m256i sumi[NT];
      for (int k = 0; k < NT; ++k) sumi[k] = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        // 64 elements: low nibbles (sub-block 2c), then high nibbles (sub-block 2c + 1).
        const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
        const __m256i lo = _mm256_and_si256(bits, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), low4);
        // Broadcast int16 scale j to every lane: bytes (2j, 2j+1) of each 128-bit half.
        const __m256i sc_lo = _mm256_shuffle_epi8(
            scales16, _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * c))));
        const __m256i sc_hi = _mm256_shuffle_epi8(
            scales16, _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * c + 1))));
        for (int k = 0; k < NT; ++k) {
          const int8_t* x = a.qs[k] + kQK_K * b + 64 * c;
          // u8 (0..15) x s8 pairs fit int16 (<= 3810); times a 6-bit scale fits int32.
          const __m256i p_lo =
              _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
          const __m256i p_hi = _mm256_maddubs_epi16(
              hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32)));
          sumi[k] = _mm256_add_epi32(sumi[k], _mm256_add_epi32(_mm256_madd_epi16(p_lo, sc_lo),
                                                               _mm256_madd_epi16(p_hi, sc_hi)));
        }
      }
      const float d = half_to_float(blk.d), dmin = half_to_float(blk.dmin);
      for (int k = 0; k < NT; ++k) {
        const float da = a.d[k][b];
        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(d * da), _mm256_cvtepi32_ps(sumi[k]), acc[k]);
        // Mins: sum_j m_j * (sums[2j] + sums[2j+1]); hadd forms the per-32 sums in order.
        const __m256i s16 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.sums[k] + 16 * b));
        const __m128i s32 =
            _mm_hadd_epi16(_mm256_castsi256_si128(s16), _mm256_extracti128_si256(s16, 1));
        acc_min[k] = _mm_fmadd_ps(_mm_set1_ps(dmin * da),
                                  _mm_cvtepi32_ps(_mm_madd_epi16(s32, mins16)), acc_min[k]);
      }
    }
    for (int k = 0; k < NT; ++k) t.y[k * t.y_stride + r] = hsum(acc[k]) - hsum128(acc_min[k]);
  }
}

template <int NT>
void q6_k_tile(const GemvTile& t) {
  const Acts a = acts_of(t, ActFormat::Q8_256);
  const int64_t nb = t.cols / kQK_K;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i bits45 = _mm256_set1_epi8(0x30);
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const auto* blocks = reinterpret_cast<const BlockQ6_K*>(t.w + r * t.w_row_bytes);
    __m256 acc[NT];
    for (int k = 0; k < NT; ++k) acc[k] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ6_K& blk = blocks[b];
      __m256i sumi[NT];
      for (int k = 0; k < NT; ++k) sumi[k] = _mm256_setzero_si256();
      for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h));
        const __m256i ql1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
        // Unsigned 6-bit levels 0..63 of the four 32-element quarters of this half; the -32
        // offset is applied below through the activation sums.
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                               _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
        q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                               _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                               _mm256_and_si256(qh, bits45));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                               _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
        for (int j = 0; j < 4; ++j) {
          const int g = 8 * h + 2 * j;  // each quarter spans sub-blocks g and g + 1
          const __m256i scale =
              _mm256_set_m128i(_mm_set1_epi16(blk.scales[g + 1]), _mm_set1_epi16(blk.scales[g]));
          for (int k = 0; k < NT; ++k) {
            const int8_t* x = a.qs[k] + kQK_K * b + 128 * h + 32 * j;
            // u8 (0..63) x s8 pairs fit int16 (<= 16002); times an int8 scale fits int32.
            const __m256i p =
                _mm256_maddubs_epi16(q[j], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
            sumi[k] = _mm256_add_epi32(sumi[k], _mm256_madd_epi16(p, scale));
          }
        }
      }
      const __m256i sc16 =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
      const float d = half_to_float(blk.d);
      for (int k = 0; k < NT; ++k) {
        const __m256i s16 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.sums[k] + 16 * b));
        const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16, s16), 5);  // 32 * sc * sum
        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(d * a.d[k][b]),
                                 _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[k], offset)), acc[k]);
      }
    }
    store_sums<NT>(acc, t, r);
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
  for (int64_t g = 0; g < cols / 16; ++g) {
    // Sign-extend 16 levels to int16 and add them up.
    __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * g)));
    __m128i s = _mm_add_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi16(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi16(s, _mm_srli_epi64(s, 32));
    s = _mm_add_epi16(s, _mm_srli_epi32(s, 16));
    sums[g] = static_cast<int16_t>(_mm_extract_epi16(s, 0));
  }
}

void gemv_f32(const GemvTile& t) { by_tokens<F32Tile>(t); }
void gemv_f16(const GemvTile& t) { by_tokens<F16Tile>(t); }
void gemv_bf16(const GemvTile& t) { by_tokens<BF16Tile>(t); }
void gemv_q8_0(const GemvTile& t) { by_tokens<Q8_0Tile>(t); }
void gemv_q4_0(const GemvTile& t) { by_tokens<Q4_0Tile>(t); }
void gemv_q4_k(const GemvTile& t) { by_tokens<Q4_KTile>(t); }
void gemv_q6_k(const GemvTile& t) { by_tokens<Q6_KTile>(t); }

}  // namespace hearth::cpu::avx2
