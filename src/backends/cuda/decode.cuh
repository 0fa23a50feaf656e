// Device-side decoders for the GGML weight formats (layouts: src/ops/quant.h). Every format is
// read in units of 32 consecutive elements of a row: a Q8_0/Q4_0 block, one sub-block of a
// Q4_K super-block, two sub-blocks of a Q6_K one, or 32 plain values. The GEMV, get_rows and
// dequantize kernels are templates over these decoders, instantiated once per format.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace hearth::cuda {

inline constexpr int kUnit = 32;

__host__ __device__ __forceinline__ float half_bits_to_float(uint16_t h) {
  return __half2float(__ushort_as_half(h));
}
__host__ __device__ __forceinline__ uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

// Each decoder: block_elems/block_bytes (one GGML block), and decode(row, unit, out, valid)
// writing elements [32 unit, 32 unit + valid) of the row to out[0..valid). valid < 32 only for
// the plain types, whose rows need not be whole units (stories260K's 172-wide FFN rows).
// Host and device: the tests check the layouts on the CPU too (decode_row_on_host).
struct DecodeF32 {
  static constexpr int block_elems = 1, block_bytes = 4;
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int valid) {
    const float* p = reinterpret_cast<const float*>(row) + unit * kUnit;
    for (int j = 0; j < valid; ++j) out[j] = p[j];
  }
};

struct DecodeF16 {
  static constexpr int block_elems = 1, block_bytes = 2;
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int valid) {
    const __half* p = reinterpret_cast<const __half*>(row) + unit * kUnit;
    for (int j = 0; j < valid; ++j) out[j] = __half2float(p[j]);
  }
};

struct DecodeBF16 {
  static constexpr int block_elems = 1, block_bytes = 2;
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int valid) {
    const __nv_bfloat16* p = reinterpret_cast<const __nv_bfloat16*>(row) + unit * kUnit;
    for (int j = 0; j < valid; ++j) out[j] = __bfloat162float(p[j]);
  }
};

struct DecodeQ8_0 {
  static constexpr int block_elems = 32, block_bytes = 34;
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int) {
    const uint8_t* b = row + unit * block_bytes;
    const float d = half_bits_to_float(load_u16(b));
    const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
#pragma unroll
    for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(qs[j]);
  }
};

struct DecodeQ4_0 {
  static constexpr int block_elems = 32, block_bytes = 18;
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int) {
    const uint8_t* b = row + unit * block_bytes;
    const float d = half_bits_to_float(load_u16(b));
    const uint8_t* qs = b + 2;
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      out[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
      out[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
  }
};

struct DecodeQ4_K {
  static constexpr int block_elems = 256, block_bytes = 144;
  // Scale and min of sub-block j from the 12 packed bytes (see unpack_q4_k_scales).
  __host__ __device__ static void scale_min(const uint8_t* q, int j, int& sc, int& m) {
    if (j < 4) {
      sc = q[j] & 63;
      m = q[j + 4] & 63;
    } else {
      sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
      m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
  }
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int) {
    const uint8_t* b = row + (unit / 8) * block_bytes;
    const int sub = static_cast<int>(unit % 8);  // sub-block 2c (low nibbles) or 2c+1 (high)
    const float d = half_bits_to_float(load_u16(b));
    const float dmin = half_bits_to_float(load_u16(b + 2));
    int sc = 0, m = 0;
    scale_min(b + 4, sub, sc, m);
    const float scale = d * static_cast<float>(sc), offset = dmin * static_cast<float>(m);
    const uint8_t* qs = b + 16 + 32 * (sub / 2);
    const int shift = (sub & 1) ? 4 : 0;
#pragma unroll
    for (int l = 0; l < 32; ++l) out[l] = scale * static_cast<float>((qs[l] >> shift) & 0x0f) - offset;
  }
};

struct DecodeQ6_K {
  static constexpr int block_elems = 256, block_bytes = 210;
  __host__ __device__ static void decode(const uint8_t* row, int64_t unit, float* out, int) {
    const uint8_t* b = row + (unit / 8) * block_bytes;
    const int u = static_cast<int>(unit % 8);
    const int half = u / 4, quarter = u % 4;  // elements 128 half + 32 quarter + l
    const uint8_t* ql = b + 64 * half + ((quarter & 1) ? 32 : 0);
    const uint8_t* qh = b + 128 + 32 * half;
    const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
    const float d = half_bits_to_float(load_u16(b + 208));
    const int nib_shift = (quarter >= 2) ? 4 : 0, hi_shift = 2 * quarter;
    const int g0 = 8 * half + 2 * quarter;  // sub-block of elements l < 16; g0 + 1 for the rest
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      const int q = (((ql[l] >> nib_shift) & 0x0f) | (((qh[l] >> hi_shift) & 3) << 4)) - 32;
      out[l] = d * static_cast<float>(scales[g0 + (l >= 16)]) * static_cast<float>(q);
    }
  }
};

}  // namespace hearth::cuda
