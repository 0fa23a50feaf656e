// GGML block quantization formats, bit-compatible with llama.cpp/ggml so GGUF files written
// by either side load in the other. Layouts and the reference quantizers follow ggml's
// ggml-quants.c (quantize_row_*_ref / dequantize_row_*); the code here is our own.
//
// A row of n elements is n / block_size consecutive blocks. Every block starts with (or, for
// Q6_K, ends with) fp16 scale fields, so block data must be at least 2-byte aligned, as it is
// in GGUF files (tensor data is 32-byte aligned there).
#pragma once
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace hearth::ops {

inline constexpr int kQK8_0 = 32;  // elements per Q8_0 block
inline constexpr int kQK4_0 = 32;  // elements per Q4_0 block
inline constexpr int kQK_K = 256;  // elements per K-quant super-block

// value[j] = qs[j] * d
struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQK8_0];
};

// value[j] = (nibble[j] - 8) * d; element j (< 16) is the low nibble of qs[j], element j + 16
// the high nibble of qs[j].
struct BlockQ4_0 {
  uint16_t d;  // fp16 scale
  uint8_t qs[kQK4_0 / 2];
};

// 8 sub-blocks of 32 elements, each with a 6-bit scale sc and 6-bit min m:
// value = d * sc * q - dmin * m, q a 4-bit unsigned nibble.
// scales[12] packs the 8 (sc, m) pairs; see unpack_q4_k_scales. Element order: the 64
// elements [64c, 64c + 64) of chunk c take the low nibbles of qs[32c .. 32c+32) (sub-block
// 2c) and then the high nibbles of the same bytes (sub-block 2c + 1).
struct BlockQ4_K {
  uint16_t d;     // fp16 super-block scale for the sub-block scales
  uint16_t dmin;  // fp16 super-block scale for the sub-block mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};

// 16 sub-blocks of 16 elements, each with an int8 scale: value = d * scales[g] * (q - 32),
// q a 6-bit unsigned value whose low 4 bits are in ql and high 2 bits in qh. Within each
// half h of 128 elements (ql += 64h, qh += 32h), for l < 32:
//   element l      : low nibble  of ql[l],      bits 0-1 of qh[l]
//   element l + 32 : low nibble  of ql[l + 32], bits 2-3 of qh[l]
//   element l + 64 : high nibble of ql[l],      bits 4-5 of qh[l]
//   element l + 96 : high nibble of ql[l + 32], bits 6-7 of qh[l]
// Sub-block g covers the 16 consecutive elements [16g, 16g + 16).
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // fp16 super-block scale
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);

// Unpacks the 6-bit scales and mins of a Q4_K block into sm[0..8) (scales of sub-blocks 0-7)
// and sm[8..16) (their mins). Sub-blocks 0-3 keep scale and min in the low 6 bits of bytes
// 0-3 and 4-7; sub-blocks 4-7 keep their low 4 bits in the nibbles of bytes 8-11 (scale low,
// min high) and their top 2 bits in the top bits of bytes 0-3 (scales) and 4-7 (mins).
// Done on 32-bit words, four sub-blocks at a time; the masks keep each byte's bits apart.
// (static: every translation unit, including the per-ISA kernel files compiled with other
// instruction sets, gets its own copy, so the linker never mixes ISA variants.)
static inline void unpack_q4_k_scales(const uint8_t packed[12], uint8_t sm[16]) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof w);
  const uint32_t out[4] = {
      w[0] & 0x3f3f3f3fu,                                                // scales 0-3
      (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4),         // scales 4-7
      w[1] & 0x3f3f3f3fu,                                                // mins 0-3
      ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4),  // mins 4-7
  };
  std::memcpy(sm, out, sizeof out);
}

// dst[0..n) = the n elements at src decoded to float. Every DType (I32 converts to float).
// n must be a multiple of the type's block size.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

// Encodes n floats as type t at dst (dtype_row_bytes(t, n) bytes). F32, F16, BF16, Q8_0,
// Q4_0, Q4_K, Q6_K; the quantized types use ggml's reference algorithms and give the same
// bytes as ggml's quantize_row_*_ref for finite input (compiled without FMA contraction).
// NaN or infinite input never crashes; its blocks decode to NaN/inf or 0.
void quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace hearth::ops
