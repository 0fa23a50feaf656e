// Python str semantics used by the template engine: float and string repr, split/strip/
// replace/find on code points, slicing indices, splitlines, case mapping, UTF-8 checks.
// Expected values are what CPython 3.11 prints for the same calls.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "template/builtins_internal.h"
#include "template/pystr.h"

namespace py = hearth::tmpl::py;

namespace {

TEST(PyStr, FloatReprIsShortestRoundTripInPythonLayout) {
  const std::pair<double, const char*> cases[] = {
      {1.0, "1.0"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.0 / 3, "0.3333333333333333"},
      {2.5e-10, "2.5e-10"},
      {-0.0, "-0.0"},
      {123456789.123, "123456789.123"},
      {1e-300, "1e-300"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {5e-324, "5e-324"},
      {100.0, "100.0"},
      {1e22, "1e+22"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {-0.5, "-0.5"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(py::float_repr(value), expected);
}

TEST(PyStr, ReprPicksQuotesAndEscapesLikePython) {
  EXPECT_EQ(py::repr("it's"), "\"it's\"");
  EXPECT_EQ(py::repr("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(py::repr("both ' \""), "'both \\' \"'");
  EXPECT_EQ(py::repr(std::string("\n\t\\ \xC3\xA9 \xE2\x80\x8B \0 \x7F \xF0\x9F\x98\x80 \xC2\xA0 \xE2\x80\xA8", 26)),
            "'\\n\\t\\\\ \xC3\xA9 \\u200b \\x00 \\x7f \xF0\x9F\x98\x80 \\xa0 \\u2028'");
}

TEST(PyStr, SplitLikePython) {
  using V = std::vector<std::string>;
  EXPECT_EQ(py::split("  a  b\t c\n", std::nullopt, -1, false), (V{"a", "b", "c"}));
  EXPECT_EQ(py::split("a,,b", std::string(","), -1, false), (V{"a", "", "b"}));
  EXPECT_EQ(py::split("a b c", std::nullopt, 1, false), (V{"a", "b c"}));
  EXPECT_EQ(py::split("a b c", std::nullopt, 1, true), (V{"a b", "c"}));
  EXPECT_EQ(py::split("  a b  ", std::nullopt, 1, true), (V{"  a", "b"}));
  EXPECT_EQ(py::split("  a b  c  ", std::nullopt, 1, false), (V{"a", "b  c  "}));
  EXPECT_EQ(py::split("  x  ", std::nullopt, 0, true), V{"  x"});
  EXPECT_EQ(py::split("a,b,c", std::string(","), 1, true), (V{"a,b", "c"}));
  EXPECT_EQ(py::split("", std::nullopt, -1, false), V{});
  EXPECT_EQ(py::split("", std::string(","), -1, false), V{""});
  EXPECT_THROW(py::split("a", std::string(""), -1, false), std::invalid_argument);
}

TEST(PyStr, StripReplaceFindCount) {
  EXPECT_EQ(py::strip("xxhixx", std::string("x"), py::StripSide::Both), "hi");
  EXPECT_EQ(py::strip("\xE3\x80\x80 a \xC2\xA0", std::nullopt, py::StripSide::Both), "a");  // Unicode spaces
  EXPECT_EQ(py::strip("  a  ", std::nullopt, py::StripSide::Left), "a  ");
  EXPECT_EQ(py::replace("aXbXc", "X", "", 1), "abXc");
  EXPECT_EQ(py::replace("ab", "", "-", -1), "-a-b-");
  EXPECT_EQ(py::find("h\xC3\xA9llo", "l", false), 2);  // code point index, not byte
  EXPECT_EQ(py::find("h\xC3\xA9llo", "l", true), 3);
  EXPECT_EQ(py::find("abc", "z", false), -1);
  EXPECT_EQ(py::count("aaaa", "aa"), 2);
  EXPECT_EQ(py::count("abc", ""), 4);
}

TEST(PyStr, SliceIndicesFollowPythonRules) {
  auto pick = [](int64_t n, std::optional<int64_t> a, std::optional<int64_t> b, std::optional<int64_t> c) {
    return py::slice_indices(n, a, b, c).positions;
  };
  using P = std::vector<size_t>;
  EXPECT_EQ(pick(10, 7, 2, -2), (P{7, 5, 3}));
  EXPECT_EQ(pick(5, -2, std::nullopt, std::nullopt), (P{3, 4}));
  EXPECT_EQ(pick(5, std::nullopt, std::nullopt, -1), (P{4, 3, 2, 1, 0}));
  EXPECT_EQ(pick(5, 10, std::nullopt, std::nullopt), P{});
  EXPECT_EQ(pick(5, -10, 2, std::nullopt), (P{0, 1}));
  EXPECT_THROW(pick(5, 0, 5, 0), std::invalid_argument);
  EXPECT_EQ(py::select_code_points("h\xC3\xA9llo", {1, 2}), "\xC3\xA9l");
}

TEST(PyStr, SplitlinesAndCaseMapping) {
  using V = std::vector<std::string>;
  EXPECT_EQ(hearth::tmpl::builtin::splitlines("x\r\ny\rz\vw\xE2\x80\xA8v\n"), (V{"x", "y", "z", "w", "v"}));
  EXPECT_EQ(py::title("hello world"), "Hello World");
  EXPECT_EQ(py::title("they're"), "They'Re");
  EXPECT_EQ(py::upper("\xC3\x9F"), "SS");  // German sharp s
  EXPECT_EQ(py::capitalize("hELLO"), "Hello");
  EXPECT_EQ(py::lower("ABC"), "abc");
}

TEST(PyStr, Utf8Validation) {
  EXPECT_TRUE(py::is_valid_utf8("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(py::is_valid_utf8("\xFF"));
  EXPECT_FALSE(py::is_valid_utf8("\xC3"));          // cut short
  EXPECT_FALSE(py::is_valid_utf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(py::is_valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_EQ(py::length("h\xC3\xA9llo\xF0\x9F\x98\x80"), 6u);
}

TEST(PyStr, JsonStringsLikeJsonDumps) {
  std::string out;
  py::append_json_string(out, "a\"b\\c\n\x01\x7F\xC3\xA9\xF0\x9F\x98\x80", false);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\x7F\xC3\xA9\xF0\x9F\x98\x80\"");
  out.clear();
  py::append_json_string(out, "\x7F\xC3\xA9\xF0\x9F\x98\x80", true);
  EXPECT_EQ(out, "\"\\u007f\\u00e9\\ud83d\\ude00\"");
}

}  // namespace
