// GGUFWriter: byte layout against the spec, round trips through the reader (every value
// type, every tensor type, custom alignment, a real model), and its own input checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "unit/io_test_helpers.h"

using namespace hearth;
using namespace hearth::io;
using namespace hearth::test;

namespace {

// Little-endian encoder used to spell out expected bytes by hand.
struct Bytes {
  std::vector<uint8_t> v;
  template <typename T>
  Bytes& le(T x) {
    for (size_t i = 0; i < sizeof(T); ++i) v.push_back(static_cast<uint8_t>(static_cast<uint64_t>(x) >> (8 * i)));
    return *this;
  }
  Bytes& str(const std::string& s) {
    le<uint64_t>(s.size());
    v.insert(v.end(), s.begin(), s.end());
    return *this;
  }
};

TEST(GGUFWriter, MinimalFileMatchesTheSpecByteForByte) {
  GGUFWriter w;
  w.set("a", GGUFValue::of_u32(7));
  Bytes expected;
  expected.v = {'G', 'G', 'U', 'F'};
  expected.le<uint32_t>(3).le<uint64_t>(0).le<uint64_t>(2);
  expected.str("a").le<uint32_t>(4).le<uint32_t>(7);
  expected.str("general.alignment").le<uint32_t>(4).le<uint32_t>(32);
  expected.v.resize(96, 0);  // 74 bytes of header, zero-padded to the alignment
  EXPECT_EQ(w.to_bytes(), expected.v);
}

TEST(GGUFWriter, TensorInfoListsDimsInnermostFirst) {
  GGUFWriter w;
  const float data[6] = {};
  w.add_tensor("t", DType::F32, {2, 3}, data, sizeof(data));
  const auto bytes = w.to_bytes();
  Bytes info;
  info.str("t").le<uint32_t>(2).le<uint64_t>(3).le<uint64_t>(2).le<uint32_t>(0).le<uint64_t>(0);
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), info.v.begin(), info.v.end()), bytes.end());
}

TEST(GGUFWriter, EveryValueTypeRoundTrips) {
  const std::vector<std::pair<std::string, GGUFValue>> values = {
      {"u8", GGUFValue::of_u8(250)},
      {"i8", GGUFValue::of_i8(-120)},
      {"u16", GGUFValue::of_u16(65000)},
      {"i16", GGUFValue::of_i16(-32000)},
      {"u32", GGUFValue::of_u32(4000000000u)},
      {"i32", GGUFValue::of_i32(-2000000000)},
      {"f32", GGUFValue::of_f32(0.1f)},
      {"bool.t", GGUFValue::of_bool(true)},
      {"bool.f", GGUFValue::of_bool(false)},
      {"str", GGUFValue::of_string("h\xc3\xa9llo\nworld")},
      {"str.empty", GGUFValue::of_string("")},
      {"u64", GGUFValue::of_u64(18000000000000000000ull)},
      {"i64", GGUFValue::of_i64(-9000000000000000000ll)},
      {"f64", GGUFValue::of_f64(1e-300)},
      {"arr.str", GGUFValue::of_strings({"a", "", "ccc"})},
      {"arr.f32", GGUFValue::of_f32s({1.5f, -2.25f})},
      {"arr.i32", GGUFValue::of_i32s({-1, 0, 1})},
      {"arr.empty", GGUFValue::of_array(GGUFType::UINT64, {})},
      {"arr.bool", GGUFValue::of_array(GGUFType::BOOL, {GGUFValue::of_bool(true)})},
      {"arr.nested",
       GGUFValue::of_array(GGUFType::ARRAY, {GGUFValue::of_i32s({1, 2}), GGUFValue::of_strings({"x"}),
                                             GGUFValue::of_array(GGUFType::FLOAT64, {})})},
  };
  GGUFWriter w;
  for (const auto& [k, v] : values) w.set(k, v);
  TempDir dir;
  w.write(dir.file("values.gguf"));
  const auto f = GGUFFile::open(dir.file("values.gguf"));
  ASSERT_EQ(f.metadata().size(), values.size() + 1);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, values[i].first);
    EXPECT_EQ(f.metadata()[i].second, values[i].second) << values[i].first;
  }
  EXPECT_EQ(f.metadata().back().first, "general.alignment");
  EXPECT_EQ(f.get_int("general.alignment"), 32);
  EXPECT_EQ(f.find("f32")->as_float(), static_cast<double>(0.1f));
  EXPECT_EQ(f.find("u64")->as_uint(), 18000000000000000000ull);
  EXPECT_EQ(f.get_string("str"), "h\xc3\xa9llo\nworld");
  EXPECT_EQ(f.get_string_array("arr.str"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.get_float_array("arr.f32"), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(f.get_int_array("arr.i32"), (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_TRUE(f.find("arr.empty")->as_array().empty());
  EXPECT_EQ(f.find("arr.nested")->as_array()[1].as_array()[0].as_string(), "x");
}

TEST(GGUFWriter, SetReplacesAndKeepsPosition) {
  GGUFWriter w;
  w.set("first", GGUFValue::of_u32(1));
  w.set("second", GGUFValue::of_u32(2));
  w.set("first", GGUFValue::of_string("one"));
  const auto bytes = w.to_bytes();
  const auto f = GGUFFile::open_memory(bytes);
  ASSERT_EQ(f.metadata().size(), 3u);
  EXPECT_EQ(f.metadata()[0].first, "first");
  EXPECT_EQ(f.get_string("first"), "one");
  EXPECT_EQ(f.metadata()[1].first, "second");
}

TEST(GGUFWriter, EveryTensorTypeRoundTrips) {
  struct Spec {
    const char* name;
    DType type;
    std::vector<int64_t> shape;
    size_t nbytes;  // from the GGML block layouts: Q4_0 18 B/32, Q8_0 34 B/32, Q4_K 144 B/256, Q6_K 210 B/256
  };
  const std::vector<Spec> specs = {
      {"f32", DType::F32, {3}, 12},
      {"f16", DType::F16, {2, 3, 4}, 48},
      {"bf16", DType::BF16, {5, 1}, 10},
      {"q8_0", DType::Q8_0, {1, 1, 2, 32}, 68},
      {"q4_0", DType::Q4_0, {2, 64}, 72},
      {"q4_k", DType::Q4_K, {1, 256}, 144},
      {"q6_k", DType::Q6_K, {3, 256}, 630},
  };
  std::vector<std::vector<uint8_t>> data;
  GGUFWriter w(64);
  for (size_t i = 0; i < specs.size(); ++i) {
    data.emplace_back(specs[i].nbytes);
    for (size_t j = 0; j < data[i].size(); ++j) data[i][j] = static_cast<uint8_t>(i * 31 + j);
    w.add_tensor(specs[i].name, specs[i].type, specs[i].shape, data[i].data(), data[i].size());
  }
  TempDir dir;
  w.write(dir.file("tensors.gguf"));
  const auto f = GGUFFile::open(dir.file("tensors.gguf"));
  EXPECT_EQ(f.alignment(), 64u);
  ASSERT_EQ(f.tensors().size(), specs.size());
  const uint8_t* section = f.bytes().data() + f.data_offset();
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& t = f.tensors()[i];
    SCOPED_TRACE(specs[i].name);
    EXPECT_EQ(t.name, specs[i].name);
    EXPECT_EQ(t.dtype, specs[i].type);
    EXPECT_EQ(t.shape, specs[i].shape);
    ASSERT_EQ(t.nbytes, specs[i].nbytes);
    EXPECT_EQ(std::memcmp(t.data, data[i].data(), t.nbytes), 0);
    EXPECT_EQ((static_cast<const uint8_t*>(t.data) - section) % 64, 0);
  }
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.file_size() % 64, 0u);  // the last tensor is padded too
}

TEST(GGUFWriter, RealModelRoundTrips) {
  const auto src = GGUFFile::open(testdata("models/stories260K.gguf"));
  GGUFWriter w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  for (const auto& t : src.tensors()) w.add_tensor(t.name, t.dtype, t.shape, t.data, t.nbytes);
  TempDir dir;
  w.write(dir.file("copy.gguf"));
  const auto copy = GGUFFile::open(dir.file("copy.gguf"));
  for (const auto& [k, v] : src.metadata()) {
    ASSERT_NE(copy.find(k), nullptr) << k;
    EXPECT_EQ(*copy.find(k), v) << k;
  }
  ASSERT_EQ(copy.tensors().size(), src.tensors().size());
  for (size_t i = 0; i < src.tensors().size(); ++i) {
    const auto& a = src.tensors()[i];
    const auto& b = copy.tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.shape, b.shape);
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
  }
}

TEST(GGUFWriter, WritesThroughATempFileAndReportsProgress) {
  GGUFWriter w;
  std::vector<uint8_t> big(100000, 7);
  w.add_tensor("x", DType::F32, {25000}, big.data(), big.size());
  w.add_tensor("y", DType::F16, {10}, big.data(), 20);
  TempDir dir;
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  w.write(dir.file("m.gguf"), [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });
  EXPECT_FALSE(std::filesystem::exists(dir.file("m.gguf.tmp")));
  const auto size = std::filesystem::file_size(dir.file("m.gguf"));
  ASSERT_EQ(calls.size(), 3u);  // header, then each tensor
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, size);
    if (i > 0) EXPECT_GT(calls[i].first, calls[i - 1].first);
  }
  EXPECT_EQ(calls.back().first, size);
  EXPECT_EQ(read_bytes(dir.file("m.gguf")), w.to_bytes());
}

TEST(GGUFWriter, UnwritablePathLeavesNothingBehind) {
  TempDir dir;
  GGUFWriter w;
  expect_error<Error>([&] { w.write(dir.file("no/such/dir/m.gguf")); },
                      "cannot write " + dir.file("no/such/dir/m.gguf.tmp") +
                          ": No such file or directory");
}

TEST(GGUFWriter, RejectsBadTensors) {
  GGUFWriter w;
  const std::vector<uint8_t> buf(1024);
  w.add_tensor("ok", DType::F32, {2}, buf.data(), 8);
  expect_error<Error>([&] { w.add_tensor("ok", DType::F32, {2}, buf.data(), 8); },
                      "GGUFWriter: tensor 'ok' is added twice");
  expect_error<Error>([&] { w.add_tensor("n", DType::F32, {2, 2}, buf.data(), 12); },
                      "GGUFWriter: tensor 'n' (F32 [2, 2]) needs 16 bytes, got 12");
  expect_error<Error>([&] { w.add_tensor("z", DType::F32, {2, 0}, buf.data(), 0); },
                      "GGUFWriter: tensor 'z' has invalid shape [2, 0]");
  expect_error<Error>([&] { w.add_tensor("d", DType::F32, {1, 1, 1, 1, 1}, buf.data(), 4); },
                      "GGUFWriter: tensor 'd' has 5 dimensions (at most 4)");
  expect_error<Error>([&] { w.add_tensor("q", DType::Q8_0, {2, 16}, buf.data(), 34); },
                      "GGUFWriter: tensor 'q' has rows of 16 elements, not a multiple of the Q8_0 "
                      "block size 32");
  expect_error<Error>([&] { w.add_tensor("i", DType::I32, {2}, buf.data(), 8); },
                      "GGUFWriter: tensor 'i' has type I32, which GGUF files for hearth cannot hold");
  expect_error<Error>([] { GGUFWriter bad(24); }, "GGUFWriter: alignment 24 is not a power of two");
}

TEST(GGUFWriter, AlignmentKeyAlwaysMatchesTheWriter) {
  GGUFWriter w(16);
  w.set("general.alignment", GGUFValue::of_u32(4096));  // ignored: the layout uses 16
  w.set("after", GGUFValue::of_bool(true));
  const auto bytes = w.to_bytes();
  const auto f = GGUFFile::open_memory(bytes);
  EXPECT_EQ(f.alignment(), 16u);
  EXPECT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].first, "general.alignment");
  EXPECT_EQ(bytes.size() % 16, 0u);
}

}  // namespace

namespace {

TEST(GGUFFileGetters, ConversionsAndRangeErrors) {
  GGUFWriter w;
  w.set("big", GGUFValue::of_u64(uint64_t{1} << 63));
  w.set("ints", GGUFValue::of_array(GGUFType::UINT8, {GGUFValue::of_u8(3), GGUFValue::of_u8(200)}));
  w.set("wide", GGUFValue::of_array(GGUFType::INT64, {GGUFValue::of_i64(1), GGUFValue::of_i64(-3000000000)}));
  w.set("huge", GGUFValue::of_array(GGUFType::UINT64, {GGUFValue::of_u64(~uint64_t{0})}));
  w.set("flag", GGUFValue::of_bool(true));
  const auto bytes = w.to_bytes();
  const auto f = GGUFFile::open_memory(bytes, "m.gguf");
  expect_error<FormatError>([&] { f.get_int("big"); },
                            "m.gguf: metadata key 'big' has value 9223372036854775808, which does "
                            "not fit in a signed 64-bit integer");
  EXPECT_EQ(f.get_float("big"), 9223372036854775808.0);
  EXPECT_EQ(f.get_int_array("ints"), (std::vector<int32_t>{3, 200}));
  EXPECT_EQ(f.get_float_array("ints"), (std::vector<float>{3.0f, 200.0f}));
  expect_error<FormatError>([&] { f.get_int_array("wide"); },
                            "m.gguf: metadata key 'wide' element 1 is -3000000000, outside the "
                            "32-bit integer range");
  expect_error<FormatError>([&] { f.get_int_array("huge"); },
                            "m.gguf: metadata key 'huge' element 0 is 18446744073709551615, "
                            "outside the 32-bit integer range");
  expect_error<FormatError>([&] { f.get_float("flag"); },
                            "m.gguf: metadata key 'flag' has type BOOL, expected a number");
  EXPECT_EQ(f.find_bool("flag"), true);
  EXPECT_EQ(f.find_bool("absent"), std::nullopt);
  EXPECT_EQ(f.find_string("absent"), std::nullopt);
  EXPECT_EQ(f.find_float("absent"), std::nullopt);
}

}  // namespace
