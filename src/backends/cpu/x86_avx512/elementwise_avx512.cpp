// AVX-512 row-wise float ops and the AVX-512 kernel table. Tails use masked loads/stores.
// GCC 12's AVX-512 headers make "undefined" vectors as `__m512 __Y = __Y;`, which trips
// -W(maybe-)uninitialized wherever a reduction or cast intrinsic is inlined; no such value is
// ever read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "backends/cpu/x86_avx512/avx512_kernels.h"

namespace hearth::cpu::avx512 {
namespace {

__mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }

// e^x for float32 lanes: x = n ln2 + r with |r| <= ln2/2, e^r from Cephes' degree-5
// polynomial (relative error ~2e-7), scaled by 2^n with vscalefps (which also handles the
// subnormal range). Inputs are clamped to [-88.37, 88]: e^-88.37 ~ 4e-39, e^88 ~ 1.7e38.
__m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.3762626647949f)), _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(
      _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f)),
      _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

__m512 silu_mul16(__m512 g, __m512 u) {
  const __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

}  // namespace

void rmsnorm_row(const float* x, const float* weight, float* y, int64_t dim, float eps) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    for (int u = 0; u < 4; ++u) {
      const __m512 v = _mm512_loadu_ps(x + i + 16 * u);
      acc[u] = _mm512_fmadd_ps(v, v, acc[u]);
    }
  }
  for (; i + 16 <= dim; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    acc[0] = _mm512_fmadd_ps(v, v, acc[0]);
  }
  if (i < dim) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(dim - i), x + i);
    acc[1] = _mm512_fmadd_ps(v, v, acc[1]);
  }
  const float ss = _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
  const __m512 scale = _mm512_set1_ps(
      1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(ss / static_cast<float>(dim) + eps))));
  for (i = 0; i + 16 <= dim; i += 16)
    _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), scale),
                                          _mm512_loadu_ps(weight + i)));
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), scale),
                                        _mm512_maskz_loadu_ps(m, weight + i)));
  }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t count) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(out + i, silu_mul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  if (i < count) {
    const __mmask16 m = tail_mask(count - i);
    _mm512_mask_storeu_ps(
        out + i, m,
        silu_mul16(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

void add(float* acc, const float* x, int64_t count) {
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(acc + i, _mm512_add_ps(_mm512_loadu_ps(acc + i), _mm512_loadu_ps(x + i)));
  if (i < count) {
    const __mmask16 m = tail_mask(count - i);
    _mm512_mask_storeu_ps(
        acc + i, m,
        _mm512_add_ps(_mm512_maskz_loadu_ps(m, acc + i), _mm512_maskz_loadu_ps(m, x + i)));
  }
}

void softmax(float* x, int64_t n) {
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 vmax = neg_inf;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
  const __mmask16 tail = tail_mask(n - i);
  if (i < n) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(neg_inf, tail, x + i));
  const float max = _mm512_reduce_max_ps(vmax);
  if (max == -__builtin_inff()) {  // all masked: the limit of equal logits is uniform
    const __m512 u = _mm512_set1_ps(1.0f / static_cast<float>(n));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, u);
    if (i < n) _mm512_mask_storeu_ps(x + i, tail, u);
    return;
  }
  const __m512 m = _mm512_set1_ps(max);
  __m512 sum = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
    _mm512_storeu_ps(x + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (i < n) {
    const __m512 e =
        exp512(_mm512_sub_ps(_mm512_mask_loadu_ps(neg_inf, tail, x + i), m));  // pad -> 0
    _mm512_mask_storeu_ps(x + i, tail, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for (i = 0; i + 16 <= n; i += 16)
    _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n)
    _mm512_mask_storeu_ps(x + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), inv));
}


uint64_t read_stream(const uint8_t* p, int64_t n, int64_t prefetch_ahead) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 256 <= n; i += 256) {
    if (prefetch_ahead > 0)
      for (int l = 0; l < 256; l += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p + i + prefetch_ahead + l), _MM_HINT_T0);
    a0 = _mm512_xor_si512(a0, _mm512_load_si512(p + i));
    a1 = _mm512_xor_si512(a1, _mm512_load_si512(p + i + 64));
    a2 = _mm512_xor_si512(a2, _mm512_load_si512(p + i + 128));
    a3 = _mm512_xor_si512(a3, _mm512_load_si512(p + i + 192));
  }
  for (; i < n; i += 64) a0 = _mm512_xor_si512(a0, _mm512_load_si512(p + i));
  const __m512i x = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
  return static_cast<uint64_t>(_mm512_reduce_or_epi64(x));
}


namespace {

// Sixteen elements of a float row, or of a half-float row widened exactly (an F16 KV cache):
// the attention loops below are written once for both.
__m512 load16(const float* p) { return _mm512_loadu_ps(p); }
__m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
__m512 load16(__mmask16 m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
__m512 load16(__mmask16 m, const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

template <typename T>
float dot_of(const float* a, const T* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load16(b + i + 16), s1);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(b + i), s0);
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), load16(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

template <typename T>
void axpy_of(float a, const T* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, load16(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, load16(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

}  // namespace

float dot(const float* a, const float* b, int64_t n) { return dot_of(a, b, n); }
void axpy(float a, const float* x, float* y, int64_t n) { axpy_of(a, x, y, n); }

namespace {

// The 16 sums of a[h][k] (4 heads x 4 keys, each a 16-lane partial dot product), as one
// vector whose 128-bit lane h holds head h's 4 keys: a transpose-add tree, 30 shuffles and 15
// adds for 16 sums.
__m512 reduce_4x4(const __m512 (&a)[4][4]) {
  __m512 x[4];
  for (int h = 0; h < 4; ++h) {
    const __m512 u = _mm512_add_ps(_mm512_unpacklo_ps(a[h][0], a[h][1]), _mm512_unpackhi_ps(a[h][0], a[h][1]));
    const __m512 v = _mm512_add_ps(_mm512_unpacklo_ps(a[h][2], a[h][3]), _mm512_unpackhi_ps(a[h][2], a[h][3]));
    // Per 128-bit lane: keys 0..3, a quarter of each dot product.
    x[h] = _mm512_add_ps(_mm512_shuffle_ps(u, v, 0x44), _mm512_shuffle_ps(u, v, 0xEE));
  }
  const __m512 y01 = _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x44), _mm512_shuffle_f32x4(x[0], x[1], 0xEE));
  const __m512 y23 = _mm512_add_ps(_mm512_shuffle_f32x4(x[2], x[3], 0x44), _mm512_shuffle_f32x4(x[2], x[3], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(y01, y23, 0x88), _mm512_shuffle_f32x4(y01, y23, 0xDD));
}

// Scores of 4 heads (qg, rows dim apart) against 4 keys (kp, rows stride apart): the 4 query
// and 4 key chunks of each 16 columns are loaded once for 16 multiply-adds.
template <typename T>
void scores_4x4(const float* qg, int64_t dim, const T* kp, int64_t stride, float scale,
                float* out, int64_t s_stride) {
  __m512 a[4][4];
  for (auto& row : a)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t i = 0; i < dim; i += 16) {
    __m512 qv[4], kv[4];
    for (int h = 0; h < 4; ++h) qv[h] = _mm512_loadu_ps(qg + h * dim + i);
    for (int k = 0; k < 4; ++k) kv[k] = load16(kp + k * stride + i);
    for (int h = 0; h < 4; ++h)
      for (int k = 0; k < 4; ++k) a[h][k] = _mm512_fmadd_ps(qv[h], kv[k], a[h][k]);
  }
  const __m512 s = _mm512_mul_ps(reduce_4x4(a), _mm512_set1_ps(scale));
  _mm_storeu_ps(out, _mm512_castps512_ps128(s));
  _mm_storeu_ps(out + s_stride, _mm512_extractf32x4_ps(s, 1));
  _mm_storeu_ps(out + 2 * s_stride, _mm512_extractf32x4_ps(s, 2));
  _mm_storeu_ps(out + 3 * s_stride, _mm512_extractf32x4_ps(s, 3));
}

// out[h] += sum_p w[h][p] v[p] for H heads with dim = 16 * NV: H * NV <= 16 accumulators, so
// every multiply-add of a position is independent of the others (no latency chain) and each
// value row is loaded once for all H heads.
template <int NV, int H, typename T>
void values_heads(const float* w, int64_t w_stride, const T* v, int64_t stride, int64_t n,
                  float* out) {
  static_assert(NV * H <= 16);
  constexpr int64_t dim = 16 * NV;
  __m512 acc[H][NV];
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < NV; ++i) acc[h][i] = _mm512_loadu_ps(out + h * dim + 16 * i);
  for (int64_t p = 0; p < n; ++p) {
    const T* vp = v + p * stride;
    __m512 vv[NV];
    for (int i = 0; i < NV; ++i) vv[i] = load16(vp + 16 * i);
    for (int h = 0; h < H; ++h) {
      const __m512 wp = _mm512_set1_ps(w[h * w_stride + p]);
      for (int i = 0; i < NV; ++i) acc[h][i] = _mm512_fmadd_ps(wp, vv[i], acc[h][i]);
    }
  }
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < NV; ++i) _mm512_storeu_ps(out + h * dim + 16 * i, acc[h][i]);
}

template <int NV, typename T>
void values_group(const float* w, int64_t w_stride, int64_t group, const T* v, int64_t stride,
                  int64_t n, float* out) {
  constexpr int H = NV >= 16 ? 1 : 16 / NV > 4 ? 4 : 16 / NV;  // heads per pass
  int64_t g = 0;
  for (; g + H <= group; g += H)
    values_heads<NV, H>(w + g * w_stride, w_stride, v, stride, n, out + g * 16 * NV);
  for (; g < group; ++g) values_heads<NV, 1>(w + g * w_stride, w_stride, v, stride, n, out + g * 16 * NV);
}

template <typename T>
void scores_of(const float* q, int64_t group, int64_t dim, const T* k, int64_t stride, int64_t n,
               float scale, float* scores, int64_t s_stride) {
  // Four query heads x four keys at a time (head sizes a multiple of 16); the last keys and
  // heads take dot_of().
  int64_t g0 = 0;
  for (; dim % 16 == 0 && g0 + 4 <= group; g0 += 4) {
    const float* qg = q + g0 * dim;
    int64_t p = 0;
    for (; p + 4 <= n; p += 4) scores_4x4(qg, dim, k + p * stride, stride, scale, scores + g0 * s_stride + p, s_stride);
    for (; p < n; ++p)
      for (int h = 0; h < 4; ++h) scores[(g0 + h) * s_stride + p] = scale * dot_of(qg + h * dim, k + p * stride, dim);
  }
  for (int64_t g = g0; g < group; ++g)
    for (int64_t p = 0; p < n; ++p) scores[g * s_stride + p] = scale * dot_of(q + g * dim, k + p * stride, dim);
}

// Head sizes that are a multiple of 16 up to 256 keep the output rows of a few heads in
// registers over the run; other sizes take axpy_of.
template <typename T>
void values_of(const float* w, int64_t w_stride, int64_t group, int64_t dim, const T* v,
               int64_t stride, int64_t n, float* out) {
  switch (dim % 16 == 0 ? dim / 16 : 0) {
    case 1: return values_group<1>(w, w_stride, group, v, stride, n, out);
    case 2: return values_group<2>(w, w_stride, group, v, stride, n, out);
    case 3: return values_group<3>(w, w_stride, group, v, stride, n, out);
    case 4: return values_group<4>(w, w_stride, group, v, stride, n, out);
    case 5: return values_group<5>(w, w_stride, group, v, stride, n, out);
    case 6: return values_group<6>(w, w_stride, group, v, stride, n, out);
    case 7: return values_group<7>(w, w_stride, group, v, stride, n, out);
    case 8: return values_group<8>(w, w_stride, group, v, stride, n, out);
    case 16: return values_group<16>(w, w_stride, group, v, stride, n, out);
    default:
      for (int64_t p = 0; p < n; ++p)
        for (int64_t g = 0; g < group; ++g) axpy_of(w[g * w_stride + p], v + p * stride, out + g * dim, dim);
  }
}

}  // namespace

void attn_scores(const float* q, int64_t group, int64_t dim, const float* k, int64_t stride,
                 int64_t n, float scale, float* scores, int64_t s_stride) {
  scores_of(q, group, dim, k, stride, n, scale, scores, s_stride);
}
void attn_values(const float* w, int64_t w_stride, int64_t group, int64_t dim, const float* v,
                 int64_t stride, int64_t n, float* out) {
  values_of(w, w_stride, group, dim, v, stride, n, out);
}
void attn_scores_f16(const float* q, int64_t group, int64_t dim, const uint16_t* k,
                     int64_t stride, int64_t n, float scale, float* scores, int64_t s_stride) {
  scores_of(q, group, dim, k, stride, n, scale, scores, s_stride);
}
void attn_values_f16(const float* w, int64_t w_stride, int64_t group, int64_t dim,
                     const uint16_t* v, int64_t stride, int64_t n, float* out) {
  values_of(w, w_stride, group, dim, v, stride, n, out);
}

void to_f16(const float* x, uint16_t* y, int64_t n) {
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), kNearest));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(y + i, m, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), kNearest));
  }
}

}  // namespace hearth::cpu::avx512

namespace hearth::cpu {

constinit const KernelTable kAvx512Kernels = avx512::table();

}  // namespace hearth::cpu
