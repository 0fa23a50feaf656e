// The interleaved weight layout of the fastest CPU matmul kernels, and the conversions to and
// from plain rows (portable code: no ISA flags).
//
// Why: a plain row-major Q8_0 matrix makes a kernel reduce every row horizontally and pay one
// scale multiply per row, block and token. With 16 rows interleaved, one 512-bit register
// holds 4 consecutive weights of 16 rows, a single vpdpbusd against 4 activations broadcast
// from memory advances 16 dot products at once, and the 16 results land in one register in
// output order: no horizontal sums, and the weights are loaded once per tile of tokens. This
// is what makes prompt processing and batched decode run on the multiply units.
//
// A group (16 rows) stores its blocks in order; one group-block is
//   d[16]          the 16 rows' f16 block scales, as in the file (32 bytes)
//   Q8_0: q[8][16][4]  k-step s holds elements 4s..4s+3 of each row as u8 = int8 ^ 0x80
//                      (i.e. value + 128, so vpdpbusd can take the weights as its unsigned
//                      operand; the kernel subtracts 128 * sum(x) per block)
//   Q4_0: n[4][16][4]  byte (c, row, j): low nibble = element 8c + j, high nibble = element
//                      8c + 4 + j, each the stored level 0..15 (value + 8)
// so a group-block has exactly the bytes of 16 file blocks (544 for Q8_0, 288 for Q4_0).
// Q4_K: one group-super-block (16 rows x 256 elements, 2304 bytes) is
//   d[16], dmin[16]          f16 (32 + 32 bytes)
//   scales[12][16]           byte q of the 16 rows' packed 6-bit scales/mins (192 bytes), so
//                            the unpacking runs on 16 rows at once
//   n[8][4][16][4]           sub-block j, chunk c, row i, byte l: low nibble = element
//                            32j + 8c + l, high nibble = element 32j + 8c + 4 + l (levels 0..15)
// F16 / BF16 have no blocks: a group is element 0 of its 16 rows (32 bytes), then element 1,
// and so on, so one 256-bit load widens to the 16 rows' weights for one column.
// Either way a packed matrix is exactly as large as the file's.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace hearth::cpu {

inline constexpr int64_t kPackRows = 16;

// Whether a rows x cols matrix of this type has an interleaved layout: rows a multiple of 16;
// F16 and BF16 any width, Q8_0, Q4_0 and Q4_K whole blocks.
bool packable(DType type, int64_t rows, int64_t cols);

// Bytes of one group-block (16 rows x one block; Q8_0 and Q4_0).
int64_t packed_group_block_bytes(DType type);

// src: rows x cols in the file's layout; dst: the same number of bytes, interleaved.
void pack_rows16(DType type, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst);

// Writes rows [r0, r0 + n) of an interleaved matrix back in the file's row layout (the
// fallback for kernel tables without an interleaved kernel, and the tests' reference).
void unpack_rows16(DType type, const uint8_t* packed, int64_t cols, int64_t r0, int64_t n,
                   uint8_t* dst);

}  // namespace hearth::cpu
