// Q4_K's packed 6-bit sub-block scales and mins of 16 interleaved rows (packed.h: byte q of
// the 16 rows' 12 scale bytes at scales + 16 q), unpacked with byte-vector ops, one lane per
// row. Shared by the AVX-512 and AMX Q4_K kernels, which must agree bit for bit; `static`:
// each including file (compiled with its own ISA flags) keeps its own copy.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace hearth::cpu::x86 {

// Sub-block j's (0..7) scale (want_min false) or min (true) of the 16 rows, as u8 lanes.
static inline __m128i q4k_scale_bytes(const uint8_t* scales, int j, bool want_min) {
  auto S = [&](int q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * q)); };
  const __m128i low6 = _mm_set1_epi8(63), low4 = _mm_set1_epi8(0x0F), top2 = _mm_set1_epi8(3);
  if (j < 4) return _mm_and_si128(S(want_min ? j + 4 : j), low6);
  const __m128i lo = want_min ? _mm_and_si128(_mm_srli_epi16(S(j + 4), 4), low4)
                              : _mm_and_si128(S(j + 4), low4);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(S(want_min ? j : j - 4), 6), top2);
  return _mm_or_si128(lo, _mm_slli_epi16(hi, 4));
}

// The 16 rows' float scale d * sc_j (want_min false) or min dmin * m_j (true), given
// d (or dmin) widened to float lanes.
static inline __m512 q4k_scale(__m512 d, const uint8_t* scales, int j, bool want_min) {
  return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q4k_scale_bytes(scales, j, want_min))));
}

}  // namespace hearth::cpu::x86
