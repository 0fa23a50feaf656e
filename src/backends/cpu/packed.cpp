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

}  // namespace

bool packable(DType type, int64_t rows, int64_t cols) {
  return (type == DType::Q8_0 || type == DType::Q4_0) && rows > 0 && rows % kPackRows == 0 &&
         cols > 0 && cols % 32 == 0;
}

int64_t packed_group_block_bytes(DType type) {
  return kPackRows * dtype_info(type).block_bytes;
}

void pack_rows16(DType type, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst) {
  if (!packable(type, rows, cols))
    fail("internal error: a {} x {} {} matrix has no interleaved layout", rows, cols,
         dtype_name(type));
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
