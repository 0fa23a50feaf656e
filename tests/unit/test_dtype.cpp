#include <gtest/gtest.h>

#include <cmath>

#include "core/dtype.h"

using namespace hearth;

TEST(DType, BlockLayoutsMatchGgml) {
  EXPECT_EQ(dtype_info(DType::Q8_0).block_bytes, 34);
  EXPECT_EQ(dtype_info(DType::Q4_0).block_bytes, 18);
  EXPECT_EQ(dtype_info(DType::Q4_K).block_bytes, 144);
  EXPECT_EQ(dtype_info(DType::Q6_K).block_bytes, 210);
  EXPECT_EQ(dtype_row_bytes(DType::Q4_K, 512), 288);
  EXPECT_THROW(dtype_row_bytes(DType::Q8_0, 33), std::exception);
  EXPECT_EQ(ggml_type_name(13), "Q5_K");
  EXPECT_FALSE(dtype_from_ggml(13).has_value());
  EXPECT_EQ(dtype_from_name("q4_k"), DType::Q4_K);
}

TEST(DType, Fp16RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), h) << "half " << h;
  }
}

TEST(DType, Fp16RoundsToNearestEven) {
  // Halfway between 1.0 and the next half (1 + 2^-10) rounds down to even.
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // halfway to the smallest subnormal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
}

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_FLOAT_EQ(bf16_to_fp32(fp32_to_bf16(3.140625f)), 3.140625f);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(NAN))));
}
