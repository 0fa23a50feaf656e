// Block formats: hand-built blocks decode to the values the format specification gives,
// the reference quantizers follow ggml's rules on inputs whose result can be worked out by
// hand, and random rows round-trip within error bounds derived from each format.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "ops/quant.h"
#include "random_util.h"

using namespace hearth;
using namespace hearth::ops;
using hearth::testing::make_rng;
using hearth::testing::seed_note;
using hearth::testing::uniform;

namespace {

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> bytes(
      static_cast<size_t>(dtype_row_bytes(t, static_cast<int64_t>(x.size()))));
  quantize_row(t, x.data(), bytes.data(), static_cast<int64_t>(x.size()));
  return bytes;
}

std::vector<float> dequantize(DType t, const void* src, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t, src, out.data(), n);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- hand-built blocks

TEST(QuantDecode, Q8_0HandBuilt) {
  BlockQ8_0 b;
  b.d = 0x3800;                                                             // fp16 0.5
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);  // -128 .. 120
  const auto y = dequantize(DType::Q8_0, &b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (j * 8 - 128) * 0.5f) << j;
}

TEST(QuantDecode, Q4_0HandBuilt) {
  BlockQ4_0 b;
  b.d = 0xC000;  // fp16 -2.0
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = dequantize(DType::Q4_0, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * -2.0f) << j;            // low nibble: element j
    EXPECT_EQ(y[j + 16], (15 - j - 8) * -2.0f) << j;  // high nibble: element j + 16
  }
}

TEST(QuantDecode, Q4_KHandBuilt) {
  // Sub-block scales and mins, packed by hand following the 12-byte layout:
  //   bytes 0-3  : sc[j] | (sc[j+4] >> 4) << 6        bytes 4-7: m[j] | (m[j+4] >> 4) << 6
  //   bytes 8-11 : (sc[j+4] & 15) | (m[j+4] & 15) << 4
  const int sc[8] = {10, 20, 30, 40, 17, 33, 50, 63};
  const int m[8] = {1, 2, 3, 4, 18, 36, 49, 62};
  const uint8_t packed[12] = {74, 148, 222, 232, 65, 130, 195, 196, 33, 65, 18, 239};
  BlockQ4_K b;
  b.d = 0x3C00;     // 1.0
  b.dmin = 0x3800;  // 0.5
  std::memcpy(b.scales, packed, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | ((i * 7 % 16) << 4));
  const auto y = dequantize(DType::Q4_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    // Chunk c = e / 64 holds 64 elements: first the low nibbles of qs[32c..32c+32), then the
    // high nibbles of the same bytes; sub-block = e / 32.
    const int c = e / 64, p = e % 64;
    const uint8_t byte = b.qs[32 * c + p % 32];
    const int q = p < 32 ? (byte & 15) : (byte >> 4);
    const int s = e / 32;
    EXPECT_EQ(y[e], 1.0f * sc[s] * q - 0.5f * m[s]) << "element " << e;
  }
}

TEST(QuantDecode, Q6_KHandBuilt) {
  BlockQ6_K b;
  b.d = 0x3400;                                                                // 0.25
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(g * 9 - 70);  // negative too
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 37 + 11);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(i * 53 + 5);
  const auto y = dequantize(DType::Q6_K, &b, 256);
  for (int e = 0; e < 256; ++e) {
    // Half h of 128 elements uses ql[64h..], qh[32h..]; quarter k = (e % 128) / 32 takes the
    // low (k < 2) or high nibble of ql[l + 32 * (k & 1)] and bits 2k..2k+1 of qh[l].
    const int h = e / 128, r = e % 128, l = r % 32, k = r / 32;
    const uint8_t lo_byte = b.ql[64 * h + l + 32 * (k & 1)];
    const int lo = k < 2 ? (lo_byte & 15) : (lo_byte >> 4);
    const int hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
    const int q = lo | (hi << 4);
    EXPECT_EQ(y[e], 0.25f * b.scales[e / 16] * (q - 32)) << "element " << e;
  }
}

TEST(QuantDecode, PlainTypes) {
  const uint16_t halves[3] = {0x3C00, 0xC100, 0x7BFF};  // 1, -2.5, 65504
  const auto f16 = dequantize(DType::F16, halves, 3);
  EXPECT_EQ(f16, (std::vector<float>{1.0f, -2.5f, 65504.0f}));
  const uint16_t bf[2] = {0x3F80, 0xC020};  // 1, -2.5
  EXPECT_EQ(dequantize(DType::BF16, bf, 2), (std::vector<float>{1.0f, -2.5f}));
  const int32_t ints[2] = {-7, 1 << 20};
  EXPECT_EQ(dequantize(DType::I32, ints, 2), (std::vector<float>{-7.0f, 1048576.0f}));
}

// ---------------------------------------------------------------- ggml's quantization rules

TEST(QuantEncode, Q8_0FollowsGgmlRule) {
  // d = amax / 127, q = roundf(x / d) (ggml multiplies by 1/d).
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) * 0.25f;  // amax 4 at j = 0
  const auto bytes = quantize(DType::Q8_0, x);
  BlockQ8_0 b;
  std::memcpy(&b, bytes.data(), sizeof b);
  EXPECT_EQ(b.d, fp32_to_fp16(4.0f / 127));
  const float id = 1.0f / (4.0f / 127);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(b.qs[j], static_cast<int8_t>(std::round(x[j] * id))) << j;
  EXPECT_EQ(b.qs[0], -127);
}

TEST(QuantEncode, Q4_0FollowsGgmlRule) {
  // The value of largest magnitude (-16 here) maps to level 0 (= -8): d = max / -8 = 2, and
  // q = min(15, trunc(x / d + 8.5)).
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const auto bytes = quantize(DType::Q4_0, x);
  BlockQ4_0 b;
  std::memcpy(&b, bytes.data(), sizeof b);
  EXPECT_EQ(b.d, 0x4000);  // 2.0
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, static_cast<int>(x[j] / 2 + 8.5f));
    const int hi = std::min(15, static_cast<int>(x[j + 16] / 2 + 8.5f));
    EXPECT_EQ(b.qs[j], lo | (hi << 4)) << j;
  }
  EXPECT_EQ(b.qs[0] & 15, 0);    // -16 -> level 0
  EXPECT_EQ(b.qs[15] >> 4, 15);  // 15 -> 16 clamped to 15
}

TEST(QuantEncode, ZeroRowsGiveZeroBlocks) {
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    const auto bytes = quantize(t, std::vector<float>(512, 0.0f));
    const auto y = dequantize(t, bytes.data(), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
  }
}

TEST(QuantEncode, KQuantsRepresentAGridExactly) {
  // Every sub-block lies on a grid the format can represent: Q4_K levels 0..15 with scale 0.5
  // and min -2; Q6_K levels -32, -29, .. 13 times 1/16 (the most negative value sets the
  // scale to exactly 1/16). The scale search must find them; what is left is the fp16 and
  // 6-bit rounding of the Q4_K scales (relative 2^-11, times at most 15 levels).
  std::vector<float> x4(256), x6(256);
  for (int i = 0; i < 256; ++i) {
    x4[i] = (i % 16) * 0.5f - 2.0f;
    x6[i] = static_cast<float>(-32 + (i % 16) * 3) / 16.0f;
  }
  const auto y4 = dequantize(DType::Q4_K, quantize(DType::Q4_K, x4).data(), 256);
  const auto y6 = dequantize(DType::Q6_K, quantize(DType::Q6_K, x6).data(), 256);
  for (int i = 0; i < 256; ++i) {
    EXPECT_NEAR(y4[i], x4[i], 7.5f / 1024) << i;
    EXPECT_EQ(y6[i], x6[i]) << i;
  }
}

// ---------------------------------------------------------------- random round trips

class QuantRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_ = make_rng(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  std::mt19937_64 rng_;
};

TEST_F(QuantRoundTrip, Q8_0WithinHalfAStep) {
  SCOPED_TRACE(seed_note());
  const auto x = uniform(rng_, 32 * 64, -3.0f, 3.0f);
  const auto bytes = quantize(DType::Q8_0, x);
  const auto y = dequantize(DType::Q8_0, bytes.data(), static_cast<int64_t>(x.size()));
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(bytes.data());
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
    const float d = amax / 127, d16 = fp16_to_fp32(blocks[b].d);
    // Rounding to the nearest level costs d/2; storing d as fp16 moves level q by q*|d-d16|.
    const float bound = d / 2 + 127 * std::fabs(d - d16) + 1e-7f;
    for (int j = 0; j < 32; ++j)
      ASSERT_LE(std::fabs(y[32 * b + j] - x[32 * b + j]), bound) << "block " << b << " elem " << j;
  }
}

TEST_F(QuantRoundTrip, Q4_0WithinOneStep) {
  SCOPED_TRACE(seed_note());
  const auto x = uniform(rng_, 32 * 64, -3.0f, 3.0f);
  const auto bytes = quantize(DType::Q4_0, x);
  const auto y = dequantize(DType::Q4_0, bytes.data(), static_cast<int64_t>(x.size()));
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(bytes.data());
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const float d16 = std::fabs(fp16_to_fp32(blocks[b].d));
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
    const float d = amax / 8;
    for (int j = 0; j < 32; ++j) {
      const float v = x[32 * b + j];
      // Half a step, except values of the opposite sign near amax: level +8 does not exist,
      // so they clamp to +7 (up to one step). Plus the fp16 rounding of d (8 levels out).
      const float steps = std::fabs(v) / d >= 7.5f ? 1.0f : 0.5f;
      const float bound = steps * d + 8 * std::fabs(d - d16) + 1e-6f;
      ASSERT_LE(std::fabs(y[32 * b + j] - v), bound) << "block " << b << " elem " << j;
    }
  }
}

// K-quants fit each sub-block's range with 16 (Q4_K) or 64 (Q6_K) levels. For data uniform in
// [-1, 1] a sub-block spans ~2, so the step is ~2/15 (Q4_K) or ~1/32 (Q6_K) and uniform
// rounding noise has rms step/sqrt(12): 0.038 and 0.009, i.e. 6.7% and 1.6% of rms(x)=0.577.
// The scale search can only lower that; 6-bit/8-bit scale rounding adds a little. Bounds:
// relative rms error below 7.5% / 2%, and no element off by more than one step.
void check_k_round_trip(DType t, std::mt19937_64& rng, double rel_rms_bound, float max_step) {
  const auto x = uniform(rng, 256 * 32);
  const auto y = dequantize(t, quantize(t, x).data(), static_cast<int64_t>(x.size()));
  double se = 0, sx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    se += (y[i] - x[i]) * (y[i] - x[i]);
    sx += x[i] * x[i];
    ASSERT_LE(std::fabs(y[i] - x[i]), max_step) << dtype_name(t) << " element " << i;
  }
  EXPECT_LT(std::sqrt(se / sx), rel_rms_bound) << dtype_name(t);
}

TEST_F(QuantRoundTrip, Q4_KErrorBounds) {
  SCOPED_TRACE(seed_note());
  check_k_round_trip(DType::Q4_K, rng_, 0.075, 2.0f / 15);
}

TEST_F(QuantRoundTrip, Q6_KErrorBounds) {
  SCOPED_TRACE(seed_note());
  check_k_round_trip(DType::Q6_K, rng_, 0.02, 1.0f / 32);
}

TEST_F(QuantRoundTrip, FloatTypesRoundToNearest) {
  SCOPED_TRACE(seed_note());
  const auto x = uniform(rng_, 1000, -100.0f, 100.0f);
  const auto f32 = dequantize(DType::F32, quantize(DType::F32, x).data(), 1000);
  EXPECT_EQ(f32, x);
  const auto f16 = dequantize(DType::F16, quantize(DType::F16, x).data(), 1000);
  const auto b16 = dequantize(DType::BF16, quantize(DType::BF16, x).data(), 1000);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(f16[i] - x[i]), std::fabs(x[i]) * 0x1p-11f)
        << i;  // half ulp, 10-bit mantissa
    EXPECT_LE(std::fabs(b16[i] - x[i]), std::fabs(x[i]) * 0x1p-8f)
        << i;  // half ulp, 7-bit mantissa
  }
}

// ---------------------------------------------------------------- bad input

TEST(QuantErrors, CountNotAMultipleOfTheBlock) {
  std::vector<float> x(300, 1.0f);
  std::vector<uint8_t> buf(4096);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    EXPECT_THROW(quantize_row(t, x.data(), buf.data(), 300), Error) << dtype_name(t);
    EXPECT_THROW(dequantize_row(t, buf.data(), x.data(), 300), Error) << dtype_name(t);
  }
  EXPECT_THROW(quantize_row(DType::F32, x.data(), buf.data(), -1), Error);
  EXPECT_THROW(quantize_row(DType::I32, x.data(), buf.data(), 4), Error);
}

TEST(QuantErrors, NonFiniteInputDoesNotCrash) {
  std::vector<float> x(256, 1.0f);
  x[3] = NAN;
  x[40] = INFINITY;
  x[100] = -INFINITY;
  std::vector<uint8_t> buf(1024);
  std::vector<float> y(256);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::F16, DType::BF16}) {
    quantize_row(t, x.data(), buf.data(), 256);
    dequantize_row(t, buf.data(), y.data(), 256);
  }
}
