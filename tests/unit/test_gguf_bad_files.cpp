// Every malformed-GGUF case, each built by corrupting a valid file from GGUFWriter and
// checked for its exact one-line message. Byte offsets follow from the GGUF spec layout:
// after a key string comes u32 type then the value (arrays: u32 element type, u64 count);
// after a tensor name comes u32 n_dims, u64 dims[n_dims], u32 type, u64 offset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "io/gguf.h"
#include "unit/io_test_helpers.h"

using namespace hearth;
using namespace hearth::io;
using namespace hearth::test;

namespace {

constexpr const char* kQ = "blk.0.attn_q.weight";  // F32 {2, 4}: 32 bytes at offset 0
constexpr const char* kK = "blk.0.attn_k.weight";  // Q8_0 {1, 32}: 34 bytes at offset 32

class GGUFBadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    GGUFWriter w;
    w.set("general.architecture", GGUFValue::of_string("llama"));
    w.set("test.key_a", GGUFValue::of_u32(7));
    w.set("test.key_b", GGUFValue::of_u32(8));
    w.set("test.list", GGUFValue::of_i32s({1, 2, 3}));
    w.add_tensor(kQ, DType::F32, {2, 4}, f32_, sizeof(f32_));
    w.add_tensor(kK, DType::Q8_0, {1, 32}, q8_.data(), q8_.size());
    w.write(dir_.file("good.gguf"));
    bytes_ = read_bytes(dir_.file("good.gguf"));
    ASSERT_NO_THROW(GGUFFile::open(dir_.file("good.gguf")));
  }

  // Offset just past the string field (u64 length + bytes) holding `s`; it must be unique.
  size_t after(const std::string& s) const {
    std::vector<uint8_t> field(8 + s.size());
    const uint64_t len = s.size();
    std::memcpy(field.data(), &len, 8);
    std::memcpy(field.data() + 8, s.data(), s.size());
    auto it = std::search(bytes_.begin(), bytes_.end(), field.begin(), field.end());
    EXPECT_NE(it, bytes_.end()) << s;
    EXPECT_EQ(std::search(it + 1, bytes_.end(), field.begin(), field.end()), bytes_.end()) << s;
    return static_cast<size_t>(it - bytes_.begin()) + field.size();
  }
  template <typename T>
  void put(size_t offset, T value) {
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
  }
  void truncate(size_t size) { bytes_.resize(size); }
  // End of the tensor infos and start of the data section (alignment 32).
  size_t infos_end() const { return after(kK) + 4 + 2 * 8 + 4 + 8; }
  size_t data_start() const { return (infos_end() + 31) / 32 * 32; }

  // Writes the corrupted bytes and expects open() to fail with "PATH: <message>".
  void expect_error(const std::string& message) {
    const std::string path = dir_.file("bad.gguf");
    write_bytes(path, bytes_);
    hearth::test::expect_error<FormatError>([&] { GGUFFile::open(path); }, path + ": " + message);
  }

  TempDir dir_;
  std::vector<uint8_t> bytes_;
  float f32_[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<uint8_t> q8_ = std::vector<uint8_t>(34, 1);
};

TEST_F(GGUFBadFile, WrongMagic) {
  std::memcpy(bytes_.data(), "GGML", 4);
  expect_error("not a GGUF file (magic \"GGML\", expected \"GGUF\")");
}

TEST_F(GGUFBadFile, BinaryMagicIsEscaped) {
  put<uint32_t>(0, 0x00ff0102);
  expect_error("not a GGUF file (magic \"\\x02\\x01\\xff\\x00\", expected \"GGUF\")");
}

TEST_F(GGUFBadFile, EmptyFile) {
  truncate(0);
  expect_error("not a GGUF file (the file is empty)");
}

TEST_F(GGUFBadFile, Version1) {
  put<uint32_t>(4, 1);
  expect_error("GGUF v1 is not supported; re-convert the model with a current converter");
}

TEST_F(GGUFBadFile, UnknownVersion) {
  put<uint32_t>(4, 4);
  expect_error("unsupported GGUF version 4 (hearth reads versions 2 and 3)");
}

TEST_F(GGUFBadFile, BigEndianFile) {
  put<uint32_t>(4, 0x03000000);
  expect_error("big-endian GGUF files are not supported; use a little-endian conversion");
}

TEST_F(GGUFBadFile, Version2IsAccepted) {
  put<uint32_t>(4, 2);
  write_bytes(dir_.file("v2.gguf"), bytes_);
  const auto f = GGUFFile::open(dir_.file("v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.tensors().size(), 2u);
}

TEST_F(GGUFBadFile, TruncatedInHeader) {
  truncate(10);
  expect_error("truncated at byte 10 while reading the header");
}

TEST_F(GGUFBadFile, TruncatedInMetadataKey) {
  // Entry 1 starts after entry 0's value: u32 type + the string "llama".
  const size_t entry1 = after("general.architecture") + 4 + 8 + 5;
  truncate(entry1 + 8 + 3);
  expect_error(fmt::format("truncated at byte {} while reading the key of metadata entry 1",
                           entry1 + 11));
}

TEST_F(GGUFBadFile, TruncatedInMetadataValue) {
  truncate(after("test.list") + 4 + 4 + 8 + 6);  // inside the second INT32 element
  expect_error(fmt::format("truncated at byte {} while reading the value of metadata key "
                           "'test.list'",
                           bytes_.size()));
}

TEST_F(GGUFBadFile, TruncatedInTensorInfo) {
  truncate(after(kQ) + 6);
  expect_error(fmt::format("truncated at byte {} while reading the info of tensor '{}'",
                           bytes_.size(), kQ));
}

TEST_F(GGUFBadFile, TruncatedTensorData) {
  truncate(data_start() + 32 + 20);  // second tensor needs 34 bytes
  expect_error(fmt::format("tensor '{}' ({}+34) extends past the end of the file (size {})", kK,
                           data_start() + 32, data_start() + 52));
}

TEST_F(GGUFBadFile, TensorOffsetPastTheEnd) {
  put<uint64_t>(after(kK) + 4 + 16 + 4, 1 << 20);
  expect_error(fmt::format("tensor '{}' ({}+34) extends past the end of the file (size {})", kK,
                           data_start() + (1 << 20), bytes_.size()));
}

TEST_F(GGUFBadFile, AbsurdStringLength) {
  // The first key's length field follows magic, version and the two counts.
  put<uint64_t>(24, std::numeric_limits<uint64_t>::max());
  expect_error(fmt::format("corrupt string length 18446744073709551615 at byte 24 while reading "
                           "the key of metadata entry 0 (the file has only {} bytes)",
                           bytes_.size()));
}

TEST_F(GGUFBadFile, AbsurdArrayCount) {
  const size_t count_at = after("test.list") + 4 + 4;
  put<uint64_t>(count_at, uint64_t{1} << 62);
  expect_error(fmt::format("corrupt array count 4611686018427387904 at byte {} while reading the "
                           "value of metadata key 'test.list' (the file has only {} bytes)",
                           count_at, bytes_.size()));
}

TEST_F(GGUFBadFile, AbsurdTensorCount) {
  put<uint64_t>(8, uint64_t{1} << 60);
  expect_error(fmt::format("corrupt tensor count 1152921504606846976 at byte 8 while reading the "
                           "header (the file has only {} bytes)",
                           bytes_.size()));
}

TEST_F(GGUFBadFile, AbsurdMetadataCount) {
  put<uint64_t>(16, std::numeric_limits<uint64_t>::max());
  expect_error(fmt::format("corrupt metadata count 18446744073709551615 at byte 16 while reading "
                           "the header (the file has only {} bytes)",
                           bytes_.size()));
}

TEST_F(GGUFBadFile, ArrayLargerThanTheElementLimit) {
  // A real 16 MiB+ file would be needed on disk; the in-memory entry point parses the same.
  GGUFWriter w;
  w.set("big", GGUFValue::of_array(GGUFType::UINT8, {}));
  auto big = w.to_bytes();
  const size_t count_at = 24 + 8 + 3 + 4 + 4;  // key "big", type, element type
  const uint64_t count = (uint64_t{1} << 24) + 1;
  std::memcpy(big.data() + count_at, &count, 8);
  big.resize(big.size() + count);
  hearth::test::expect_error<FormatError>(
      [&] { GGUFFile::open_memory(big, "big.gguf"); },
      fmt::format("big.gguf: array of 16777217 elements at byte {} while reading the value of "
                  "metadata key 'big' exceeds the limit of 16777216 elements",
                  count_at));
}

TEST_F(GGUFBadFile, UnknownValueType) {
  put<uint32_t>(after("test.key_a"), 13);
  expect_error("metadata key 'test.key_a' has unknown value type 13");
}

TEST_F(GGUFBadFile, UnknownArrayElementType) {
  put<uint32_t>(after("test.list") + 4, 42);
  expect_error("unknown array element type 42 while reading the value of metadata key 'test.list'");
}

TEST_F(GGUFBadFile, ArraysNestedTooDeep) {
  GGUFValue v = GGUFValue::of_i32s({1});
  for (int i = 0; i < 16; ++i) v = GGUFValue::of_array(GGUFType::ARRAY, {v});
  GGUFWriter w;
  w.set("deep", v);
  bytes_ = w.to_bytes();
  expect_error("arrays nested more than 16 levels deep while reading the value of metadata key "
               "'deep'");
}

TEST_F(GGUFBadFile, DuplicateMetadataKey) {
  std::memcpy(bytes_.data() + after("test.key_b") - 1, "a", 1);
  expect_error("metadata key 'test.key_a' appears twice");
}

TEST_F(GGUFBadFile, AlignmentNotAPowerOfTwo) {
  put<uint32_t>(after("general.alignment") + 4, 48);
  expect_error("general.alignment is 48; it must be a power of two");
}

TEST_F(GGUFBadFile, AlignmentOfTheWrongType) {
  put<uint32_t>(after("general.alignment"), static_cast<uint32_t>(GGUFType::INT32));
  expect_error("metadata key 'general.alignment' has type INT32, expected UINT32");
}

TEST_F(GGUFBadFile, TooManyDimensions) {
  put<uint32_t>(after(kQ), 5);
  expect_error(fmt::format("tensor '{}' has 5 dimensions (at most 4 are supported)", kQ));
}

TEST_F(GGUFBadFile, ZeroDimension) {
  put<uint64_t>(after(kQ) + 4 + 8, 0);  // the outer dimension (GGUF lists it second)
  expect_error(fmt::format("tensor '{}' has invalid shape [0, 4] (every dimension must be at "
                           "least 1)",
                           kQ));
}

TEST_F(GGUFBadFile, NegativeDimension) {
  put<int64_t>(after(kQ) + 4, -4);
  expect_error(fmt::format("tensor '{}' has invalid shape [2, -4] (every dimension must be at "
                           "least 1)",
                           kQ));
}

TEST_F(GGUFBadFile, ElementCountOverflow) {
  put<uint64_t>(after(kQ) + 4, uint64_t{1} << 32);
  put<uint64_t>(after(kQ) + 12, uint64_t{1} << 32);
  expect_error(fmt::format("tensor '{}' has shape [4294967296, 4294967296], whose element count "
                           "overflows 64 bits",
                           kQ));
}

TEST_F(GGUFBadFile, ByteCountOverflow) {
  // 2^62 F32 elements fit in int64 but take 2^64 bytes.
  put<uint64_t>(after(kQ) + 4, uint64_t{1} << 31);
  put<uint64_t>(after(kQ) + 12, uint64_t{1} << 31);
  expect_error(fmt::format("tensor '{}' with shape [2147483648, 2147483648] and type F32 is "
                           "larger than 2^64 bytes",
                           kQ));
}

TEST_F(GGUFBadFile, MisalignedTensorOffset) {
  put<uint64_t>(after(kK) + 4 + 16 + 4, 33);
  expect_error(fmt::format("tensor '{}' offset 33 is not a multiple of the alignment 32", kK));
}

TEST_F(GGUFBadFile, DuplicateTensorName) {
  std::memcpy(bytes_.data() + after(kK) - 8, "q", 1);  // blk.0.attn_k -> blk.0.attn_q
  expect_error(fmt::format("tensor '{}' appears twice", kQ));
}

TEST_F(GGUFBadFile, RowNotAMultipleOfTheBlockSize) {
  put<uint64_t>(after(kK) + 4, 16);  // Q8_0 rows of 16 elements
  expect_error(fmt::format("tensor '{}' has rows of 16 elements, not a multiple of the Q8_0 "
                           "block size 32",
                           kK));
}

TEST_F(GGUFBadFile, UnsupportedTensorType) {
  put<uint32_t>(after(kQ) + 4 + 16, 13);
  expect_error(fmt::format("tensor '{}' has type Q5_K, which hearth does not support (supported: "
                           "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)",
                           kQ));
}

TEST_F(GGUFBadFile, UnknownTensorType) {
  put<uint32_t>(after(kQ) + 4 + 16, 999);
  expect_error(fmt::format("tensor '{}' has unknown type 999, which hearth does not support "
                           "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)",
                           kQ));
}

TEST_F(GGUFBadFile, ControlCharactersInNamesStayOnOneLine) {
  std::memcpy(bytes_.data() + after(kQ) - 7, "\n", 1);  // blk.0.attn_q\nweight
  put<uint32_t>(after("blk.0.attn_q\nweight") + 4 + 16, 13);
  expect_error("tensor 'blk.0.attn_q\\x0aweight' has type Q5_K, which hearth does not support "
               "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
}

TEST_F(GGUFBadFile, EveryTruncationFailsCleanly) {
  // No prefix of a valid file may crash, hang or be accepted (only the zero padding after
  // the last tensor may be cut).
  const auto full = bytes_;
  for (size_t n = 0; n < data_start() + 32 + 34; ++n) {
    EXPECT_THROW(GGUFFile::open_memory(std::span(full.data(), n), "prefix"), FormatError) << n;
  }
}

}  // namespace
