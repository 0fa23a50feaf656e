// AMX-BF16 products of interleaved weights (packed.h: F16, BF16, Q8_0, Q4_0, Q4_K) with a batch
// of activations: prompt processing, and batched decode for the float types.
//
// The weights are widened into bf16 B tiles (one tile = 32 columns x 16 rows, stored as pairs
// of columns) in a per-thread buffer, 512 columns at a time, and the products accumulate in
// float inside the C tiles: no per-block work outside the tile unit, which is what lets a
// long prompt run near the unit's rate (one tdpbf16ps = 8192 multiply-adds).
//
// Precision: bf16 holds 8 significant bits, so each activation is carried as bf16 hi + lo
// (16 bits: hi = bf16(x), lo = bf16(x - hi)) where the weights are exact: BF16 weights take
// hi*w + lo*w; F16 weights (11 bits) are split hi + lo exactly as well and take all four
// products (lo*lo is up to 2^-18 of a product: dropping it would put single outputs past the
// float tolerance) — about 2^-18 relative error per product, near the float kernels'. Quantized weights are rounded to bf16 (2^-9 of each
// weight, below a quarter of their own quantization step) and take hi*w only: still several
// times closer to the exact product than the int8 activations of the single-token kernels.
//
// Blocking: with more than 32 tokens the columns go in blocks of 512 (the activations of one
// block, every token, stay in L2 while all row groups pass); per block and pair of row groups
// the B tiles are built once, then every pair of 16-token tiles runs its 4 C tiles over the
// block (C tile (t, g) = tile 2t + g; A tiles 4, 5; B tiles 6, 7), reading its partial sums
// from y and writing them back. With at most 32 tokens, each pair of row groups runs through
// all its columns with the C tiles held, streaming the weights once.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/x86_amx/amx_kernels.h"
#include "backends/cpu/x86_amx/amx_tiles.h"
#include "backends/cpu/x86_amx/packed_blocks.h"
#include "backends/cpu/x86_avx512/q4k_scales.h"

namespace hearth::cpu::amx {
namespace {

constexpr TileConfig kBf16Config = TileConfig{}
                                       .tile(0, 16, 64)
                                       .tile(1, 16, 64)
                                       .tile(2, 16, 64)
                                       .tile(3, 16, 64)
                                       .tile(4, 16, 64)
                                       .tile(5, 16, 64)
                                       .tile(6, 16, 64)
                                       .tile(7, 16, 64);

constexpr int64_t kTileBytes = 1024;
constexpr int64_t kStepsPerBlock = 16;  // k-steps of 32 columns per column block
constexpr int64_t kPrefetchAhead = 2048;

__m512 widen_bf16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
__m512i to_bf16(__m512 low, __m512 high) {  // words 0..15 from low, 16..31 from high
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(high, low));
}

// ---------------------------------------------------------------- B tiles from each layout
// A B tile's row r holds columns 2r and 2r + 1 of the 16 rows as pairs: word 2n + c is row n's
// column 2r + c. build(group, cols, s, hi, lo) writes k-step s's tile (columns 32 s .. 32 s + 31;
// zeros past the matrix).

// Float types: the group stores column k's 16 rows at k * 32, so two columns are 64 contiguous
// bytes and one word permutation pairs them up.
template <bool kF16>
struct FloatWeights {
  static constexpr bool kSplitW = kF16;
  static constexpr bool kSplitX = true;
  static int64_t group_bytes(int64_t cols) { return cols * 32; }
  static void prefetch(const uint8_t* group, int64_t s) { prefetch_range(group + s * 1024 + kPrefetchAhead, 1024); }
  static void build(const uint8_t* group, int64_t cols, int64_t s, uint8_t* hi, uint8_t* lo) {
    alignas(64) static constexpr uint16_t kPairs[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                                       21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                                       11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i pairs = _mm512_load_si512(kPairs);
    for (int r = 0; r < 16; ++r) {
      const int64_t k = 32 * s + 2 * r;
      __m512i v;
      if (k + 1 < cols)
        v = _mm512_loadu_si512(group + k * 32);
      else if (k < cols)
        v = _mm512_maskz_loadu_epi16(0xFFFF, group + k * 32);
      else
        v = _mm512_setzero_si512();
      const __m512i p = _mm512_permutexvar_epi16(pairs, v);
      if constexpr (!kF16) {
        _mm512_store_si512(hi + 64 * r, p);
      } else {
        // hi: the value rounded to bf16 in integer steps (half away from zero: add half an
        // ulp, keep the top 16 bits), so its conversion below is exact; lo: the rest, at most
        // half a bf16 ulp, whose 3 or 4 bits bf16 holds exactly.
        const __m512 low = _mm512_cvtph_ps(_mm512_castsi512_si256(p));
        const __m512 high = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(p, 1));
        const __m512i half = _mm512_set1_epi32(0x8000), top = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
        auto round_hi = [&](__m512 v) {
          return _mm512_castsi512_ps(_mm512_and_si512(_mm512_add_epi32(_mm512_castps_si512(v), half), top));
        };
        const __m512 low_hi = round_hi(low), high_hi = round_hi(high);
        _mm512_store_si512(hi + 64 * r, to_bf16(low_hi, high_hi));
        _mm512_store_si512(lo + 64 * r,
                           to_bf16(_mm512_sub_ps(low, low_hi), _mm512_sub_ps(high, high_hi)));
      }
    }
  }
};

// Quantized types: a 32-column unit is 8 k-steps of 16 rows x 4 levels (64 bytes each). A
// k-step's even 16-bit words are columns (4q, 4q + 1) of every row, its odd words columns
// (4q + 2, 4q + 3): the B rows 2q and 2q + 1. Values are level * scale + bias per row, with
// the 16 rows' scale and bias duplicated into pair lanes (lane j belongs to row j / 2).
struct RowPairs {
  __m512 scale_lo, scale_hi, bias_lo, bias_hi;  // rows 0..7 and 8..15
  RowPairs(__m512 scale, __m512 bias) {
    const __m512i lo = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    scale_lo = _mm512_permutexvar_ps(lo, scale);
    scale_hi = _mm512_permutexvar_ps(hi, scale);
    bias_lo = _mm512_permutexvar_ps(lo, bias);
    bias_hi = _mm512_permutexvar_ps(hi, bias);
  }
  // One B row from 32 levels (bytes, pairs of the 16 rows).
  __m512i row(__m256i levels) const {
    const __m512 low = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(levels)));
    const __m512 high = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(levels, 1)));
    return to_bf16(_mm512_fmadd_ps(low, scale_lo, bias_lo), _mm512_fmadd_ps(high, scale_hi, bias_hi));
  }
  // B rows 2q and 2q + 1 from a k-step of levels.
  void k_step(__m512i levels, uint8_t* tile, int q) const {
    _mm512_store_si512(tile + 128 * q, row(_mm512_cvtepi32_epi16(levels)));
    _mm512_store_si512(tile + 128 * q + 64, row(_mm512_cvtepi32_epi16(_mm512_srli_epi32(levels, 16))));
  }
};

__m512 load_f16x16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Levels 0..15 of 4 chunks: chunk c's low nibbles are k-step 2c, its high nibbles 2c + 1.
void nibble_steps(const uint8_t* chunks, const RowPairs& rp, uint8_t* tile) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int c = 0; c < 4; ++c) {
    const __m512i raw = _mm512_loadu_si512(chunks + 64 * c);
    rp.k_step(_mm512_and_si512(raw, low4), tile, 2 * c);
    rp.k_step(_mm512_and_si512(_mm512_srli_epi16(raw, 4), low4), tile, 2 * c + 1);
  }
}

struct Q8_0Weights {  // stored value + 128
  static constexpr bool kSplitW = false, kSplitX = false;
  static int64_t group_bytes(int64_t cols) { return cols / 32 * kQ8_0GroupBlockBytes; }
  static void prefetch(const uint8_t* group, int64_t s) {
    prefetch_range(group + s * kQ8_0GroupBlockBytes + kPrefetchAhead, kQ8_0GroupBlockBytes);
  }
  static void build(const uint8_t* group, int64_t, int64_t s, uint8_t* hi, uint8_t*) {
    const uint8_t* unit = group + s * kQ8_0GroupBlockBytes;
    const __m512 d = load_f16x16(unit);
    const RowPairs rp(d, _mm512_mul_ps(d, _mm512_set1_ps(-128.0f)));
    for (int q = 0; q < 8; ++q) rp.k_step(_mm512_loadu_si512(unit + 32 + 64 * q), hi, q);
  }
};

struct Q4_0Weights {  // stored level = value + 8
  static constexpr bool kSplitW = false, kSplitX = false;
  static int64_t group_bytes(int64_t cols) { return cols / 32 * kQ4_0GroupBlockBytes; }
  static void prefetch(const uint8_t* group, int64_t s) {
    prefetch_range(group + s * kQ4_0GroupBlockBytes + kPrefetchAhead, kQ4_0GroupBlockBytes);
  }
  static void build(const uint8_t* group, int64_t, int64_t s, uint8_t* hi, uint8_t*) {
    const uint8_t* unit = group + s * kQ4_0GroupBlockBytes;
    const __m512 d = load_f16x16(unit);
    nibble_steps(unit + 32, RowPairs(d, _mm512_mul_ps(d, _mm512_set1_ps(-8.0f))), hi);
  }
};

struct Q4_KWeights {  // value = level * d * sc_j - dmin * m_j; k-step s = sub-block 8 sb + j
  static constexpr bool kSplitW = false, kSplitX = false;
  static int64_t group_bytes(int64_t cols) { return cols / 256 * kQ4kGroupBytes; }
  static void prefetch(const uint8_t* group, int64_t s) {
    if (s % 8 == 0) prefetch_range(group + s / 8 * kQ4kGroupBytes + kPrefetchAhead, kQ4kGroupBytes);
  }
  static void build(const uint8_t* group, int64_t, int64_t s, uint8_t* hi, uint8_t*) {
    const uint8_t* base = group + s / 8 * kQ4kGroupBytes;
    const int j = static_cast<int>(s % 8);
    const __m512 scale = x86::q4k_scale(load_f16x16(base), base + kQ4kScalesOffset, j, false);
    const __m512 min = x86::q4k_scale(load_f16x16(base + 32), base + kQ4kScalesOffset, j, true);
    nibble_steps(base + kQ4kLevelsOffset + j * 256,
                 RowPairs(scale, _mm512_sub_ps(_mm512_setzero_ps(), min)), hi);
  }
};

// ---------------------------------------------------------------- the tile loops
// One C tile's home in y: direct when all 16 tokens exist, else a bounce buffer whose valid
// rows are copied from and back to y.
struct CTile {
  float* y;
  int64_t y_stride;
  int64_t n_valid;
  float* bounce;  // 16 x 16

  float* base() const { return n_valid == 16 ? y : bounce; }
  int64_t stride_bytes() const { return (n_valid == 16 ? y_stride : 16) * 4; }
  void copy_in() const {
    if (n_valid < 16)
      for (int64_t m = 0; m < n_valid; ++m) std::memcpy(bounce + 16 * m, y + m * y_stride, 64);
    compiler_fence();
  }
  void copy_out() const {
    if (n_valid < 16)
      for (int64_t m = 0; m < n_valid; ++m) std::memcpy(y + m * y_stride, bounce + 16 * m, 64);
  }
};

template <int C>
void c_begin(const CTile& c, bool zero) {
  if (zero) return tile_zero<C>();
  c.copy_in();
  tile_load<C>(c.base(), c.stride_bytes());
}
template <int C>
void c_end(const CTile& c) {
  tile_store<C>(c.base(), c.stride_bytes());
  c.copy_out();
}

template <int NT, int NG>
struct Tiles {
  template <typename Fn>
  static void each(const CTile (&c)[2][2], Fn&& fn) {
    fn(std::integral_constant<int, 0>{}, c[0][0]);
    if constexpr (NG == 2) fn(std::integral_constant<int, 1>{}, c[0][1]);
    if constexpr (NT == 2) fn(std::integral_constant<int, 2>{}, c[1][0]);
    if constexpr (NT == 2 && NG == 2) fn(std::integral_constant<int, 3>{}, c[1][1]);
  }
};

// The prepared activations: A tiles [k-step][token][32 bf16] (one tile = 16 tokens of one
// k-step, 1 KiB contiguous), all hi values, then all lo values. Padding tokens and columns
// are zeros.
struct Bf16Acts {
  int64_t m_pad, n_steps;
  Bf16Acts(int64_t n_tokens, int64_t cols) : m_pad((n_tokens + 15) / 16 * 16), n_steps((cols + 31) / 32) {}
  int64_t half_bytes() const { return n_steps * m_pad * 64; }
  int64_t bytes() const { return 2 * half_bytes(); }
  int64_t step_bytes() const { return m_pad * 64; }
  int64_t offset(int64_t step, int64_t token) const { return (step * m_pad + token) * 64; }
};

// Operands of the k-steps [0, n_steps) of one column block (or all columns).
struct StepArgs {
  const uint8_t* a;     // token tile 0's hi A tile at the first k-step
  int64_t a_step;       // bytes from one k-step's A tiles to the next's
  int64_t lo_offset;    // lo activations = hi + lo_offset
  const uint8_t* b_hi;  // [step][group of the pair] tiles
  const uint8_t* b_lo;  // F16 only
  int64_t n_steps;
};

// One k-step's products: a = token tile 0's hi A tile, b_hi / b_lo = the pair of groups' B
// tiles (the B tiles are read as 1 KiB objects, so the stores that built them stay first).
template <int NT, int NG, bool kSplitW, bool kSplitX>
[[gnu::always_inline]] inline void run_step(const uint8_t* a, int64_t lo_offset,
                                            const uint8_t* bh, const uint8_t* bl) {
  auto load_a = [&](int64_t off) __attribute__((always_inline)) {
    tile_load<4>(a + off, 64);
    if constexpr (NT == 2) tile_load<5>(a + kTileBytes + off, 64);  // token tile 1
  };
  auto load_b = [&](const uint8_t* b) __attribute__((always_inline)) {
    tile_load_dense<6, kTileBytes>(b, 64);
    if constexpr (NG == 2) tile_load_dense<7, kTileBytes>(b + kTileBytes, 64);
  };
  auto products = [&] __attribute__((always_inline)) {
    tile_dp_bf16<0, 4, 6>();
    if constexpr (NG == 2) tile_dp_bf16<1, 4, 7>();
    if constexpr (NT == 2) tile_dp_bf16<2, 5, 6>();
    if constexpr (NT == 2 && NG == 2) tile_dp_bf16<3, 5, 7>();
  };
  load_a(0);
  load_b(bh);
  products();  // x hi * w (hi)
  if constexpr (kSplitW) {
    load_b(bl);
    products();  // x hi * w lo
  }
  if constexpr (kSplitX) {
    load_a(lo_offset);
    if constexpr (kSplitW) {
      products();  // x lo * w lo
      load_b(bh);
    }
    products();  // x lo * w hi
  }
}

template <int NT, int NG, bool kSplitW, bool kSplitX>
void run_steps(const StepArgs& p) {
  for (int64_t i = 0; i < p.n_steps; ++i)
    run_step<NT, NG, kSplitW, kSplitX>(p.a + p.a_step * i, p.lo_offset, p.b_hi + i * 2 * kTileBytes,
                                       p.b_lo + i * 2 * kTileBytes);
}

template <typename W>
void gemm_tiles(const PackedGemm& p) {
  use_config(kBf16Config);
  const Bf16Acts acts(p.n_tokens, p.cols);
  const int64_t n_steps = acts.n_steps;
  const int64_t group_bytes = W::group_bytes(p.cols);
  thread_local TileBuffer<uint8_t> b_hi(kStepsPerBlock * 2 * kTileBytes),
      b_lo(kStepsPerBlock * 2 * kTileBytes);
  alignas(64) float bounce[2][2][256];

  // B tiles of the pair of groups at g for k-steps [s0, s0 + ns) into the buffers.
  auto build = [&](int64_t g, int ng, int64_t s0, int64_t ns) {
    for (int64_t i = 0; i < ns; ++i)
      for (int gi = 0; gi < ng; ++gi) {
        const uint8_t* group = p.w + (g + gi) * group_bytes;
        W::prefetch(group, s0 + i);
        W::build(group, p.cols, s0 + i, b_hi.data() + (2 * i + gi) * kTileBytes,
                 b_lo.data() + (2 * i + gi) * kTileBytes);
      }
    compiler_fence();  // written with vector stores, read by tile loads
  };
  auto c_tiles = [&](int64_t t, int64_t g, CTile (&c)[2][2]) {
    for (int ti = 0; ti < 2; ++ti)
      for (int gi = 0; gi < 2; ++gi)
        c[ti][gi] = {p.y + (t + 16 * ti) * p.y_stride + 16 * (g + gi), p.y_stride,
                     std::clamp<int64_t>(p.n_tokens - t - 16 * ti, 0, 16), bounce[ti][gi]};
  };
  // Runs NT x NG C tiles; begin/end: whether the C tiles are loaded/zeroed first and stored
  // after (false: they stay in the tile registers across calls).
  auto run = [&](auto nt, auto ng, const StepArgs& args, const CTile (&c)[2][2], bool begin,
                 bool zero, bool end) {
    using T = Tiles<decltype(nt)::value, decltype(ng)::value>;
    if (begin) T::each(c, [&](auto id, const CTile& ct) { c_begin<decltype(id)::value>(ct, zero); });
    run_steps<decltype(nt)::value, decltype(ng)::value, W::kSplitW, W::kSplitX>(args);
    if (end) T::each(c, [&](auto id, const CTile& ct) { c_end<decltype(id)::value>(ct); });
  };
  auto dispatch = [&](int nt, int ng, auto&&... args) {
    using One = std::integral_constant<int, 1>;
    using Two = std::integral_constant<int, 2>;
    if (nt == 2 && ng == 2) return run(Two{}, Two{}, args...);
    if (nt == 2) return run(Two{}, One{}, args...);
    if (ng == 2) return run(One{}, Two{}, args...);
    return run(One{}, One{}, args...);
  };

  if (p.n_tokens <= 32) {
    // Few tokens: each pair of groups streams through all its columns with the C tiles held,
    // building step s + 1's B tiles (vector units) while step s's products run (tile unit).
    auto stream = [&](auto nt, auto ng, int64_t g, const CTile (&c)[2][2]) {
      constexpr int NT = decltype(nt)::value, NG = decltype(ng)::value;
      using T = Tiles<NT, NG>;
      T::each(c, [&](auto id, const CTile& ct) { c_begin<decltype(id)::value>(ct, true); });
      auto slot = [&](int64_t s, uint8_t* buf) { return buf + (s & 1) * 2 * kTileBytes; };
      auto build_step = [&](int64_t s) __attribute__((always_inline)) {
        for (int gi = 0; gi < NG; ++gi) {
          const uint8_t* group = p.w + (g + gi) * group_bytes;
          W::prefetch(group, s);
          W::build(group, p.cols, s, slot(s, b_hi.data()) + gi * kTileBytes,
                   slot(s, b_lo.data()) + gi * kTileBytes);
        }
      };
      build_step(0);
      for (int64_t s = 0; s < n_steps; ++s) {
        run_step<NT, NG, W::kSplitW, W::kSplitX>(p.act + acts.offset(s, 0), acts.half_bytes(),
                                                 slot(s, b_hi.data()), slot(s, b_lo.data()));
        if (s + 1 < n_steps) build_step(s + 1);
      }
      T::each(c, [&](auto id, const CTile& ct) { c_end<decltype(id)::value>(ct); });
    };
    using One = std::integral_constant<int, 1>;
    using Two = std::integral_constant<int, 2>;
    for (int64_t g = 0; g < p.n_groups; g += 2) {
      CTile c[2][2];
      c_tiles(0, g, c);
      const bool two_t = p.n_tokens > 16, two_g = p.n_groups - g >= 2;
      if (two_t && two_g) stream(Two{}, Two{}, g, c);
      else if (two_t) stream(Two{}, One{}, g, c);
      else if (two_g) stream(One{}, Two{}, g, c);
      else stream(One{}, One{}, g, c);
    }
    return;
  }
  for (int64_t s0 = 0; s0 < n_steps; s0 += kStepsPerBlock) {
    const int64_t ns = std::min(kStepsPerBlock, n_steps - s0);
    for (int64_t g = 0; g < p.n_groups; g += 2) {
      const int ng = p.n_groups - g >= 2 ? 2 : 1;
      build(g, ng, s0, ns);
      for (int64_t t = 0; t < p.n_tokens; t += 32) {
        CTile c[2][2];
        c_tiles(t, g, c);
        const StepArgs args{p.act + acts.offset(s0, t), acts.step_bytes(), acts.half_bytes(),
                            b_hi.data(), b_lo.data(), ns};
        dispatch(p.n_tokens - t > 16 ? 2 : 1, ng, args, c, true, s0 == 0, true);
      }
    }
  }
}

}  // namespace

int64_t bf16_act_bytes(int64_t n_tokens, int64_t cols) { return Bf16Acts(n_tokens, cols).bytes(); }
int64_t bf16_hi_act_bytes(int64_t n_tokens, int64_t cols) {
  return Bf16Acts(n_tokens, cols).half_bytes();
}

namespace {
template <bool kLo>
void prepare_acts(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                  uint8_t* dst) {
  const Bf16Acts acts(n_tokens, cols);
  const int64_t end = t1 == n_tokens ? acts.m_pad : t1;
  for (int64_t t = t0; t < end; ++t) {
    const int64_t valid = t < n_tokens ? cols : 0;
    for (int64_t s = 0; s < acts.n_steps; ++s) {
      uint8_t* hi = dst + acts.offset(s, t);
      const int64_t i = 32 * s;
      auto load = [&](int64_t at) {
        const int64_t left = std::clamp<int64_t>(valid - at, 0, 16);
        return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << left) - 1), x + t * cols + at);
      };
      const __m512 v0 = load(i), v1 = load(i + 16);
      const __m512i h = to_bf16(v0, v1);
      _mm512_store_si512(hi, h);
      if constexpr (kLo) {
        const __m512 r0 = _mm512_sub_ps(v0, widen_bf16(_mm512_castsi512_si256(h)));
        const __m512 r1 = _mm512_sub_ps(v1, widen_bf16(_mm512_extracti64x4_epi64(h, 1)));
        _mm512_store_si512(hi + acts.half_bytes(), to_bf16(r0, r1));
      }
    }
  }
}
}  // namespace

void prepare_bf16(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                  uint8_t* dst) {
  prepare_acts<true>(x, n_tokens, cols, t0, t1, dst);
}
void prepare_bf16_hi(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                     uint8_t* dst) {
  prepare_acts<false>(x, n_tokens, cols, t0, t1, dst);
}

void gemm_f16(const PackedGemm& p) { gemm_tiles<FloatWeights<true>>(p); }
void gemm_bf16(const PackedGemm& p) { gemm_tiles<FloatWeights<false>>(p); }
void gemm_q8_0_bf16(const PackedGemm& p) { gemm_tiles<Q8_0Weights>(p); }
void gemm_q4_0_bf16(const PackedGemm& p) { gemm_tiles<Q4_0Weights>(p); }
void gemm_q4_k_bf16(const PackedGemm& p) { gemm_tiles<Q4_KWeights>(p); }

}  // namespace hearth::cpu::amx
