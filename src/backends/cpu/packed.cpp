#include "backends/cpu/packed.h"

#include <cstring>

#include "core/error.h"
#include "ops/quant.h"

namespace hearth::cpu {
namespace {

using ops::BlockQ4_0;
using ops::BlockQ8_0;

// Nibble level of element e (0..31) of a Q4_0 block: elements 0-15 are the low nibbles of
// qs[0..15], 16-31 the high nibbles.
uint8_t q4_level(const BlockQ4_0& b, int e) {
  return e < 16 ? b.qs[e] & 0x0F : b.qs[e - 16] >> 4;
}
void set_q4_level(BlockQ4_0& b, int e, uint8_t level) {
  if (e < 16)
    b.qs[e] = static_cast<uint8_t>((b.qs[e] & 0xF0) | level);
  else
    b.qs[e - 16] = static_cast<uint8_t>((b.qs[e - 16] & 0x0F) | (level << 4));
}

// One group-block from 16 file blocks (blocks[i] = row i's block) and back.
void pack_group_block(DType type, const uint8_t* const rows[kPackRows], int64_t b, uint8_t* out) {
  auto* d = reinterpret_cast<uint16_t*>(out);
  uint8_t* q = out + kPackRows * 2;
  for (int i = 0; i < kPackRows; ++i) {
    if (type == DType::Q8_0) {
      BlockQ8_0 blk;
      std::memcpy(&blk, rows[i] + b * sizeof(BlockQ8_0), sizeof blk);
      d[i] = blk.d;
      for (int s = 0; s < 8; ++s)
        for (int j = 0; j < 4; ++j)
          q[(s * kPackRows + i) * 4 + j] = static_cast<uint8_t>(blk.qs[4 * s + j]) ^ 0x80;
    } else {
      BlockQ4_0 blk;
      std::memcpy(&blk, rows[i] + b * sizeof(BlockQ4_0), sizeof blk);
      d[i] = blk.d;
      for (int c = 0; c < 4; ++c)
        for (int j = 0; j < 4; ++j)
          q[(c * kPackRows + i) * 4 + j] =
              static_cast<uint8_t>(q4_level(blk, 8 * c + j) | (q4_level(blk, 8 * c + 4 + j) << 4));
    }
  }
}

void unpack_group_block_row(DType type, const uint8_t* in, int i, uint8_t* out_block) {
  const auto* d = reinterpret_cast<const uint16_t*>(in);
  const uint8_t* q = in + kPackRows * 2;
  if (type == DType::Q8_0) {
    BlockQ8_0 blk;
    blk.d = d[i];
    for (int s = 0; s < 8; ++s)
      for (int j = 0; j < 4; ++j)
        blk.qs[4 * s + j] = static_cast<int8_t>(q[(s * kPackRows + i) * 4 + j] ^ 0x80);
    std::memcpy(out_block, &blk, sizeof blk);
  } else {
    BlockQ4_0 blk;
    blk.d = d[i];
    for (int c = 0; c < 4; ++c)
      for (int j = 0; j < 4; ++j) {
        const uint8_t byte = q[(c * kPackRows + i) * 4 + j];
        set_q4_level(blk, 8 * c + j, byte & 0x0F);
        set_q4_level(blk, 8 * c + 4 + j, byte >> 4);
      }
    std::memcpy(out_block, &blk, sizeof blk);
  }
}

bool is_float16(DType type) { return type == DType::F16 || type == DType::BF16; }

// Q4_K: level of element e (0..255) of a super-block, and its inverse.
uint8_t q4k_level(const ops::BlockQ4_K& b, int e) {
  const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
  return e % 64 < 32 ? byte & 0x0F : byte >> 4;
}
void set_q4k_level(ops::BlockQ4_K& b, int e, uint8_t level) {
  uint8_t& byte = b.qs[32 * (e / 64) + e % 32];
  byte = e % 64 < 32 ? static_cast<uint8_t>((byte & 0xF0) | level)
                     : static_cast<uint8_t>((byte & 0x0F) | (level << 4));
}
// Offsets within a Q4_K group-super-block (see packed.h).
constexpr int kQ4kDmin = 32, kQ4kScales = 64, kQ4kQs = 256;
int q4k_qs_byte(int j, int c, int i, int l) { return kQ4kQs + (j * 4 + c) * 64 + i * 4 + l; }

}  // namespace

bool packable(DType type, int64_t rows, int64_t cols) {
  if (rows <= 0 || rows % kPackRows != 0 || cols <= 0) return false;
  if (is_float16(type)) return true;
  if (type == DType::Q4_K) return cols % ops::kQK_K == 0;
  return (type == DType::Q8_0 || type == DType::Q4_0) && cols % 32 == 0;
}

int64_t packed_group_block_bytes(DType type) {
  return kPackRows * dtype_info(type).block_bytes;
}

namespace {

// F16 / BF16: element k of the group's 16 rows is 16 consecutive 2-byte values.
void pack_float16(const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  for (int64_t g = 0; g < rows / kPackRows; ++g)
    for (int i = 0; i < kPackRows; ++i) {
      const uint8_t* row = src + (g * kPackRows + i) * cols * 2;
      uint8_t* out = dst + g * kPackRows * cols * 2 + i * 2;
      for (int64_t k = 0; k < cols; ++k) std::memcpy(out + k * kPackRows * 2, row + 2 * k, 2);
    }
}

void pack_q4_k(const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  const int64_t nsb = cols / ops::kQK_K, row_bytes = nsb * 144;
  for (int64_t g = 0; g < rows / kPackRows; ++g)
    for (int64_t b = 0; b < nsb; ++b) {
      uint8_t* out = dst + (g * nsb + b) * kPackRows * 144;
      for (int i = 0; i < kPackRows; ++i) {
        ops::BlockQ4_K blk;
        std::memcpy(&blk, src + (g * kPackRows + i) * row_bytes + b * 144, 144);
        std::memcpy(out + 2 * i, &blk.d, 2);
        std::memcpy(out + kQ4kDmin + 2 * i, &blk.dmin, 2);
        for (int q = 0; q < 12; ++q) out[kQ4kScales + q * kPackRows + i] = blk.scales[q];
        for (int j = 0; j < 8; ++j)
          for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 4; ++l)
              out[q4k_qs_byte(j, c, i, l)] = static_cast<uint8_t>(
                  q4k_level(blk, 32 * j + 8 * c + l) | (q4k_level(blk, 32 * j + 8 * c + 4 + l) << 4));
      }
    }
}

void unpack_q4_k(const uint8_t* packed, int64_t cols, int64_t r0, int64_t n, uint8_t* dst) {
  const int64_t nsb = cols / ops::kQK_K;
  for (int64_t r = r0; r < r0 + n; ++r) {
    const int64_t g = r / kPackRows;
    const int i = static_cast<int>(r % kPackRows);
    for (int64_t b = 0; b < nsb; ++b) {
      const uint8_t* in = packed + (g * nsb + b) * kPackRows * 144;
      ops::BlockQ4_K blk;
      std::memcpy(&blk.d, in + 2 * i, 2);
      std::memcpy(&blk.dmin, in + kQ4kDmin + 2 * i, 2);
      for (int q = 0; q < 12; ++q) blk.scales[q] = in[kQ4kScales + q * kPackRows + i];
      for (int j = 0; j < 8; ++j)
        for (int c = 0; c < 4; ++c)
          for (int l = 0; l < 4; ++l) {
            const uint8_t byte = in[q4k_qs_byte(j, c, i, l)];
            set_q4k_level(blk, 32 * j + 8 * c + l, byte & 0x0F);
            set_q4k_level(blk, 32 * j + 8 * c + 4 + l, byte >> 4);
          }
      std::memcpy(dst + (r - r0) * nsb * 144 + b * 144, &blk, 144);
    }
  }
}

void unpack_float16(const uint8_t* packed, int64_t cols, int64_t r0, int64_t n, uint8_t* dst) {
  for (int64_t r = r0; r < r0 + n; ++r) {
    const uint8_t* in = packed + (r / kPackRows) * kPackRows * cols * 2 + (r % kPackRows) * 2;
    for (int64_t k = 0; k < cols; ++k)
      std::memcpy(dst + (r - r0) * cols * 2 + 2 * k, in + k * kPackRows * 2, 2);
  }
}

}  // namespace

void pack_rows16(DType type, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  if (!packable(type, rows, cols))
    fail("internal error: a {} x {} {} matrix has no interleaved layout", rows, cols,
         dtype_name(type));
  if (is_float16(type)) return pack_float16(src, rows, cols, dst);
  if (type == DType::Q4_K) return pack_q4_k(src, rows, cols, dst);
  const int64_t row_bytes = dtype_row_bytes(type, cols), nb = cols / 32;
  const int64_t gb_bytes = packed_group_block_bytes(type);
  for (int64_t g = 0; g < rows / kPackRows; ++g) {
    const uint8_t* group_rows[kPackRows];
    for (int i = 0; i < kPackRows; ++i) group_rows[i] = src + (g * kPackRows + i) * row_bytes;
    for (int64_t b = 0; b < nb; ++b)
      pack_group_block(type, group_rows, b, dst + (g * nb + b) * gb_bytes);
  }
}

void unpack_rows16(DType type, const uint8_t* packed, int64_t cols, int64_t r0, int64_t n,
                   uint8_t* dst) {
  if (is_float16(type)) return unpack_float16(packed, cols, r0, n, dst);
  if (type == DType::Q4_K) return unpack_q4_k(packed, cols, r0, n, dst);
  const int64_t row_bytes = dtype_row_bytes(type, cols), nb = cols / 32;
  const int64_t gb_bytes = packed_group_block_bytes(type);
  const int64_t block_bytes = dtype_info(type).block_bytes;
  for (int64_t r = r0; r < r0 + n; ++r) {
    const int64_t g = r / kPackRows;
    const int i = static_cast<int>(r % kPackRows);
    for (int64_t b = 0; b < nb; ++b)
      unpack_group_block_row(type, packed + (g * nb + b) * gb_bytes, i,
                             dst + (r - r0) * row_bytes + b * block_bytes);
  }
}

}  // namespace hearth::cpu
