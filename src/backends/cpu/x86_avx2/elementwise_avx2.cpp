// AVX2 row-wise float ops and the AVX2 kernel table. Tails shorter than a vector go through
// a padded 8-float buffer rather than scalar libm calls, so nothing here depends on inline
// library code compiled with AVX2 flags.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/generic/generic_kernels.h"
#include "backends/cpu/x86_avx2/avx2_kernels.h"

namespace hearth::cpu::avx2 {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The last n < 8 elements, padded with `pad`.
__m256 load_tail(const float* p, int64_t n, float pad) {
  alignas(32) float buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = i < n ? p[i] : pad;
  return _mm256_load_ps(buf);
}
void store_tail(float* p, __m256 v, int64_t n) {
  alignas(32) float buf[8];
  _mm256_store_ps(buf, v);
  for (int i = 0; i < n; ++i) p[i] = buf[i];
}

// e^x for float32 lanes, Cephes-style: x = n ln2 + r with |r| <= ln2/2, e^r from a degree-5
// minimax polynomial (relative error ~2e-7), times 2^n built in the exponent field.
// Inputs are clamped to [-88.37, 88]: below, the result is 0 (true value < 2^-127); above
// 88 it would overflow the 2^n construction (e^88 ~ 1.7e38 is returned instead of inf).
__m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_floor_ps(
      _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  // r = x - n*ln2, with ln2 split in a part exact in float and a correction.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

__m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
}

}  // namespace

void rmsnorm_row(const float* x, const float* weight, float* y, int64_t dim, float eps) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    for (int u = 0; u < 4; ++u) {
      const __m256 v = _mm256_loadu_ps(x + i + 8 * u);
      acc[u] = _mm256_fmadd_ps(v, v, acc[u]);
    }
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    acc[0] = _mm256_fmadd_ps(v, v, acc[0]);
  }
  if (i < dim) {
    const __m256 v = load_tail(x + i, dim - i, 0.0f);
    acc[1] = _mm256_fmadd_ps(v, v, acc[1]);
  }
  const float ss =
      hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  const __m256 scale = _mm256_set1_ps(
      1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(ss / static_cast<float>(dim) + eps))));
  for (i = 0; i + 8 <= dim; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), scale),
                                          _mm256_loadu_ps(weight + i)));
  if (i < dim)
    store_tail(y + i,
               _mm256_mul_ps(_mm256_mul_ps(load_tail(x + i, dim - i, 0.0f), scale),
                             load_tail(weight + i, dim - i, 0.0f)),
               dim - i);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(out + i, silu_mul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < count)
    store_tail(out + i,
               silu_mul8(load_tail(gate + i, count - i, 0.0f), load_tail(up + i, count - i, 0.0f)),
               count - i);
}

void add(float* acc, const float* x, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i), _mm256_loadu_ps(x + i)));
  for (; i < count; ++i) acc[i] += x[i];
}

void softmax(float* x, int64_t n) {
  const float neg_inf = -__builtin_inff();
  __m256 vmax = _mm256_set1_ps(neg_inf);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  if (i < n) vmax = _mm256_max_ps(vmax, load_tail(x + i, n - i, neg_inf));
  const float max = hmax(vmax);
  if (max == neg_inf) {  // all masked: the limit of equal logits is uniform
    const float u = 1.0f / static_cast<float>(n);
    for (int64_t j = 0; j < n; ++j) x[j] = u;
    return;
  }
  const __m256 m = _mm256_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    const __m256 e = exp256(_mm256_sub_ps(load_tail(x + i, n - i, neg_inf), m));  // pad -> 0
    store_tail(x + i, e, n - i);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / hsum(sum));
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  for (; i < n; ++i) x[i] *= _mm_cvtss_f32(_mm256_castps256_ps128(inv));
}


uint64_t read_stream(const uint8_t* p, int64_t n, int64_t prefetch_ahead) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 128 <= n; i += 128) {
    if (prefetch_ahead > 0) {
      _mm_prefetch(reinterpret_cast<const char*>(p + i + prefetch_ahead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p + i + prefetch_ahead + 64), _MM_HINT_T0);
    }
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  for (; i < n; i += 32)
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
  const __m256i x = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), x);
  return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3];
}


float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float s = _mm_cvtss_f32(h);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

namespace {

// Eight half floats (vcvtph2ps); the last n % 8 through a zero-padded copy.
void widen_f16(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  if (i < n) {
    alignas(16) uint16_t in[8] = {};
    alignas(32) float out[8];
    std::memcpy(in, x + i, static_cast<size_t>(n - i) * sizeof(uint16_t));
    _mm256_store_ps(out, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(in))));
    std::memcpy(y + i, out, static_cast<size_t>(n - i) * sizeof(float));
  }
}

// Rows are widened in chunks of this many floats on the stack (no allocation here: an inline
// library template instantiated in this file could be linked into generic callers).
constexpr int64_t kWidenChunk = 256;

}  // namespace

// Each half-float row is widened once (chunk by chunk), then the float dot / axpy for every
// head of the group.
void attn_scores_f16(const float* q, int64_t group, int64_t dim, const uint16_t* k,
                     int64_t stride, int64_t n, float scale, float* scores, int64_t s_stride) {
  alignas(32) float row[kWidenChunk];
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t g = 0; g < group; ++g) scores[g * s_stride + p] = 0.0f;
    for (int64_t c = 0; c < dim; c += kWidenChunk) {
      const int64_t len = std::min(kWidenChunk, dim - c);
      widen_f16(k + p * stride + c, row, len);
      for (int64_t g = 0; g < group; ++g) scores[g * s_stride + p] += dot(q + g * dim + c, row, len);
    }
    for (int64_t g = 0; g < group; ++g) scores[g * s_stride + p] *= scale;
  }
}

void attn_values_f16(const float* w, int64_t w_stride, int64_t group, int64_t dim,
                     const uint16_t* v, int64_t stride, int64_t n, float* out) {
  alignas(32) float row[kWidenChunk];
  for (int64_t p = 0; p < n; ++p)
    for (int64_t c = 0; c < dim; c += kWidenChunk) {
      const int64_t len = std::min(kWidenChunk, dim - c);
      widen_f16(v + p * stride + c, row, len);
      for (int64_t g = 0; g < group; ++g) axpy(w[g * w_stride + p], row, out + g * dim + c, len);
    }
}

void to_f16(const float* x, uint16_t* y, int64_t n) {
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), kNearest));
  if (i < n) {
    alignas(32) float in[8] = {};
    alignas(16) uint16_t out[8];
    std::memcpy(in, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm_store_si128(reinterpret_cast<__m128i*>(out), _mm256_cvtps_ph(_mm256_load_ps(in), kNearest));
    std::memcpy(y + i, out, static_cast<size_t>(n - i) * sizeof(uint16_t));
  }
}

}  // namespace hearth::cpu::avx2

namespace hearth::cpu {

constinit const KernelTable kAvx2Kernels = {
    Isa::Avx2,
    "avx2",
    {avx2::gemv_f32, ActFormat::F32, "fma"},
    {avx2::gemv_f16, ActFormat::F32, "f16c + fma"},
    {avx2::gemv_bf16, ActFormat::F32, "shift-convert + fma"},
    {avx2::gemv_q8_0, ActFormat::Q8_32, "int8 dot (maddubs)"},
    {avx2::gemv_q4_0, ActFormat::Q8_256, "int8 dot (maddubs)"},
    {avx2::gemv_q4_k, ActFormat::Q8_256, "int8 dot (maddubs)"},
    {avx2::gemv_q6_k, ActFormat::Q8_256, "int8 dot (maddubs)"},
    avx2::quantize_act_q8_32,
    avx2::quantize_act_q8_256,
    avx2::rmsnorm_row,
    avx2::silu_mul,
    avx2::add,
    avx2::softmax,
    avx2::read_stream,
    avx2::dot,
    avx2::axpy,
    generic::attn_scores,  // portable runs over generic dot/axpy
    generic::attn_values,
    avx2::attn_scores_f16,
    avx2::attn_values_f16,
    avx2::to_f16,
};

}  // namespace hearth::cpu
