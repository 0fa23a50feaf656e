// GGUFValue: factories, typed accessors and their errors, display strings.
#include <gtest/gtest.h>

#include <limits>

#include "core/error.h"
#include "io/gguf_value.h"
#include "unit/io_test_helpers.h"

using namespace hearth;
using namespace hearth::io;
using hearth::test::expect_error;

namespace {

TEST(GGUFValue, IntegersConvertWithinRange) {
  EXPECT_EQ(GGUFValue::of_u8(255).as_int(), 255);
  EXPECT_EQ(GGUFValue::of_i8(-128).as_int(), -128);
  EXPECT_EQ(GGUFValue::of_u32(4294967295u).as_int(), 4294967295);
  EXPECT_EQ(GGUFValue::of_i64(std::numeric_limits<int64_t>::min()).as_int(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(GGUFValue::of_u64(std::numeric_limits<uint64_t>::max()).as_uint(),
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(GGUFValue::of_i16(-3).as_float(), -3.0);
  EXPECT_TRUE(GGUFValue::of_u16(1).is_integer());
  EXPECT_FALSE(GGUFValue::of_bool(true).is_integer());
  EXPECT_FALSE(GGUFValue::of_f32(1).is_integer());
  expect_error<FormatError>([] { GGUFValue::of_u64(uint64_t{1} << 63).as_int(); },
                            "GGUF value 9223372036854775808 does not fit in a signed 64-bit integer");
  expect_error<FormatError>([] { GGUFValue::of_i32(-1).as_uint(); },
                            "GGUF value -1 is negative, expected an unsigned integer");
}

TEST(GGUFValue, WrongTypeNamesTheActualType) {
  expect_error<FormatError>([] { GGUFValue::of_string("x").as_int(); },
                            "GGUF value has type STRING, expected an integer");
  expect_error<FormatError>([] { GGUFValue::of_f32(1).as_int(); },
                            "GGUF value has type FLOAT32, expected an integer");
  expect_error<FormatError>([] { GGUFValue::of_bool(true).as_float(); },
                            "GGUF value has type BOOL, expected a number");
  expect_error<FormatError>([] { GGUFValue::of_u8(1).as_bool(); },
                            "GGUF value has type UINT8, expected BOOL");
  expect_error<FormatError>([] { GGUFValue::of_i32s({1}).as_string(); },
                            "GGUF value has type ARRAY of INT32, expected STRING");
  expect_error<FormatError>([] { GGUFValue::of_string("").as_array(); },
                            "GGUF value has type STRING, expected ARRAY");
}

TEST(GGUFValue, ArraysHoldOneElementType) {
  const auto a = GGUFValue::of_strings({"x", "y"});
  EXPECT_EQ(a.type, GGUFType::ARRAY);
  EXPECT_EQ(a.elem_type, GGUFType::STRING);
  EXPECT_EQ(a.as_array().at(1).as_string(), "y");
  expect_error<Error>(
      [] { GGUFValue::of_array(GGUFType::INT32, {GGUFValue::of_i32(1), GGUFValue::of_u32(2)}); },
      "GGUF array of INT32 cannot hold an element of type UINT32");
  const auto nested = GGUFValue::of_array(GGUFType::ARRAY, {a, GGUFValue::of_i32s({})});
  EXPECT_EQ(nested.type_name(), "ARRAY of ARRAY");
  EXPECT_EQ(nested.as_array()[1].as_array().size(), 0u);
}

TEST(GGUFValue, EqualityComparesTypeAndValue) {
  EXPECT_EQ(GGUFValue::of_u32(5), GGUFValue::of_u32(5));
  EXPECT_NE(GGUFValue::of_u32(5), GGUFValue::of_u64(5));
  EXPECT_NE(GGUFValue::of_i32s({1, 2}), GGUFValue::of_i32s({1, 3}));
}

TEST(GGUFValue, DisplayStrings) {
  EXPECT_EQ(GGUFValue::of_string("a\"b\n\x01").to_display_string(), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(GGUFValue::of_f32(0.1f).to_display_string(), "0.1");
  EXPECT_EQ(GGUFValue::of_bool(false).to_display_string(), "false");
  EXPECT_EQ(GGUFValue::of_i8(-5).to_display_string(), "-5");
  EXPECT_EQ(GGUFValue::of_u64(18446744073709551615ull).to_display_string(), "18446744073709551615");
  EXPECT_EQ(GGUFValue::of_i32s({1, 2, 3, 4}).to_display_string(2), "[1, 2, ... (4 items)]");
  EXPECT_EQ(GGUFValue::of_strings({}).to_display_string(), "[]");
  EXPECT_EQ(gguf_type_name(static_cast<GGUFType>(13)), "type 13");
}

}  // namespace
