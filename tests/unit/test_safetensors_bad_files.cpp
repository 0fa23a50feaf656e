// Every malformed-safetensors case, each a file written to a temp folder and checked for
// its exact one-line message.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/safetensors.h"
#include "unit/io_test_helpers.h"
#include "unit/safetensors_test_writer.h"

using namespace hearth;
using namespace hearth::io;
using namespace hearth::test;

namespace {

class SafetensorsBadFile : public ::testing::Test {
 protected:
  std::string write(const std::vector<uint8_t>& bytes) {
    write_bytes(path_, bytes);
    return path_;
  }
  // A file whose header is `header` and whose data section is `data_bytes` zero bytes.
  void expect_header_error(const std::string& header, size_t data_bytes, const std::string& message) {
    write(raw_safetensors(header, std::vector<uint8_t>(data_bytes)));
    expect_error<FormatError>([&] { SafetensorsFile::open(path_); }, path_ + ": " + message);
  }
  void expect_bytes_error(const std::vector<uint8_t>& bytes, const std::string& message) {
    write(bytes);
    expect_error<FormatError>([&] { SafetensorsFile::open(path_); }, path_ + ": " + message);
  }

  TempDir dir_;
  std::string path_ = dir_.file("bad.safetensors");
};

std::vector<uint8_t> with_header_length(uint64_t n, size_t total) {
  std::vector<uint8_t> b(total, ' ');
  std::memcpy(b.data(), &n, 8);
  return b;
}

TEST_F(SafetensorsBadFile, TooSmall) {
  expect_bytes_error({1, 2, 3, 4, 5}, "too small to be a safetensors file (5 bytes)");
}

TEST_F(SafetensorsBadFile, HeaderLengthAboveTheLimit) {
  expect_bytes_error(with_header_length(200'000'000, 64),
                     "header length 200000000 exceeds the 100 MB limit (not a safetensors file?)");
}

TEST_F(SafetensorsBadFile, HeaderLengthPastTheEnd) {
  expect_bytes_error(with_header_length(1000, 50),
                     "header length 1000 extends past the end of the file (size 50)");
}

TEST_F(SafetensorsBadFile, InvalidJson) {
  write(raw_safetensors("{\"a\": }", {}));
  try {
    SafetensorsFile::open(path_);
    ADD_FAILURE() << "expected an error";
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.starts_with(path_ + " (header): invalid JSON: parse error at line 1, column 7"))
        << msg;
  }
}

TEST_F(SafetensorsBadFile, InvalidUtf8InHeader) {
  write(raw_safetensors("{\"\xff\": 1}", {}));
  EXPECT_THROW(SafetensorsFile::open(path_), FormatError);
}

TEST_F(SafetensorsBadFile, HeaderNotAnObject) {
  expect_header_error("[1, 2]", 0, "the header is not a JSON object");
}

TEST_F(SafetensorsBadFile, EntryNotAnObject) {
  expect_header_error(R"({"t": 5})", 0, "tensor 't' is not described by a JSON object");
}

TEST_F(SafetensorsBadFile, MissingDtype) {
  expect_header_error(R"({"t": {"shape": [1], "data_offsets": [0, 4]}})", 4,
                      "tensor 't' has no \"dtype\" string");
}

TEST_F(SafetensorsBadFile, UnsupportedDtype) {
  expect_header_error(R"({"position_ids": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})",
                      8,
                      "tensor 'position_ids' has dtype I64, which hearth does not support "
                      "(supported: F32, F16, BF16)");
}

TEST_F(SafetensorsBadFile, MissingShape) {
  expect_header_error(R"({"t": {"dtype": "F32", "data_offsets": [0, 4]}})", 4,
                      "tensor 't' has no \"shape\" list");
}

TEST_F(SafetensorsBadFile, NegativeOrFractionalDimension) {
  const std::string msg = "tensor 't' has an invalid \"shape\" (dimensions must be non-negative integers)";
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4, msg);
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4, msg);
  expect_header_error(R"({"t": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})", 4, msg);
}

TEST_F(SafetensorsBadFile, ElementCountOverflow) {
  expect_header_error(
      R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})", 4,
      "tensor 't' has shape [4294967296, 4294967296], whose element count overflows 64 bits");
}

TEST_F(SafetensorsBadFile, MissingOrMalformedOffsets) {
  const std::string msg = "tensor 't' has no valid \"data_offsets\" (expected [begin, end])";
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [1]}})", 4, msg);
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4, msg);
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, -4]}})", 4, msg);
}

TEST_F(SafetensorsBadFile, BeginAfterEnd) {
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8,
                      "tensor 't' has data_offsets [8, 4] with begin after end");
}

TEST_F(SafetensorsBadFile, OffsetsPastTheEnd) {
  expect_header_error(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 6,
                      "tensor 't' (data_offsets [0, 8]) extends past the end of the file (the data "
                      "section has 6 bytes)");
}

TEST_F(SafetensorsBadFile, SizeDoesNotMatchShape) {
  expect_header_error(R"({"t": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 8]}})", 8,
                      "tensor 't' has 8 bytes of data, but F16 with shape [2, 3] needs 6 elements "
                      "x 2 bytes");
}

TEST_F(SafetensorsBadFile, MetadataNotAnObject) {
  expect_header_error(R"({"__metadata__": "pt"})", 0, "\"__metadata__\" is not a JSON object");
}

TEST_F(SafetensorsBadFile, ControlCharactersInNamesStayOnOneLine) {
  expect_header_error(R"({"a\nb": {"dtype": "I8", "shape": [1], "data_offsets": [0, 1]}})", 1,
                      "tensor 'a\\x0ab' has dtype I8, which hearth does not support (supported: "
                      "F32, F16, BF16)");
}

TEST_F(SafetensorsBadFile, EveryTruncationFailsCleanly) {
  const auto full = make_safetensors({{"a", "F32", {2}, f32_bytes({1, 2})},
                                      {"b", "F16", {3}, std::vector<uint8_t>(6, 1)}},
                                     {{"format", "pt"}});
  ASSERT_NO_THROW(SafetensorsFile::parse(full));
  for (size_t n = 0; n < full.size(); ++n)
    EXPECT_THROW(SafetensorsFile::parse(std::span(full.data(), n), "prefix"), FormatError) << n;
}

}  // namespace
