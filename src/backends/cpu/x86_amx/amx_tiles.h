// AMX tile instructions for the kernels of this folder, as thin inline-asm wrappers.
//
// Why not the compilers' intrinsics: GCC 12's _tile_loadd is an asm statement without a
// memory clobber, so the compiler may move the vector stores that fill a tile's buffer (the
// unpacked 4-bit weights, say) after the tile load that reads it; and GCC's macros paste the
// tile number into the instruction text, so it cannot be a template parameter. Here every
// load and store is a memory barrier for the compiler, and the tile numbers are template
// arguments ("n" constraints).
//
// AT&T operand order: tdp* src2(B), src1(A), dst(C); C[m][n] += sum_k A[m][k] * B[k][n].
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace hearth::cpu::amx {

// The 64-byte operand of ldtilecfg (palette 1): per tile, its rows and bytes per row.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};

  constexpr TileConfig& tile(int t, int n_rows, int bytes_per_row) {
    rows[t] = static_cast<uint8_t>(n_rows);
    colsb[t] = static_cast<uint16_t>(bytes_per_row);
    return *this;
  }
};
static_assert(sizeof(TileConfig) == 64);

// For the kernels' per-thread tile buffers: 64-byte aligned, as the tile loads like them.
template <typename T>
struct AlignedAllocator64 {
  using value_type = T;
  AlignedAllocator64() = default;
  template <typename U>
  AlignedAllocator64(const AlignedAllocator64<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t{64}); }
  template <typename U>
  bool operator==(const AlignedAllocator64<U>&) const { return true; }
};
template <typename T>
using TileBuffer = std::vector<T, AlignedAllocator64<T>>;

// Software prefetch of the n bytes at p (a weight stream the tile loads would stall on) into L1.
inline void prefetch_range(const uint8_t* p, int64_t n) {
  for (int64_t l = 0; l < n; l += 64) _mm_prefetch(reinterpret_cast<const char*>(p) + l, _MM_HINT_T0);
}
// The same for a size known when compiling, into L1 (kToL1: prefetcht0) or L2 (kToL2:
// prefetcht1), always expanded in place: the int8 kernels' hot loops must not call out for
// their prefetches, and in a large kernel GCC had stopped inlining the loop above
// (16-sequence Q4_K decode fell from 7x to 5.6x with the weight loads missing again).
inline constexpr int kToL1 = 3, kToL2 = 2;
template <int64_t kBytes, int kLocality = kToL1>
[[gnu::always_inline]] inline void prefetch_lines(const uint8_t* p) {
  for (int64_t l = 0; l < kBytes; l += 64) __builtin_prefetch(p + l, 0, kLocality);
}

// Loads cfg into this thread's tile registers unless it is the configuration they hold.
// Tile state is per thread; every kernel entry calls this (ldtilecfg also zeroes the tiles).
inline void use_config(const TileConfig& cfg) {
  thread_local const TileConfig* loaded = nullptr;
  if (loaded == &cfg) return;
  asm volatile("ldtilecfg %0" ::"m"(cfg) : "memory");
  loaded = &cfg;
}

// Tile loads read memory the compiler cannot see: a buffer written just before (the unpacked
// 4-bit weights, say) must be published with compiler_fence() first. (No memory clobber here:
// it would force the float accumulators of the int8 kernels out of their registers.)
inline void compiler_fence() { asm volatile("" ::: "memory"); }
template <int T>
inline void tile_load(const void* base, int64_t stride) {
  asm volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(base), "r"(stride), "n"(T));
}
// Loads a tile from kBytes of contiguous memory that the compiler knows it reads (so stores
// that just filled the buffer stay before it; no fence needed).
template <int T, int kBytes>
inline void tile_load_dense(const void* base, int64_t stride) {
  asm volatile("tileloadd (%1,%2,1), %%tmm%c3" ::"m"(*static_cast<const char(*)[kBytes]>(base)),
               "r"(base), "r"(stride), "n"(T));
}
// Stores a tile of 16 rows x 64 bytes into 1 KiB of contiguous memory (the compiler knows
// exactly what is written).
template <int T>
inline void tile_store_dense(void* dst) {
  asm volatile("tilestored %%tmm%c2, (%1,%3,1)"
               : "=m"(*static_cast<char(*)[1024]>(dst))
               : "r"(dst), "n"(T), "r"(int64_t{64}));
}
template <int T>
inline void tile_store(void* base, int64_t stride) {
  asm volatile("tilestored %%tmm%c2, (%0,%1,1)" ::"r"(base), "r"(stride), "n"(T) : "memory");
}
template <int T>
inline void tile_zero() {
  asm volatile("tilezero %%tmm%c0" ::"n"(T));
}
// C += A(bf16 pairs) . B(bf16 pairs), float accumulate.
template <int C, int A, int B>
inline void tile_dp_bf16() {
  asm volatile("tdpbf16ps %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"n"(C), "n"(A), "n"(B));
}
// C += A(int8) . B(int8 quads), int32 accumulate.
template <int C, int A, int B>
inline void tile_dp_s8s8() {
  asm volatile("tdpbssd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"n"(C), "n"(A), "n"(B));
}
// C += A(int8) . B(uint8 quads), int32 accumulate.
template <int C, int A, int B>
inline void tile_dp_s8u8() {
  asm volatile("tdpbsud %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"n"(C), "n"(A), "n"(B));
}

}  // namespace hearth::cpu::amx
