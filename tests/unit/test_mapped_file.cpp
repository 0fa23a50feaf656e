// MappedFile: contents, empty files, errors, move semantics.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/mapped_file.h"
#include "unit/io_test_helpers.h"

using namespace hearth;
using namespace hearth::io;
using namespace hearth::test;

namespace {

TEST(MappedFile, MapsTheWholeFile) {
  TempDir dir;
  write_text(dir.file("f.bin"), "hello, mapped world");
  const auto f = MappedFile::open(dir.file("f.bin"));
  EXPECT_EQ(f.path(), dir.file("f.bin"));
  ASSERT_EQ(f.size(), 19u);
  EXPECT_EQ(std::memcmp(f.data(), "hello, mapped world", 19), 0);
  EXPECT_EQ(f.bytes().size(), 19u);
}

TEST(MappedFile, EmptyFileWorks) {
  TempDir dir;
  write_text(dir.file("empty"), "");
  const auto f = MappedFile::open(dir.file("empty"));
  EXPECT_EQ(f.size(), 0u);
  EXPECT_NE(f.data(), nullptr);
  EXPECT_TRUE(f.bytes().empty());
}

TEST(MappedFile, ErrorsNameThePathAndReason) {
  TempDir dir;
  expect_error<Error>([&] { MappedFile::open(dir.file("missing")); },
                      "cannot open " + dir.file("missing") + ": No such file or directory");
  expect_error<Error>([&] { MappedFile::open(dir.path().string()); },
                      "cannot open " + dir.path().string() + ": Is a directory");
}

TEST(MappedFile, MoveKeepsTheMapping) {
  TempDir dir;
  write_text(dir.file("f.bin"), "abc");
  auto a = MappedFile::open(dir.file("f.bin"));
  const uint8_t* p = a.data();
  MappedFile b = std::move(a);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  write_text(dir.file("g.bin"), "defg");
  b = MappedFile::open(dir.file("g.bin"));
  EXPECT_EQ(b.size(), 4u);
  EXPECT_EQ(std::memcmp(b.data(), "defg", 4), 0);
}

}  // namespace
