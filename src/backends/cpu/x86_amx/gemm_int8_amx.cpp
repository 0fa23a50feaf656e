// AMX-INT8 products of Q8_0, Q4_0 and Q4_K weights (16-row interleaved, packed.h) with a small
// batch of int8 activations (batched decode: a few to a few dozen sequences stepping together).
//
// The interleaved layout was chosen for vpdpbusd, and it is nearly AMX's: one k-step of a
// group-block (4 consecutive weights of 16 rows, 64 bytes) is one row of an int8 B tile, so a
// block's 8 k-steps are its B tile once the values are made signed (Q8_0: the stored +128
// flipped back; Q4_0: nibbles split, 8 subtracted; Q4_K: nibbles split, levels kept unsigned).
// One tdpbssd / tdpbsud then gives the int32 block dot products of 16 tokens x 16 rows.
//
// Each block has its own weight scales, so every block's int32 tile is stored and folded into
// 16 float accumulators with the same operations, in the same order, as the AVX-512 kernel
// (packed_avx512.cpp): the same integer dots, then Q8_0 acc = fma(float(dot), w_scale *
// x_scale, acc) block by block; Q4_0 and Q4_K, whose activations have one scale per 256
// columns, part = fma(float(dot), w_scale, part) and acc = fma(part, x_scale, acc) once per
// 256. A token's outputs are therefore bit for bit those of the single-token path, whatever
// batch it is in. The store and fold of
// every block cost more than its tile product, which is why long prompts take the bf16 kernel
// (gemm_bf16_amx.cpp) instead, where the products accumulate inside the tiles.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "backends/cpu/x86_amx/amx_kernels.h"
#include "backends/cpu/x86_amx/amx_tiles.h"
#include "backends/cpu/x86_amx/packed_blocks.h"
#include "backends/cpu/x86_avx512/avx512_kernels.h"
#include "backends/cpu/x86_avx512/q4k_scales.h"

namespace hearth::cpu::amx {
namespace {

// Tiles 0..3: int32 dots (16 tokens x 16 rows) of four units in flight; 4, 5: A (16 tokens x
// 32 int8); 6, 7: B (8 k-steps x 16 rows x 4).
constexpr TileConfig kInt8Config = TileConfig{}
                                       .tile(0, 16, 64)
                                       .tile(1, 16, 64)
                                       .tile(2, 16, 64)
                                       .tile(3, 16, 64)
                                       .tile(4, 16, 32)
                                       .tile(5, 16, 32)
                                       .tile(6, 8, 64)
                                       .tile(7, 8, 64);
constexpr int kInFlight = 4;  // units whose products are issued ahead of their fold

constexpr int64_t kBTileBytes = 512;  // 8 k-steps x 64 bytes
constexpr int64_t kPrefetchAhead = 2048;


// Splits 4 chunks of 4-bit levels (chunk c: low nibbles = k-step 2c, high = 2c + 1) into a
// B tile, minus `offset`.
void split_nibbles(const uint8_t* chunks, uint8_t* tile, int offset) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), off = _mm512_set1_epi8(static_cast<char>(offset));
  for (int c = 0; c < 4; ++c) {
    const __m512i raw = _mm512_loadu_si512(chunks + 64 * c);
    _mm512_store_si512(tile + 128 * c, _mm512_sub_epi8(_mm512_and_si512(raw, low4), off));
    _mm512_store_si512(tile + 128 * c + 64,
                       _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(raw, 4), low4), off));
  }
}

// The prepared activations (gemm_*_int8 prepare): the int8 levels as A tiles,
// [unit][token][32 bytes] (one tile = 16 tokens of one 32-column unit, contiguous), then the
// per-token values the folds broadcast, [unit][token] floats: Q8_0 the block scale; Q4_0 the
// scale of the block's 256 columns; Q4_K that scale dx and the sum of the sub-block's levels. The levels and scales
// are those of the single-token kernels' quantization (the AVX-512 quantize_act_q8_*), so the
// integer dots and their folding agree bit for bit. Padding tokens are zeros.
struct Int8Acts {
  int64_t m_pad, units;
  int n_tables;
  static int64_t pad(int64_t n_tokens) { return (n_tokens + 15) / 16 * 16; }
  Int8Acts(int64_t n_tokens, int64_t n_units, int tables)
      : m_pad(pad(n_tokens)), units(n_units), n_tables(tables) {}
  int64_t bytes() const { return units * m_pad * (32 + 4 * n_tables); }
  static int8_t* levels(uint8_t* base, const Int8Acts& l, int64_t u, int64_t t) {
    return reinterpret_cast<int8_t*>(base + (u * l.m_pad + t) * 32);
  }
  float* table(uint8_t* base, int which, int64_t u, int64_t t) const {
    return reinterpret_cast<float*>(base + units * m_pad * 32) + (which * units + u) * m_pad + t;
  }
  const float* table(const uint8_t* base, int which, int64_t u, int64_t t) const {
    return table(const_cast<uint8_t*>(base), which, u, t);
  }
  const uint8_t* a_tile(const uint8_t* base, int64_t u, int64_t tile) const {
    return base + (u * m_pad + 16 * tile) * 32;
  }
};

// Runs the tile products of one row group against one 16-token tile over n_units units of 32
// columns (a_tile(u), b_tile(u): unit u's A and B tiles), folding each into 16 accumulators, and writes the first n_valid tokens' 16
// outputs. fold(u, dots, acc): adds unit u's int32 dots (16 tokens x 16 rows) into acc.
template <bool kSignedB, typename ATile, typename BTile, typename Fold>
[[gnu::always_inline]] inline void group_tokens(const ATile& a_tile, int64_t n_units, const BTile& b_tile, const Fold& fold,
                  int64_t n_valid, float* y, int64_t y_stride) {
  __m512 acc[16];
  for (int m = 0; m < 16; ++m) acc[m] = _mm512_setzero_ps();
  alignas(64) int32_t dots[16 * 16];
  // Unit u's product goes to C tile u % 4 (A, B tiles u % 2): four products are queued on the
  // tile unit ahead of the fold that waits for the oldest, so its latency stays hidden.
  auto start = [&](int64_t u, auto tile) __attribute__((always_inline)) {
    constexpr int C = decltype(tile)::value, A = 4 + C % 2, B = 6 + C % 2;
    tile_zero<C>();
    tile_load<A>(a_tile(u), 32);
    tile_load_dense<B, kBTileBytes>(b_tile(u), 64);
    if constexpr (kSignedB)
      tile_dp_s8s8<C, A, B>();
    else
      tile_dp_s8u8<C, A, B>();
  };
  auto step = [&](int64_t u, auto tile) __attribute__((always_inline)) {
    constexpr int C = decltype(tile)::value;
    tile_store_dense<C>(dots);
    if (u + kInFlight < n_units) start(u + kInFlight, tile);
    fold(u, dots, acc);
  };
  using T0 = std::integral_constant<int, 0>;
  using T1 = std::integral_constant<int, 1>;
  using T2 = std::integral_constant<int, 2>;
  using T3 = std::integral_constant<int, 3>;
  start(0, T0{});
  if (n_units > 1) start(1, T1{});
  if (n_units > 2) start(2, T2{});
  if (n_units > 3) start(3, T3{});
  int64_t u = 0;
  for (; u + 4 <= n_units; u += 4) {
    step(u, T0{});
    step(u + 1, T1{});
    step(u + 2, T2{});
    step(u + 3, T3{});
  }
  if (u < n_units) step(u, T0{});
  if (u + 1 < n_units) step(u + 1, T1{});
  if (u + 2 < n_units) step(u + 2, T2{});
  // Constant indices only: one acc[m] with a run-time m (a loop to n_valid) would make the
  // compiler keep all 16 accumulators in memory, a load and a store per multiply-add.
  [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
    ((static_cast<int64_t>(M) < n_valid ? _mm512_storeu_ps(y + static_cast<int64_t>(M) * y_stride, acc[M]) : void()),
     ...);
  }(std::make_index_sequence<16>{});
}

// B tiles built ahead of their products (one token tile): slot i % kSlots holds unit i.
struct BRing {
  static constexpr int64_t kAhead = 8, kSlots = 16;  // kSlots > kAhead + kInFlight
  alignas(64) uint8_t tiles[kSlots][kBTileBytes];
  uint8_t* slot(int64_t i) { return tiles[i % kSlots]; }
};

// The A tiles of all units (16 x 32 bytes each) outgrow L1 beside the weight stream of the
// nibble formats, and a tile load that misses stalls the products queued behind it: the ring
// paths fetch A tile u + kInFlight when they start unit u. (Q8_0's in-place path does better
// without: its weight prefetches already fill the load ports.)
[[gnu::always_inline]] inline void prefetch_a_tile(const Int8Acts& acts, const uint8_t* act, int64_t u) {
  if (u + kInFlight < acts.units) prefetch_lines<512>(acts.a_tile(act, u + kInFlight, 0));
}

// Before building unit i of a weight stream of kUnitBytes per unit: its lines a few units
// ahead into L1, far ahead into L2. Without it the build's loads miss and stall the tile
// products queued behind them (a 16-token Q4_K step spent ~40% there); the hardware
// prefetcher does not run far enough ahead of this access pattern.
template <int64_t kUnitBytes>
[[gnu::always_inline]] inline void prefetch_units(const uint8_t* stream, int64_t i) {
  prefetch_lines<kUnitBytes, kToL2>(stream + (i + 24) * kUnitBytes);
  prefetch_lines<kUnitBytes>(stream + (i + 4) * kUnitBytes);
}
static_assert(BRing::kSlots > BRing::kAhead + kInFlight);

// The 8-block partial sums of Q4_0 and Q4_K (whose activations have a scale per 256 columns)
// against token tile t, unit u (j = u % 8 its place in the 256 columns): part = dot * scale -
// min * x_sum (Q4_K's mins; Q4_0 has none), started by j = 0; after j = 7 or the row's last
// unit, acc += part * dx. The running acc lives in memory (acc_mem, [token][16 rows]), the
// partial sums in the 16 registers group_tokens hands the fold, which hold acc after the
// last unit. Same operations, same order as the AVX-512 single-token kernels.
template <bool kMins>
[[gnu::always_inline]] inline void fold_partial(const Int8Acts& acts, const uint8_t* act, int64_t t,
                                                __m512 scale, __m512 min, int64_t u, bool last,
                                                const int32_t* dots, float* acc_mem, __m512* part) {
  const int j = static_cast<int>(u % 8);
  auto dot = [&](size_t m) __attribute__((always_inline)) {
    return _mm512_cvtepi32_ps(_mm512_load_si512(dots + 16 * m));
  };
  if constexpr (kMins) {
    const float* bsum = acts.table(act, 1, u, 16 * t);
    if (j == 0)
      [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
        ((part[M] = _mm512_fnmadd_ps(min, _mm512_set1_ps(bsum[M]), _mm512_mul_ps(dot(M), scale))), ...);
      }(std::make_index_sequence<16>{});
    else
      [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
        ((part[M] = _mm512_fnmadd_ps(min, _mm512_set1_ps(bsum[M]), _mm512_fmadd_ps(dot(M), scale, part[M]))),
         ...);
      }(std::make_index_sequence<16>{});
  } else {
    if (j == 0)
      [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
        ((part[M] = _mm512_mul_ps(dot(M), scale)), ...);
      }(std::make_index_sequence<16>{});
    else
      [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
        ((part[M] = _mm512_fmadd_ps(dot(M), scale, part[M])), ...);
      }(std::make_index_sequence<16>{});
  }
  if (j == 7 || last) {
    const float* dx = acts.table(act, 0, u, 16 * t);
    [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
      ((part[M] = _mm512_fmadd_ps(part[M], _mm512_set1_ps(dx[M]), _mm512_load_ps(acc_mem + 16 * M)),
        _mm512_store_ps(acc_mem + 16 * M, part[M])),
       ...);
    }(std::make_index_sequence<16>{});
  }
}

// Token tiles of 16 over the groups; prepare(g) readies group g's B tiles.
template <typename Prepare, typename RunTile>
void for_groups(const PackedGemm& p, const Prepare& prepare, const RunTile& run_tile) {
  for (int64_t g = 0; g < p.n_groups; ++g) {
    prepare(g);
    compiler_fence();  // the B tiles were written with vector stores; tile loads read them
    for (int64_t t = 0; t * 16 < p.n_tokens; ++t) run_tile(g, t, std::min<int64_t>(16, p.n_tokens - 16 * t));
  }
}

// ---------------------------------------------------------------- Q4_0
// The nibbles (value + 8) are split into a signed B tile, 8 subtracted.
void gemm_q4_0(const PackedGemm& p) {
  use_config(kInt8Config);
  constexpr int64_t kUnit = kQ4_0GroupBlockBytes;
  const int64_t nb = p.cols / 32;
  const Int8Acts acts(p.n_tokens, nb, 1);
  const int64_t group_bytes = nb * kUnit;
  thread_local TileBuffer<uint8_t> tiles;
  if (tiles.size() < static_cast<size_t>(nb * kBTileBytes)) tiles.resize(static_cast<size_t>(nb * kBTileBytes));
  thread_local TileBuffer<float> acc_buf(16 * 16);  // fold_partial's acc_mem
  float* acc_mem = acc_buf.data();

  auto convert = [](const uint8_t* unit, uint8_t* tile) __attribute__((always_inline)) {
    split_nibbles(unit + 32, tile, 8);
  };
  auto run_tile = [&](int64_t g, int64_t t, int64_t n, auto&& b_tile) __attribute__((always_inline)) {
    const uint8_t* gw = p.w + g * group_bytes;
    auto a_tile = [&](int64_t b) __attribute__((always_inline)) { return acts.a_tile(p.act, b, t); };
    auto fold = [&](int64_t b, const int32_t* dots, __m512* part) __attribute__((always_inline)) {
      const __m512 dw =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gw + b * kUnit)));
      fold_partial<false>(acts, p.act, t, dw, /*min (none)=*/_mm512_setzero_ps(), b, b == nb - 1, dots,
                          acc_mem, part);
    };
    std::fill(acc_mem, acc_mem + 16 * 16, 0.0f);
    group_tokens<true>(a_tile, nb, b_tile, fold, n, p.y + 16 * t * p.y_stride + 16 * g, p.y_stride);
  };
  if (p.n_tokens <= 16) {
    // One token tile: the B tiles are built kAhead units ahead of their products, into a
    // ring, so the weight loads overlap the tile work and a tile load never waits for the
    // stores just made to its buffer. Units count on across the thread's groups (the group
    // blocks are contiguous).
    BRing ring;
    const int64_t total = p.n_groups * nb;
    auto build = [&](int64_t i) __attribute__((always_inline)) {
      if (i >= total) return;
      prefetch_units<kUnit>(p.w, i);
      convert(p.w + i * kUnit, ring.slot(i));
    };
    for (int64_t i = 0; i < BRing::kAhead; ++i) build(i);
    for (int64_t g = 0; g < p.n_groups; ++g) {
      run_tile(g, 0, p.n_tokens, [&](int64_t b) __attribute__((always_inline)) {
        prefetch_a_tile(acts, p.act, b);
        build(g * nb + b + BRing::kAhead);
        return ring.slot(g * nb + b);
      });
    }
    return;
  }
  auto prepare = [&](int64_t g) {
    const uint8_t* gw = p.w + g * group_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      prefetch_range(gw + b * kUnit + kPrefetchAhead, kUnit);
      convert(gw + b * kUnit, tiles.data() + b * kBTileBytes);
    }
  };
  for_groups(p, prepare, [&](int64_t g, int64_t t, int64_t n) {
    run_tile(g, t, n, [&](int64_t b) __attribute__((always_inline)) { return tiles.data() + b * kBTileBytes; });
  });
}

// ---------------------------------------------------------------- Q8_0
// The stored levels are value + 128: unsigned bytes that tdpbsud multiplies as they are, from
// the weights in place (a unit's 8 k-steps are 512 contiguous bytes after its scales), so no
// B tile is built at all. The offset comes back out of each integer dot exactly:
// dot = raw - 128 * (sum of the token's levels in the block), prepared per token and block.
void gemm_q8_0_direct(const PackedGemm& p) {
  use_config(kInt8Config);
  constexpr int64_t kUnit = kQ8_0GroupBlockBytes;
  const int64_t nb = p.cols / 32;
  const Int8Acts acts(p.n_tokens, nb, 2);
  const int64_t group_bytes = nb * kUnit;
  for (int64_t g = 0; g < p.n_groups; ++g) {
    const uint8_t* gw = p.w + g * group_bytes;
    for (int64_t t = 0; t * 16 < p.n_tokens; ++t) {
      auto a_tile = [&](int64_t b) __attribute__((always_inline)) { return acts.a_tile(p.act, b, t); };
      auto b_tile = [&](int64_t b) __attribute__((always_inline)) {
        const uint8_t* unit = gw + b * kUnit;
        if (t == 0) {  // tile loads stall on misses: to L2 far ahead, to L1 near
          prefetch_lines<kUnit, kToL2>(unit + 24 * kUnit);
          prefetch_lines<kUnit>(unit + 4 * kUnit);
        }
        return unit + 32;
      };
      auto fold = [&](int64_t b, const int32_t* dots, __m512* acc) __attribute__((always_inline)) {
        const __m512 dw =
            _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gw + b * kUnit)));
        const float* dx = acts.table(p.act, 0, b, 16 * t);
        const auto* offset = reinterpret_cast<const int32_t*>(acts.table(p.act, 1, b, 16 * t));
        [&]<size_t... M>(std::index_sequence<M...>) __attribute__((always_inline)) {
          ((acc[M] = _mm512_fmadd_ps(
                _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(dots + 16 * M),
                                                    _mm512_set1_epi32(offset[M]))),
                _mm512_mul_ps(dw, _mm512_set1_ps(dx[M])), acc[M])),
           ...);
        }(std::make_index_sequence<16>{});
      };
      group_tokens<false>(a_tile, nb, b_tile, fold, std::min<int64_t>(16, p.n_tokens - 16 * t),
                          p.y + 16 * t * p.y_stride + 16 * g, p.y_stride);
    }
  }
}

// ---------------------------------------------------------------- Q4_K
// Per sub-block (32 columns) the AVX-512 kernel's fold: fold_partial with the sub-block's
// scale and min, the token's super-block scale once per 256 columns.
void gemm_q4_k_sub_blocks(const PackedGemm& p) {
  use_config(kInt8Config);
  const int64_t nsb = p.cols / 256, n_sub = nsb * 8;
  const Int8Acts acts(p.n_tokens, n_sub, 2);
  const int64_t group_bytes = nsb * kQ4kGroupBytes;
  thread_local TileBuffer<uint8_t> tiles;
  thread_local TileBuffer<float> scales;  // [sub-block][scale 16, min 16]
  if (tiles.size() < static_cast<size_t>(n_sub * kBTileBytes)) {
    tiles.resize(static_cast<size_t>(n_sub * kBTileBytes));
    scales.resize(static_cast<size_t>(n_sub * 32));
  }
  thread_local TileBuffer<float> acc_buf(16 * 16);  // acc_mem: [token][16 rows]
  float* acc_mem = acc_buf.data();
  // Sub-block s's 16 row scales (d * sc) and mins (dmin * m) against token tile t.
  auto fold_with = [&](int64_t t, __m512 scale, __m512 min, int64_t s, const int32_t* dots,
                       __m512* part) __attribute__((always_inline)) {
    fold_partial<true>(acts, p.act, t, scale, min, s, s == n_sub - 1, dots, acc_mem, part);
  };
  auto clear_acc = [&] { std::fill(acc_mem, acc_mem + 16 * 16, 0.0f); };
  auto out = [&](int64_t g, int64_t t) { return p.y + 16 * t * p.y_stride + 16 * g; };
  if (p.n_tokens <= 16) {
    // One token tile: B tiles built ahead into a ring, scales at the fold (as gemm_q4_0).
    BRing ring;
    const int64_t total = p.n_groups * n_sub;
    auto build = [&](int64_t i) __attribute__((always_inline)) {
      if (i >= total) return;
      prefetch_units<kQ4kGroupBytes / 8>(p.w, i);  // a super-block's bytes per sub-block
      split_nibbles(p.w + i / 8 * kQ4kGroupBytes + kQ4kLevelsOffset + i % 8 * 256, ring.slot(i), 0);
    };
    for (int64_t i = 0; i < BRing::kAhead; ++i) build(i);
    for (int64_t g = 0; g < p.n_groups; ++g) {
      const uint8_t* gw = p.w + g * group_bytes;
      auto a_tile = [&](int64_t s) __attribute__((always_inline)) { return acts.a_tile(p.act, s, 0); };
      auto b_tile = [&](int64_t s) __attribute__((always_inline)) {
        prefetch_a_tile(acts, p.act, s);
        build(g * n_sub + s + BRing::kAhead);
        return ring.slot(g * n_sub + s);
      };
      auto fold = [&](int64_t s, const int32_t* dots, __m512* acc) __attribute__((always_inline)) {
        const uint8_t* base = gw + s / 8 * kQ4kGroupBytes;
        const int j = static_cast<int>(s % 8);
        const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base)));
        const __m512 mv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + 32)));
        fold_with(0, x86::q4k_scale(dv, base + kQ4kScalesOffset, j, false),
                  x86::q4k_scale(mv, base + kQ4kScalesOffset, j, true), s, dots, acc);
      };
      clear_acc();
      group_tokens<false>(a_tile, n_sub, b_tile, fold, p.n_tokens, out(g, 0), p.y_stride);
    }
    return;
  }
  auto prepare = [&](int64_t g) {
    const uint8_t* gw = p.w + g * group_bytes;
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* base = gw + sb * kQ4kGroupBytes;
      prefetch_range(base + kPrefetchAhead, kQ4kGroupBytes);
      const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base)));
      const __m512 mv =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + 32)));
      for (int j = 0; j < 8; ++j) {
        const int64_t s = sb * 8 + j;
        _mm512_store_ps(scales.data() + 32 * s, x86::q4k_scale(dv, base + kQ4kScalesOffset, j, false));
        _mm512_store_ps(scales.data() + 32 * s + 16, x86::q4k_scale(mv, base + kQ4kScalesOffset, j, true));
        split_nibbles(base + kQ4kLevelsOffset + j * 256, tiles.data() + s * kBTileBytes, 0);
      }
    }
  };
  auto run_tile = [&](int64_t g, int64_t t, int64_t n) {
    auto a_tile = [&](int64_t s) __attribute__((always_inline)) { return acts.a_tile(p.act, s, t); };
    auto b_tile = [&](int64_t s) __attribute__((always_inline)) { return tiles.data() + s * kBTileBytes; };
    auto fold = [&](int64_t s, const int32_t* dots, __m512* acc) __attribute__((always_inline)) {
      fold_with(t, _mm512_load_ps(scales.data() + 32 * s), _mm512_load_ps(scales.data() + 32 * s + 16),
                s, dots, acc);
    };
    clear_acc();
    group_tokens<false>(a_tile, n_sub, b_tile, fold, n, out(g, t), p.y_stride);
  };
  for_groups(p, prepare, run_tile);
}

// Prepared activations: each token quantized exactly as the single-token kernels do it, then
// scattered into the tile layout (Int8Acts). Tables: Q4_0 the 256-column scale; Q8_0 the block scale
// and 128 * the block's level sum (int32); Q4_K dx and the sub-block's level sum (as a float).
enum class Acts { Q4_0, Q8_0, Q4_K };
constexpr int n_tables(Acts a) { return a == Acts::Q4_0 ? 1 : 2; }

template <Acts kKind>
void prepare_int8(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                  uint8_t* dst) {
  constexpr bool kQ4K = kKind == Acts::Q4_K;
  constexpr bool k256 = kKind != Acts::Q8_0;  // one activation scale per 256 columns
  const ActFormat format = k256 ? ActFormat::Q8_256 : ActFormat::Q8_32;
  const ActLayout layout = act_layout(format, cols);
  const int64_t units = cols / 32;
  const Int8Acts acts(n_tokens, units, n_tables(kKind));
  thread_local TileBuffer<uint8_t> row;
  if (row.size() < static_cast<size_t>(layout.row_bytes)) row.resize(static_cast<size_t>(layout.row_bytes));
  const int64_t end = t1 == n_tokens ? acts.m_pad : t1;
  for (int64_t t = t0; t < end; ++t) {
    if (t >= n_tokens) {  // padding
      for (int64_t u = 0; u < units; ++u) {
        std::memset(Int8Acts::levels(dst, acts, u, t), 0, 32);
        for (int k = 0; k < acts.n_tables; ++k) *acts.table(dst, k, u, t) = 0.0f;
      }
      continue;
    }
    if constexpr (k256)
      avx512::quantize_act_q8_256(x + t * cols, cols, row.data());
    else
      avx512::quantize_act_q8_32(x + t * cols, cols, row.data());
    const auto* d = reinterpret_cast<const float*>(row.data() + layout.d_offset);
    for (int64_t u = 0; u < units; ++u) {
      std::memcpy(Int8Acts::levels(dst, acts, u, t), row.data() + 32 * u, 32);
      if constexpr (kQ4K) {
        const auto* s16 = reinterpret_cast<const int16_t*>(row.data() + layout.sums_offset);
        const float dx = d[u / 8];
        *acts.table(dst, 0, u, t) = dx;
        *acts.table(dst, 1, u, t) = static_cast<float>(s16[2 * u] + s16[2 * u + 1]);
      } else if constexpr (kKind == Acts::Q4_0) {
        *acts.table(dst, 0, u, t) = d[u / 8];
      } else {  // Q8_0
        *acts.table(dst, 0, u, t) = d[u];
        // Sum of 32 signed levels: sum of the levels + 128 as bytes (vpsadbw), less 32 * 128.
        const __m256i levels = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row.data() + 32 * u));
        const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(levels, _mm256_set1_epi8(static_cast<char>(0x80))),
                                            _mm256_setzero_si256());
        const int64_t sum = _mm256_extract_epi64(sad, 0) + _mm256_extract_epi64(sad, 1) +
                            _mm256_extract_epi64(sad, 2) + _mm256_extract_epi64(sad, 3) - 32 * 128;
        const int32_t offset = static_cast<int32_t>(128 * sum);
        std::memcpy(acts.table(dst, 1, u, t), &offset, 4);
      }
    }
  }
}

}  // namespace

void gemm_q8_0_int8(const PackedGemm& p) { gemm_q8_0_direct(p); }
void gemm_q4_0_int8(const PackedGemm& p) { gemm_q4_0(p); }
void gemm_q4_k_int8(const PackedGemm& p) { gemm_q4_k_sub_blocks(p); }

int64_t int8_act_bytes_q4_0(int64_t n_tokens, int64_t cols) {
  return Int8Acts(n_tokens, cols / 32, n_tables(Acts::Q4_0)).bytes();
}
int64_t int8_act_bytes_q8_0(int64_t n_tokens, int64_t cols) {
  return Int8Acts(n_tokens, cols / 32, n_tables(Acts::Q8_0)).bytes();
}
int64_t int8_act_bytes_q4_k(int64_t n_tokens, int64_t cols) {
  return Int8Acts(n_tokens, cols / 32, n_tables(Acts::Q4_K)).bytes();
}
void prepare_int8_q4_0(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                       uint8_t* dst) {
  prepare_int8<Acts::Q4_0>(x, n_tokens, cols, t0, t1, dst);
}
void prepare_int8_q8_0(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                       uint8_t* dst) {
  prepare_int8<Acts::Q8_0>(x, n_tokens, cols, t0, t1, dst);
}
void prepare_int8_q4_k(const float* x, int64_t n_tokens, int64_t cols, int64_t t0, int64_t t1,
                       uint8_t* dst) {
  prepare_int8<Acts::Q4_K>(x, n_tokens, cols, t0, t1, dst);
}

}  // namespace hearth::cpu::amx
