// Portable matmul tiles. They compute exactly what the SIMD tiles compute (same activation
// quantization, same integer block sums); only the float summation order differs. Weight
// bytes are read with memcpy, so float rows need no particular alignment.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/generic/generic_kernels.h"
#include "core/dtype.h"
#include "ops/quant.h"

namespace hearth::cpu::generic {
namespace {

using ops::BlockQ4_0;
using ops::BlockQ4_K;
using ops::BlockQ6_K;
using ops::BlockQ8_0;
using ops::kQK_K;

constexpr int kChunk = 256;  // float weights are decoded this many at a time

float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Activation row accessors (layout in kernels.h).
struct ActRow {
  const int8_t* qs;
  const float* d;
  const int16_t* sums;
};
ActRow act_row(const GemvTile& t, int token, int block) {
  const uint8_t* base = t.act + token * t.act_stride;
  const ActLayout layout = act_layout(block == 32 ? ActFormat::Q8_32 : ActFormat::Q8_256, t.cols);
  return {reinterpret_cast<const int8_t*>(base),
          reinterpret_cast<const float*>(base + layout.d_offset),
          reinterpret_cast<const int16_t*>(base + layout.sums_offset)};
}

// Float weights: decode a chunk of the row to float once, use it for every token.
template <typename Decode>
void gemv_float(const GemvTile& t, int elem_bytes, Decode decode) {
  float wbuf[kChunk];
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const uint8_t* row = t.w + r * t.w_row_bytes;
    float acc[kTokenTile] = {};
    for (int64_t c0 = 0; c0 < t.cols; c0 += kChunk) {
      const int n = static_cast<int>(t.cols - c0 < kChunk ? t.cols - c0 : kChunk);
      for (int i = 0; i < n; ++i) wbuf[i] = decode(row + (c0 + i) * elem_bytes);
      for (int k = 0; k < t.n_tokens; ++k) {
        const float* x = reinterpret_cast<const float*>(t.act + k * t.act_stride) + c0;
        float s = 0.0f;
        for (int i = 0; i < n; ++i) s += wbuf[i] * x[i];
        acc[k] += s;
      }
    }
    for (int k = 0; k < t.n_tokens; ++k) t.y[k * t.y_stride + r] = acc[k];
  }
}

int32_t dot32(const int8_t* a, const int8_t* b) {
  int32_t s = 0;
  for (int i = 0; i < 32; ++i) s += a[i] * b[i];
  return s;
}

// Blocks of 32 signed levels with one fp16 scale (Q8_0, Q4_0 decoded to int8), against
// activations with a scale per block (Q8_0) or per 8 blocks (Q4_0: Q8_256, see kernels.h).
template <typename Block, typename Unpack>
void gemv_blocks32(const GemvTile& t, Unpack unpack, int64_t blocks_per_scale) {
  const int64_t nb = t.cols / 32;
  ActRow acts[kTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) acts[k] = act_row(t, k, blocks_per_scale == 1 ? 32 : 256);
  int8_t q[32];
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const Block* blocks = reinterpret_cast<const Block*>(t.w + r * t.w_row_bytes);
    float acc[kTokenTile] = {};
    for (int64_t b = 0; b < nb; ++b) {
      unpack(blocks[b], q);
      const float dw = fp16_to_fp32(blocks[b].d);
      for (int k = 0; k < t.n_tokens; ++k)
        acc[k] += dw * acts[k].d[b / blocks_per_scale] * static_cast<float>(dot32(q, acts[k].qs + 32 * b));
    }
    for (int k = 0; k < t.n_tokens; ++k) t.y[k * t.y_stride + r] = acc[k];
  }
}

}  // namespace

// ---------------------------------------------------------------- activations

namespace {
// One block of activations: scale amax/127 and levels round-half-even(x * 127/amax). The
// `poison` term is 0 for finite input and NaN otherwise, so a non-finite activation makes
// its block's scale NaN and every output that uses it NaN, as float math would.
void quantize_act_block(const float* x, int n, int8_t* q, float* d) {
  float amax = 0.0f, poison = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    amax = a > amax ? a : amax;
    poison += x[i] * 0.0f;
  }
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  *d = amax / 127.0f + poison;
  for (int i = 0; i < n; ++i) {
    const float v = std::nearbyint(x[i] * id);  // ties to even, as cvtps2dq
    q[i] = static_cast<int8_t>(v >= -127.0f && v <= 127.0f ? v : (v > 0 ? 127 : -128));
  }
}
}  // namespace

void quantize_act_q8_32(const float* x, int64_t cols, uint8_t* dst) {
  const ActLayout layout = act_layout(ActFormat::Q8_32, cols);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + layout.d_offset);
  for (int64_t b = 0; b < cols / 32; ++b) quantize_act_block(x + 32 * b, 32, q + 32 * b, d + b);
}

void quantize_act_q8_256(const float* x, int64_t cols, uint8_t* dst) {
  const ActLayout layout = act_layout(ActFormat::Q8_256, cols);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + layout.d_offset);
  auto* sums = reinterpret_cast<int16_t*>(dst + layout.sums_offset);
  for (int64_t b = 0; b * kQK_K < cols; ++b)  // a last group of cols % 256 (Q4_0 rows)
    quantize_act_block(x + kQK_K * b, static_cast<int>(std::min<int64_t>(kQK_K, cols - kQK_K * b)), q + kQK_K * b, d + b);
  for (int64_t g = 0; g < cols / 16; ++g) {
    int s = 0;
    for (int i = 0; i < 16; ++i) s += q[16 * g + i];
    sums[g] = static_cast<int16_t>(s);
  }
}

// ---------------------------------------------------------------- float weights

void gemv_f32(const GemvTile& t) { gemv_float(t, 4, load_f32); }
void gemv_f16(const GemvTile& t) {
  gemv_float(t, 2, [](const uint8_t* p) { return fp16_to_fp32(load_u16(p)); });
}
void gemv_bf16(const GemvTile& t) {
  gemv_float(t, 2, [](const uint8_t* p) { return bf16_to_fp32(load_u16(p)); });
}

// ---------------------------------------------------------------- 32-element blocks

void gemv_q8_0(const GemvTile& t) {
  gemv_blocks32<BlockQ8_0>(t, [](const BlockQ8_0& b, int8_t* q) { std::memcpy(q, b.qs, 32); }, 1);
}

void gemv_q4_0(const GemvTile& t) {
  gemv_blocks32<BlockQ4_0>(t, [](const BlockQ4_0& b, int8_t* q) {
    for (int j = 0; j < 16; ++j) {
      q[j] = static_cast<int8_t>((b.qs[j] & 0xF) - 8);
      q[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
    }
  }, 8);
}

// ---------------------------------------------------------------- K-quants
// Per super-block: sum_j d*sc_j*q*a - dmin*m_j*a = d_w*d_a*sum_j sc_j*(q.a)_j
//                                                 - dmin_w*d_a*sum_j m_j*(sum a)_j.

void gemv_q4_k(const GemvTile& t) {
  const int64_t nb = t.cols / kQK_K;
  ActRow acts[kTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) acts[k] = act_row(t, k, kQK_K);
  int8_t q[kQK_K];
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const auto* blocks = reinterpret_cast<const BlockQ4_K*>(t.w + r * t.w_row_bytes);
    float acc[kTokenTile] = {};
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ4_K& blk = blocks[b];
      uint8_t sm[16];  // scales, then mins
      ops::unpack_q4_k_scales(blk.scales, sm);
      for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
          q[64 * c + l] = static_cast<int8_t>(blk.qs[32 * c + l] & 0xF);
          q[64 * c + 32 + l] = static_cast<int8_t>(blk.qs[32 * c + l] >> 4);
        }
      }
      const float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
      for (int k = 0; k < t.n_tokens; ++k) {
        const int8_t* a = acts[k].qs + kQK_K * b;
        const int16_t* sums = acts[k].sums + 16 * b;
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; ++j) {
          isum += sm[j] * dot32(q + 32 * j, a + 32 * j);
          msum += sm[8 + j] * (sums[2 * j] + sums[2 * j + 1]);
        }
        const float da = acts[k].d[b];
        acc[k] += d * da * static_cast<float>(isum) - dmin * da * static_cast<float>(msum);
      }
    }
    for (int k = 0; k < t.n_tokens; ++k) t.y[k * t.y_stride + r] = acc[k];
  }
}

void gemv_q6_k(const GemvTile& t) {
  const int64_t nb = t.cols / kQK_K;
  ActRow acts[kTokenTile];
  for (int k = 0; k < t.n_tokens; ++k) acts[k] = act_row(t, k, kQK_K);
  int8_t q[kQK_K];  // unsigned levels 0..63; the -32 offset is applied through the sums
  for (int64_t r = 0; r < t.n_rows; ++r) {
    const auto* blocks = reinterpret_cast<const BlockQ6_K*>(t.w + r * t.w_row_bytes);
    float acc[kTokenTile] = {};
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ6_K& blk = blocks[b];
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = blk.ql + 64 * h;
        const uint8_t* qh = blk.qh + 32 * h;
        int8_t* o = q + 128 * h;
        for (int l = 0; l < 32; ++l) {
          o[l] = static_cast<int8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
          o[l + 32] = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
          o[l + 64] = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
          o[l + 96] = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
        }
      }
      const float d = fp16_to_fp32(blk.d);
      for (int k = 0; k < t.n_tokens; ++k) {
        const int8_t* a = acts[k].qs + kQK_K * b;
        const int16_t* sums = acts[k].sums + 16 * b;
        int32_t isum = 0;
        for (int g = 0; g < 16; ++g) {
          int32_t s = 0;
          for (int i = 0; i < 16; ++i) s += q[16 * g + i] * a[16 * g + i];
          isum += blk.scales[g] * (s - 32 * sums[g]);
        }
        acc[k] += d * acts[k].d[b] * static_cast<float>(isum);
      }
    }
    for (int k = 0; k < t.n_tokens; ++k) t.y[k * t.y_stride + r] = acc[k];
  }
}

}  // namespace hearth::cpu::generic
